"""Nothing is skipped: raw rows loaded after a build with receipt times older than the
late-arrival window (a backfill) are triaged by the next incremental run, and the result
equals a full refresh. A missing source file stops the run before any model builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD, write_raw_tables
from microseg.generate import GeneratorConfig, generate
from microseg.ledger import LEDGER_SCHEMA
from microseg.project import run_dbt
from test_incremental import COMPARED, assert_equal_to_full_refresh


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("backfill")
    manifest = generate(GeneratorConfig(events=20_000, seed=13), root / "full_data")
    as_of = str(manifest["last_event_at"])
    events = root / "full_data" / "events.parquet"
    held_from, held_until, cutoff = (
        duckdb.connect()
        .execute(
            f"select unnest(quantile_disc(received_at, [0.3, 0.4, 0.8])) from '{events}' "
            f"where received_at <= '{as_of}'"
        )
        .fetchall()
    )
    held = f"received_at > '{held_from[0]}' and received_at <= '{held_until[0]}'"
    loaded = f"coalesce(received_at <= '{cutoff[0]}', true)"

    def build(data_dir: Path, db_path: Path, clock: object, *, unit_tests: bool = False) -> None:
        # Unit tests do not depend on the data: only the module's first build runs them.
        args = ["build"] if unit_tests else BUILD
        result = run_dbt(args, data_dir=data_dir, db_path=db_path, as_of=str(clock))
        assert result.success, result.failures

    incremental_db = root / "incremental" / "microseg.duckdb"
    # 1: everything up to the cut-off except a tenth of the receipts, weeks older.
    write_raw_tables(
        root / "full_data", root / "batch_1", f"{loaded} and not coalesce({held}, false)"
    )
    build(root / "batch_1", incremental_db, cutoff[0], unit_tests=True)
    # 2: the held rows arrive (a backfill: their receipt times are far behind the window).
    write_raw_tables(root / "full_data", root / "batch_2", loaded)
    build(root / "batch_2", incremental_db, cutoff[0])
    with duckdb.connect(str(incremental_db), read_only=True) as con:
        base_rows = con.execute(
            "select count(*) from main_staging.base_tracking__events"
        ).fetchone()
        backfill_from = con.execute(
            # The build's first phase, which triages the raw rows (microseg.ledger.ML_PHASES).
            f"select backfill_from from {LEDGER_SCHEMA}.builds "
            "order by started_at desc limit 1 offset 1"
        ).fetchone()
    raw_rows = duckdb.connect().execute(f"select count(*) from '{root / 'batch_2'}/events.parquet'")
    # 3: the rest, as usual.
    build(root / "full_data", incremental_db, as_of)
    full_db = root / "full_refresh" / "microseg.duckdb"
    build(root / "full_data", full_db, as_of)
    return {
        "incremental_db": incremental_db,
        "full_db": full_db,
        "full_data": root / "full_data",
        "held_from": held_from[0],
        "backfill_from": backfill_from[0],
        "batch_2_rows": (base_rows[0], raw_rows.fetchone()[0]),
    }


def test_the_backfill_is_triaged_by_the_next_incremental_run(backfilled: dict) -> None:
    base_rows, raw_rows = backfilled["batch_2_rows"]
    assert base_rows == raw_rows
    assert backfilled["backfill_from"] is not None
    assert backfilled["backfill_from"] <= backfilled["held_from"]


@pytest.mark.parametrize("table", COMPARED)
def test_incremental_with_a_backfill_equals_full_refresh(backfilled: dict, table: str) -> None:
    assert_equal_to_full_refresh(backfilled["incremental_db"], backfilled["full_db"], table)


def _folder_without(backfilled: dict, tmp_path: Path, missing: str) -> tuple[Path, Path]:
    """A copy of the built database and a data folder without the `missing` file."""
    db_path = tmp_path / "microseg.duckdb"
    shutil.copy(backfilled["full_db"], db_path)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for table in {"events", "customers", "consents"} - {missing}:
        shutil.copy(
            backfilled["full_db"].parent.parent / "full_data" / f"{table}.parquet", data_dir
        )
    return db_path, data_dir


def _consents(db_path: Path) -> int:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute("select count(*) from main_staging.stg_crm__consents").fetchone()[0]


def test_a_missing_events_file_stops_the_run_naming_it(backfilled: dict, tmp_path: Path) -> None:
    """On an existing database the raw views of the earlier folder are never reused."""
    db_path, data_dir = _folder_without(backfilled, tmp_path, "events")
    before = _consents(db_path)
    result = run_dbt(["build"], data_dir=data_dir, db_path=db_path, as_of="2030-01-01")
    assert not result.success
    assert not {"success", "pass"} & set(result.counts), f"no node may run: {result.counts}"
    messages = " ".join(message for _, _, message in result.failures)
    assert f"{data_dir}/events.parquet is missing" in messages
    assert _consents(db_path) == before


def test_a_missing_optional_file_is_empty_not_the_earlier_one(
    backfilled: dict, tmp_path: Path
) -> None:
    """consents.parquet is optional: without it there are no consents, not the old ones."""
    db_path, data_dir = _folder_without(backfilled, tmp_path, "consents")
    assert _consents(db_path) > 0
    result = run_dbt(BUILD, data_dir=data_dir, db_path=db_path, as_of="2030-01-01")
    assert result.success, result.failures
    assert _consents(db_path) == 0
