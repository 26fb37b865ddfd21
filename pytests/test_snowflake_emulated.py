"""The project's Snowflake SQL, run on an emulated Snowflake, gives what DuckDB gives.

fakesnow (`pytests/support/fakesnow_shim.py`) emulates Snowflake in-process on DuckDB: dbt-snowflake
connects to it as to a warehouse. The same generated events are built in two batches split
by `received_at` (the second run is incremental) on the emulator (target `fakesnow`) and
on DuckDB (target `dev`); every model's row count and per-column aggregates must match.

On the same emulator, `dbt compile --target snowflake` renders the production target's SQL.
Compiling needs a connection (dbt looks up which relations exist, which decides
`is_incremental()`), so it runs while fakesnow stands in for `snowflake.connector.connect`,
with dummy credentials: the target really is `snowflake`, no name is faked. It compiles once
before the first build (full-refresh branches) and once after the second (incremental
branches); every compiled model and test must parse as Snowflake SQL (sqlglot) and contain
no DuckDB-only construct (`pytests/support/portability.py`).

What this cannot show: that Snowflake itself accepts every function the emulator
translates (fakesnow maps unknown functions through to DuckDB), column comments
(persist_docs, not stored by fakesnow), or Snowflake's own `hash()` values, which decide
tie-breaks between otherwise equal raw rows.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from conftest import write_activation_inputs, write_raw_tables
from microseg.export import export
from microseg.generate import GeneratorConfig, generate
from microseg.ledger import NotPublishable as NotPublished
from microseg.project import DbtResult, project_dir, run_dbt
from microseg.publish import LOG_NAME, publish
from microseg.summary import render
from microseg.validate import validate
from microseg.warehouse import Target
from support.fakesnow_shim import (
    ISSUED_GRANTS,
    compile_inline,
    emulated_snowflake,
    load_raw_tables,
    run_dbt_emulated,
)
from support.portability import duckdb_only_constructs

pytestmark = [
    # fakesnow materialises every result as Arrow; DuckDB warns about the extra copy.
    pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning"),
    # The connector's vendored requests checks for older urllib3 and chardet releases.
    pytest.mark.filterwarnings("ignore:urllib3 .* doesn.t match a supported version"),
]
MODELS = sorted(path.stem for path in (project_dir() / "models").rglob("*.sql"))
READER_ROLES = ["analyst", "reverse_etl"]
# The tracker adapters, enabled only by microseg__event_source (pytests/test_adapters.py).
ADAPTERS = {f"base_{tracker}__events" for tracker in ("segment", "snowplow", "ga4")}
INCREMENTAL_CTES = {
    "base_tracking__events": "window_bounds",
    "int_sessionized_events": "restarts",
    "int_sessions": "affected_devices",
}
# Fingerprints (raw_row_hash, *_fingerprint): their values differ by warehouse by design, so
# only their counts are compared.
HASHED_COLUMNS = {"raw_row_hash"}
FIRST_BATCH_QUANTILE = 0.7
DUMMY_SNOWFLAKE_ENV = {
    "SNOWFLAKE_ACCOUNT": "emulated",
    "SNOWFLAKE_USER": "emulated",
    "SNOWFLAKE_PASSWORD": "emulated",
    "SNOWFLAKE_PRIVATE_KEY_PATH": "",
    "SNOWFLAKE_ROLE": "emulated",
    "SNOWFLAKE_WAREHOUSE": "emulated",
    # The fakesnow target's database and schema, so that compiling sees its relations.
    "SNOWFLAKE_DATABASE": "microseg",
    "SNOWFLAKE_SCHEMA": "microseg",
}


def _write_first_batch(source: Path, target: Path, received_until: object) -> None:
    """The raw tables as they stood when everything received up to the cut-off had landed."""
    write_raw_tables(source, target, f"coalesce(received_at <= '{received_until}', true)")


def _relations(target_path: Path) -> dict[str, str]:
    """Model name -> its relation, from the manifest of a run (ephemeral models have none)."""
    nodes = json.loads((target_path / "manifest.json").read_text())["nodes"].values()
    return {
        node["name"]: f"{node['database']}.{node['schema']}.{node['alias']}"
        for node in nodes
        if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral"
    }


def _aggregate_sql(relation: str, columns: list[tuple[str, str]]) -> tuple[list[str], str]:
    """Labels and one query (valid on both warehouses) of a relation's aggregates."""
    labels, expressions = ["rows"], ["count(*)"]
    for name, kind in columns:
        kind = kind.upper()
        labels += [f"{name} non-null", f"{name} distinct"]
        expressions += [f"count({name})", f"count(distinct {name})"]
        if kind == "BOOLEAN":
            labels.append(f"{name} true")
            expressions.append(f"sum(case when {name} then 1 else 0 end)")
        elif kind.startswith("TIMESTAMP"):
            labels += [f"{name} min", f"{name} max"]
            expressions += [f"min({name})", f"max({name})"]
        elif (
            name not in HASHED_COLUMNS
            and not name.endswith("_fingerprint")
            and kind.startswith(("DECIMAL", "DOUBLE", "FLOAT", "BIGINT", "INTEGER", "HUGEINT"))
        ):
            labels.append(f"{name} sum")
            expressions.append(f"sum({name})")
    return labels, f"select {', '.join(expressions)} from {relation}"


