"""The GX patch for DuckDB: needed, sufficient, and still attached to what it patches."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import Build

PROBE = """
import great_expectations as gx
from microseg import gx_duckdb
if {patched}:
    gx_duckdb.use_persisted_connection()
context = gx.get_context(mode="ephemeral")
source = context.data_sources.add_sql(name="db", connection_string="duckdb:///{db}")
asset = source.add_query_asset(name="sessions", query="select * from main_marts.fct_sessions")
batch = asset.add_batch_definition_whole_table("all").get_batch()
result = batch.validate(gx.expectations.ExpectTableRowCountToBeBetween(min_value=0))
print("observed", result.result.get("observed_value"))
result = batch.validate(gx.expectations.ExpectColumnMaxToBeBetween(column="event_count"))
print("observed", result.result.get("observed_value"))
"""


def _probe(db: str, patched: bool) -> list[str]:
    code = textwrap.dedent(PROBE.format(db=db, patched=patched))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("observed")]


def test_patched_gx_reads_duckdb_metrics(demo_build: Build) -> None:
    rows, longest = (
        demo_build.scalar("select count(*) from fct_sessions"),
        demo_build.scalar("select max(event_count) from fct_sessions"),
    )
    assert _probe(str(demo_build.db_path), patched=True) == [str(rows), str(longest)]


def test_unpatched_gx_still_loses_duckdb_column_metrics(demo_build: Build) -> None:
    """If this fails, GX fixed the bug upstream and microseg.gx_duckdb can go."""
    observed = _probe(str(demo_build.db_path), patched=False)
    assert observed[1] == "None"