def _comparable(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal | float) else value


def _equal(left: Any, right: Any) -> bool:
    """Sums of floats may differ in the last bits with the order of addition."""
    if isinstance(left, float) and isinstance(right, float):
        return left == pytest.approx(right, rel=1e-9)
    return left == right


def _parse_failures(compiled: Path) -> dict[str, str]:
    failures = {}
    for path in sorted(compiled.rglob("*.sql")):
        try:
            statements = sqlglot.parse(
                path.read_text(), read="snowflake", error_level=ErrorLevel.RAISE
            )
        except sqlglot.errors.ParseError as error:
            failures[path.name] = str(error).splitlines()[0]
            continue
        # sqlglot keeps what it cannot parse as an opaque command instead of failing.
        if any(isinstance(statement, exp.Command) for statement in statements):
            failures[path.name] = "not parsed (kept as an opaque command)"
    return failures


def _digests(cursor: Any, schema: str, names: list[str]) -> dict[str, tuple]:
    """Per table: row count and an order-free digest of every row (Snowflake SQL)."""
    digests = {}
    for name in names:
        columns = [
            row[0] for row in cursor.execute(f"select * from {schema}.{name} limit 0").description
        ]
        digests[name] = tuple(
            cursor.execute(
                f"select count(*), sum(hash({', '.join(columns)})) from {schema}.{name}"
            ).fetchone()
        )
    return digests


def _segment_sizes(cursor: Any, schema: str) -> dict[str, tuple[str, int]]:
    rows = cursor.execute(
        f"select segment_key, origin, member_count from {schema}.dim_segments"
    ).fetchall()
    return {key: (origin, int(members)) for key, origin, members in rows}


def _publication_cycle(where: Any, root: Path, label: str) -> dict[str, Any]:
    """validate -> publish -> export on a target, as `microseg` runs them."""
    passed, outcomes, _ = validate(where, root / f"{label}_gate")
    with mock.patch("microseg.publish.reader_roles", return_value=READER_ROLES):
        published = publish(where)
    files = export(where, root / f"{label}_export")
    return {"passed": passed, "outcomes": outcomes, "published": published, "files": files}


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("snowflake")
    full_dir = root / "full_data"
    manifest = generate(GeneratorConfig(events=30_000, seed=23), full_dir)
    as_of = str(manifest["last_event_at"])
    cutoff = (
        duckdb.connect()
        .execute(
            f"select quantile_disc(received_at, {FIRST_BATCH_QUANTILE}) "
            f"from '{full_dir / 'events.parquet'}' where received_at <= '{as_of}'"
        )
        .fetchall()[0][0]
    )
    write_activation_inputs(full_dir, as_of)
    first_dir = root / "first_batch"
    _write_first_batch(full_dir, first_dir, cutoff)
    # Unit tests do not depend on the data: they run in the first build only. Each batch is
    # built at its own clock (its last receipt), as a scheduled run would be.
    builds = [
        (first_dir, ["build"], str(cutoff)),
        (full_dir, ["build", "--exclude-resource-type", "unit_test"], as_of),
    ]
    fake = Target("fakesnow", folder=root / "fakesnow")
    published_schema = fake.layer("published")

    snowflake: dict[str, Any] = {"results": [], "raw_rows": []}
    with emulated_snowflake() as connection:
        # dbt's threads connect at once; fakesnow creates a missing schema on each connect
        # and the losers of that race fail with "already exists". Create it first.
        connection.cursor().execute(
            f"create schema if not exists {DUMMY_SNOWFLAKE_ENV['SNOWFLAKE_SCHEMA']}"
        )
        with mock.patch.dict(os.environ, DUMMY_SNOWFLAKE_ENV):
            snowflake["compile_full"] = run_dbt_emulated(
                ["compile"], target="snowflake", work_dir=root / "compile_full", as_of=as_of
            )
        for data_dir, args, clock in builds:
            snowflake["raw_rows"].append(load_raw_tables(connection, data_dir))
            snowflake["results"].append(
                run_dbt_emulated(args, work_dir=root / "fakesnow", as_of=clock)
            )
        with mock.patch.dict(os.environ, DUMMY_SNOWFLAKE_ENV):
            snowflake["compile_incremental"] = run_dbt_emulated(
                ["compile"], target="snowflake", work_dir=root / "compile_incremental", as_of=as_of
            )
        relations = _relations(root / "fakesnow" / "target")
        # The second build's two phases (microseg.project.run_dbt).
        run_results = [
            result
            for name in ("run_results_first_phase.json", "run_results.json")
            for result in json.loads((root / "fakesnow" / "target" / name).read_text())["results"]
        ]
        cursor = connection.cursor()
        snowflake["cycle"] = _publication_cycle(fake, root, "fakesnow")
        snowflake["grants"] = list(ISSUED_GRANTS)
        snowflake["segments"] = _segment_sizes(cursor, published_schema)
        snowflake["summary"] = render(fake, snowflake["results"][-1], 0.0, "emulated")
        public = snowflake["cycle"]["published"]
        before = _digests(cursor, published_schema, [*public, LOG_NAME])
        # A row written into the audit schema behind the gate's back: the gate fails on it
        # and publication must leave the published schema exactly as it was.
        sync = relations["sync_email_audiences"]
        cursor.execute(f"create table {root.name}_extra as select * from {sync} limit 1")
        cursor.execute(f"update {root.name}_extra set user_id = 'nobody-consented'")
        cursor.execute(f"insert into {sync} select * from {root.name}_extra")
        snowflake["failing_gate"] = validate(fake, root / "fakesnow_gate_again")[0]
        with pytest.raises(NotPublished) as refused:
            publish(fake)
        snowflake["refusal"] = str(refused.value)
        snowflake["published_before"] = before
        snowflake["published_after"] = _digests(cursor, published_schema, [*public, LOG_NAME])
        cursor.execute(f"delete from {sync} where user_id = 'nobody-consented'")

        duck_db = root / "duckdb" / "microseg.duckdb"
        duck_results = [
            run_dbt(args, data_dir=data_dir, db_path=duck_db, as_of=clock)
            for data_dir, args, clock in builds
        ]
        duck_cycle = _publication_cycle(duck_db, root, "duckdb")
        with duckdb.connect(str(duck_db), read_only=True) as con:
            duck_cycle["segments"] = _segment_sizes(con, "main_published")
        duck_relations = _relations(duck_db.parent / "target")
        duck = duckdb.connect(str(duck_db), read_only=True)
        aggregates: dict[str, tuple[list[str], list, list]] = {}
        targets = {model: (relations[model], duck_relations[model]) for model in MODELS
                   if model in duck_relations}  # fmt: skip
        for name in public:
            targets[f"published.{name}"] = (f"{published_schema}.{name}", f"main_published.{name}")
        for model, (snowflake_relation, duck_relation) in targets.items():
            columns = duck.execute(f"describe {duck_relation}").fetchall()
            labels, query = _aggregate_sql(snowflake_relation, [(c[0], c[1]) for c in columns])
            _, duck_query = _aggregate_sql(duck_relation, [(c[0], c[1]) for c in columns])
            aggregates[model] = (
                labels,
                [_comparable(v) for v in cursor.execute(query).fetchall()[0]],
                [_comparable(v) for v in duck.execute(duck_query).fetchall()[0]],
            )
        duck.close()
    return {
        "root": root,
        "snowflake": snowflake,
        "duckdb": duck_results,
        "duck_cycle": duck_cycle,
        "aggregates": aggregates,
        "compiled_code": {
            result["unique_id"].split(".")[-1]: result.get("compiled_code") or ""
            for result in run_results
        },
    }


def _assert_succeeded(result: DbtResult) -> None:
    assert result.success, result.failures
    assert not result.failures


def test_both_batches_build_on_emulated_snowflake_with_all_tests(emulated: dict) -> None:
    first, second = emulated["snowflake"]["results"]
    _assert_succeeded(first)
    _assert_succeeded(second)
    assert sum(1 for name in first.timings if "triage" in name) >= 3, "unit tests did not run"
    assert first.counts.get("pass", 0) >= 80
    first_rows, all_rows = emulated["snowflake"]["raw_rows"]
    assert first_rows["events"] < all_rows["events"]


def test_second_batch_ran_incrementally(emulated: dict) -> None:
    compiled = emulated["compiled_code"]
    for model, cte in INCREMENTAL_CTES.items():
        assert f"{cte} as (" in compiled[model], f"{model} was not built incrementally"


def test_duckdb_reference_builds(emulated: dict) -> None:
    for result in emulated["duckdb"]:
        _assert_succeeded(result)


@pytest.mark.parametrize("model", MODELS)
def test_model_matches_duckdb(emulated: dict, model: str) -> None:
    if model in ADAPTERS:
        pytest.skip(f"{model} is a tracker adapter, disabled for contract events")
    if model not in emulated["aggregates"]:
        pytest.skip(f"{model} is ephemeral: compared through the models that read it")
    labels, snowflake, duck = emulated["aggregates"][model]
    # Nobody asked to be erased in the generated data: those tables are empty on both.
    erasures = ("base_privacy__erasures", "stg_privacy__erasures")
    assert duck[0] > 0 or model in erasures, f"{model} is empty on DuckDB"
    differences = {
        label: (snowflake_value, duck_value)
        for label, snowflake_value, duck_value in zip(labels, snowflake, duck, strict=True)
        if not _equal(snowflake_value, duck_value)
    }
    assert not differences, f"{model} (emulated Snowflake, DuckDB): {differences}"


@pytest.mark.parametrize("phase", ["compile_full", "compile_incremental"])
def test_compiled_snowflake_sql_parses(emulated: dict, phase: str) -> None:
    _assert_succeeded(emulated["snowflake"][phase])
    compiled = emulated["root"] / phase / "target" / "compiled"
    assert len(list(compiled.rglob("*.sql"))) >= len(MODELS)
    assert _parse_failures(compiled) == {}
    if phase == "compile_incremental":
        int_sessions = next(compiled.rglob("int_sessions.sql")).read_text()
        assert "affected_devices as (" in int_sessions, "incremental branches were not compiled"


@pytest.mark.parametrize("phase", ["compile_full", "compile_incremental"])
def test_compiled_snowflake_sql_has_no_duckdb_only_constructs(emulated: dict, phase: str) -> None:
    compiled = emulated["root"] / phase / "target" / "compiled"
    found = {
        path.name: constructs
        for path in sorted(compiled.rglob("*.sql"))
        if (constructs := duckdb_only_constructs(path.read_text()))
    }
    assert found == {}


def test_safe_cast_turns_bad_text_into_null_and_keeps_timestamps(tmp_path: Path) -> None:
    """snowflake__safe_cast on text and on typed values. The raw tables of the build hold
    typed values only; text is how other loaders deliver them. The typed-timestamp branch
    (`as_timestamp_ntz`) is emulated by the shim, so only the text branches are fakesnow's."""
    casts = {
        "text_time": "dbt.type_timestamp()",
        "typed_time": "dbt.type_timestamp()",
        "text_number": "dbt.type_numeric()",
        "text_flag": "dbt.type_boolean()",
        "text_year": "dbt.type_int()",
    }
    snippet = ", ".join(
        f"{{{{ microseg.safe_cast('{column}', {kind}) }}}} as {column}"
        for column, kind in casts.items()
    )
    with emulated_snowflake() as connection:
        cursor = connection.cursor()
        cursor.execute(
            "create table raw.values_to_cast (text_time varchar, typed_time timestamp_ntz, "
            "text_number varchar, text_flag varchar, text_year varchar)"
        )
        cursor.execute(
            "insert into raw.values_to_cast values "
            "('2024-05-06 07:08:09.123', '2024-05-06 07:08:09.123456', '12.5', 'true', '1984'), "
            "('not a time', null, 'twelve', 'maybe', '1984 AD')"
        )
        sql = compile_inline(f"select {snippet} from raw.values_to_cast", target_path=tmp_path)
        assert "as_timestamp_ntz" in sql, sql
        rows = cursor.execute(f"{sql} order by text_number").fetchall()
    assert rows == [
        (datetime(2024, 5, 6, 7, 8, 9, 123000), datetime(2024, 5, 6, 7, 8, 9, 123456),
         Decimal("12.5"), True, 1984),
        (None, None, None, None, None),
    ]  # fmt: skip


@pytest.mark.skip(
    reason="not checkable on the emulator: sqlglot cannot parse dbt-snowflake's "
    '`alter table t alter "c" comment $$...$$, ...` (persist_docs column comments), so '
    "support.fakesnow_shim answers it without running it"
)
def test_column_comments_are_persisted() -> None:
    """Column descriptions reach Snowflake as column comments (persist_docs)."""


def _observed(outcomes: list) -> dict[tuple[str, str], tuple[str, str]]:
    return {(o.suite, o.expectation): (o.observed, o.status) for o in outcomes}


def test_the_gate_runs_in_the_emulated_warehouse_and_observes_what_duckdb_does(
    emulated: dict,
) -> None:
    cycle, duck = emulated["snowflake"]["cycle"], emulated["duck_cycle"]
    assert cycle["passed"] and duck["passed"]
    observed, duck_observed = _observed(cycle["outcomes"]), _observed(duck["outcomes"])
    assert len(observed) >= 50
    assert sum(status == "pass" for _, status in observed.values()) >= 40
    assert observed == duck_observed


def test_publication_clones_grants_and_swaps_every_public_mart(emulated: dict) -> None:
    published = emulated["snowflake"]["cycle"]["published"]
    assert published == emulated["duck_cycle"]["published"]
    assert {"dim_segments", "sync_email_audiences", "dim_clusters"} <= set(published)
    for name in published:
        _, snowflake, duck = emulated["aggregates"][f"published.{name}"]
        assert all(map(_equal, snowflake, duck)), name
    # Granted on the schema about to be swapped in, so the grants arrive with it.
    staging = f"{Target('fakesnow').layer('published')}__next"
    assert emulated["snowflake"]["grants"] == [
        statement
        for role in READER_ROLES
        for statement in (
            f"grant usage on schema {staging} to role {role}",
            f"grant select on all tables in schema {staging} to role {role}",
        )
    ]


def test_a_failing_gate_leaves_the_published_schema_identical(emulated: dict) -> None:
    snowflake = emulated["snowflake"]
    assert snowflake["failing_gate"] is False
    assert "the quality gate failed" in snowflake["refusal"]
    assert snowflake["published_before"] == snowflake["published_after"]
    assert all(rows for rows, _ in snowflake["published_before"].values())


def test_ml_segments_are_populated_and_equal_to_duckdbs(emulated: dict) -> None:
    segments = emulated["snowflake"]["segments"]
    assert segments == emulated["duck_cycle"]["segments"]
    learned = {
        key: size for key, (origin, size) in segments.items() if origin in ("cluster", "lookalike")
    }
    assert any(size for key, size in learned.items() if key.startswith("cluster_"))
    assert any(size for key, size in learned.items() if not key.startswith("cluster_"))


def test_exported_files_equal_duckdbs(emulated: dict) -> None:
    root = emulated["root"]
    files = emulated["snowflake"]["cycle"]["files"]
    assert files == emulated["duck_cycle"]["files"]
    assert any(rows for rows in files.values())
    for relative in files:
        emulated_file = (root / "fakesnow_export" / relative).read_text()
        assert emulated_file == (root / "duckdb_export" / relative).read_text(), relative


def test_the_summary_reads_the_emulated_warehouse(emulated: dict) -> None:
    summary = emulated["snowflake"]["summary"]
    segments = emulated["snowflake"]["segments"]
    assert "dbt build succeeded" in summary
    assert "clusters: k=" in summary and "propensity on the held-out window" in summary
    listed = {line.split()[0] for line in summary.splitlines() if line.split()}
    assert set(segments) <= listed
