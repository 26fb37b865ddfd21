"""Incremental builds equal a full refresh, batch by batch, late data included."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD, write_raw_tables
from microseg.generate import GeneratorConfig, generate
from microseg.project import run_dbt

COMPARED = {
    "base_tracking__bot_devices": "main_staging",
    "base_tracking__events": "main_staging",
    "stg_tracking__events": "main_staging",
    "int_sessionized_events": "main_intermediate",
    "fct_sessions": "main_marts",
    "fct_session_events": "main_marts",
    "dim_identity_map": "main_marts",
    "int_events_attributed_to_persons": "main_intermediate",
    "int_person_event_fingerprints": "main_intermediate",
    "int_events_aggregated_to_persons": "main_intermediate",
    "int_events_aggregated_to_person_days": "main_intermediate",
    "int_purchases_aggregated_to_persons": "main_intermediate",
    "int_carts_evaluated": "main_intermediate",
    "int_browsing_bursts_detected": "main_intermediate",
    "int_interests_scored": "main_intermediate",
    "int_person_features": "main_intermediate",
    "int_segment_memberships_evaluated": "main_intermediate",
    "dim_persons": "main_marts",
    "sync_email_audiences": "main_marts",
}
# Every public mart (and the quality marts), in main_marts. History differs by design: the
# incremental build saw memberships change batch by batch and registered a model version
# per batch, so those columns are left out, and only the versions in use are compared.
HISTORY = ("member_since", "updated_at")
MARTS: dict[str, tuple[str, ...]] = {
    "dim_segments": ("last_changed_at",),
    "fct_segment_memberships": HISTORY,
    "fct_segment_overlaps": (),
    "dim_clusters": (),
    "fct_ml_model_quality": (),
    "dim_ml_models": (),
    "sync_ad_audiences": HISTORY,
    "sync_crm_traits": ("updated_at",),
    "sync_google_customer_match": HISTORY,
    "sync_meta_custom_audiences": HISTORY,
    "fct_unmapped_values": (),
    "fct_daily_event_volumes": (),
    "fct_activation_withheld": (),
}
EXCLUDED = {"sync_email_audiences": HISTORY} | MARTS
ROW_FILTERS = {
    "dim_ml_models": "model_version in "
    "(select model_version from {database}.main_marts.fct_ml_model_quality)"
}
# The change feed is history itself: test_membership_history_records_entries_and_exits_
# across_batches checks it.
# fct_segment_lift measures members from their entry in that history: the incremental
# build's first batch recorded entries a single build never has (test_lift checks it).
NOT_COMPARED = {"fct_segment_membership_changes", "fct_segment_lift"}
BATCH_QUANTILES = (0.6, 0.75, 0.9)


def _write_batch(source: Path, target: Path, received_until: object | None) -> None:
    """The raw tables as they stood when everything received up to a cut-off had landed."""
    where = (
        "true" if received_until is None else f"coalesce(received_at <= '{received_until}', true)"
    )
    write_raw_tables(source, target, where)


def _rows_sql(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> str:
    """The comparable rows of a table: history columns left out, and doubles rounded to 9
    decimals (sums and means over parallel threads differ in their last bits)."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [database, schema, table],
    ).fetchall()
    selected = [
        f"round({name}, 9) as {name}" if data_type in ("DOUBLE", "FLOAT") else name
        for name, data_type in columns
        if name not in EXCLUDED.get(table, ())
    ]
    where = ROW_FILTERS.get(table, "true").format(database=database)
    return f"select {', '.join(selected)} from {database}.{schema}.{table} where {where}"


def _difference(con: duckdb.DuckDBPyConnection, table: str, schema: str) -> tuple[int, int, int]:
    incremental, full = (
        _rows_sql(con, database, schema, table) for database in ("incremental", "full_refresh")
    )
    missing, extra = (
        con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
        for a, b in ((full, incremental), (incremental, full))
    )
    rows = con.execute(f"select count(*) from full_refresh.{schema}.{table}").fetchone()[0]
    return missing, extra, rows


def _snapshot(db_path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {
            table: sorted(con.execute(f"select * from {schema}.{table}").fetchall(), key=repr)
            for table, schema in COMPARED.items()
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    manifest = generate(GeneratorConfig(events=40_000, seed=11), root / "full_data")
    as_of = str(manifest["last_event_at"])
    events = f"'{root / 'full_data' / 'events.parquet'}'"
    # Cut near each quantile of receipts, exactly at the first copy of a re-sent event,
    # so that its later copy lands in a later batch.
    cutoffs = [
        row[0]
        for row in duckdb.connect()
        .execute(
            f"""
            with resent as (
                select min(received_at) as first_received_at
                from {events}
                where received_at <= '{as_of}'
                group by event_id
                having count(distinct received_at) > 1
            ),
            targets as (
                select unnest(quantile_disc(received_at, {list(BATCH_QUANTILES)})) as target
                from {events}
                where received_at <= '{as_of}'
            )
            select arg_min(first_received_at, abs(epoch(first_received_at) - epoch(target)))
            from targets cross join resent
            group by target
            order by target
            """
        )
        .fetchall()
    ]

    def build(data_dir: Path, db_path: Path, clock: object, *, unit_tests: bool = False) -> None:
        # Unit tests do not depend on the data: only the module's first build runs them.
        args = ["build"] if unit_tests else BUILD
        # Retraining at every clock, as a full refresh does: with the default cadence the
        # incremental build would keep a model trained on an earlier batch.
        result = run_dbt(
            args,
            data_dir=data_dir,
            db_path=db_path,
            as_of=str(clock),
            extra_vars={"microseg__ml_retrain_after_days": 0},
        )
        assert result.success, result.failures

    incremental_db = root / "incremental" / "microseg.duckdb"
    snapshots = []
    for number, cutoff in enumerate([*cutoffs, None], start=1):
        batch_dir = root / f"batch_{number}"
        _write_batch(root / "full_data", batch_dir, cutoff)
        # Each batch is built when it has landed: the clock is its last receipt.
        clock = cutoff or as_of
        build(batch_dir, incremental_db, clock, unit_tests=number == 1)
        if number == 3:
            snapshots.append(_snapshot(incremental_db))
            build(batch_dir, incremental_db, clock)
            snapshots.append(_snapshot(incremental_db))
    full_db = root / "full_refresh" / "microseg.duckdb"
    build(root / "full_data", full_db, as_of)
    return {
        "root": root,
        "events": events,
        "cutoffs": cutoffs,
        "incremental_db": incremental_db,
        "full_db": full_db,
        "rerun_snapshots": snapshots,
    }


def test_batches_carry_late_events_duplicates_and_logins_across_boundaries(batches: dict) -> None:
    batch_no = (
        "case "
        + " ".join(
            f"when received_at <= timestamp '{cutoff}' then {number}"
            for number, cutoff in enumerate(batches["cutoffs"], start=1)
        )
        + f" else {len(batches['cutoffs']) + 1} end"
    )
    crossing = (
        duckdb.connect()
        .execute(
            f"""
        with events as (
            select *, {batch_no} as batch_no
            from {batches["events"]}
            where received_at is not null and event_id is not null and trim(event_id) != ''
        ),
        batch_ends as (
            select batch_no, max(occurred_at) as last_occurred_at from events group by 1
        ),
        first_logins as (
            select anonymous_id, min(batch_no) as login_batch
            from events where user_id is not null and user_id != '' group by 1
        )
        select
            (select count(*) from events inner join batch_ends
                on events.batch_no = batch_ends.batch_no + 1
                and events.occurred_at < batch_ends.last_occurred_at) as late_across,
            (select count(*) from (select event_id from events group by 1
                having count(distinct batch_no) > 1)) as duplicates_across,
            (select count(distinct events.anonymous_id) from events inner join first_logins
                on events.anonymous_id = first_logins.anonymous_id
                and events.batch_no < first_logins.login_batch) as stitched_across
        """
        )
        .fetchone()
    )
    late_across, duplicates_across, stitched_across = crossing
    assert late_across > 0
    assert duplicates_across > 0
    assert stitched_across > 0


def assert_equal_to_full_refresh(
    incremental_db: Path, full_db: Path, table: str, schema: str | None = None
) -> None:
    con = duckdb.connect()
    con.execute(f"attach '{incremental_db}' as incremental (read_only)")
    con.execute(f"attach '{full_db}' as full_refresh (read_only)")
    missing, extra, rows = _difference(con, table, schema or COMPARED[table])
    assert rows > 0
    assert (missing, extra) == (0, 0), f"{table}: {missing} rows missing, {extra} extra"


@pytest.mark.parametrize("table", COMPARED)
def test_incremental_equals_full_refresh(batches: dict, table: str) -> None:
    assert_equal_to_full_refresh(batches["incremental_db"], batches["full_db"], table)


@pytest.mark.parametrize("table", MARTS)
def test_incremental_marts_equal_full_refresh(batches: dict, table: str) -> None:
    assert_equal_to_full_refresh(batches["incremental_db"], batches["full_db"], table, "main_marts")


def test_every_public_mart_is_compared(batches: dict) -> None:
    manifest = json.loads((batches["full_db"].parent / "target" / "manifest.json").read_text())
    public = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("access") == "public"
    }
    assert public, "no public model in the manifest"
    assert public - set(COMPARED) - set(MARTS) - NOT_COMPARED == set()


def test_membership_history_records_entries_and_exits_across_batches(batches: dict) -> None:
    con = duckdb.connect(str(batches["root"] / "incremental" / "microseg.duckdb"), read_only=True)
    changes = dict(
        con.execute(
            "select change_type, count(distinct changed_at) "
            "from main_marts.fct_segment_membership_changes group by 1"
        ).fetchall()
    )
    # Replaying the history gives exactly the current memberships.
    replayed = con.execute(
        """
        select count(*) from (
            select membership_id from main_marts.fct_segment_membership_changes
            qualify row_number() over (partition by membership_id order by changed_at desc) = 1
                and change_type != 'exited'
            except
            select membership_id from main_marts.fct_segment_memberships
        )
        """
    ).fetchone()[0]
    current, evaluated = con.execute(
        "select (select count(*) from main_marts.fct_segment_memberships), "
        "(select count(*) from main_intermediate.int_segment_memberships_evaluated)"
    ).fetchone()
    con.close()
    assert changes["entered"] == 4  # one build time per batch
    assert changes["exited"] >= 2  # people left segments as time moved on
    assert replayed == 0
    assert current == evaluated


def test_running_the_same_batch_twice_changes_nothing(batches: dict) -> None:
    before, after = batches["rerun_snapshots"]
    assert before == after


def _compiled_tests(db_path: Path) -> dict[str, str]:
    """The compiled tests of the last build, both of its phases (microseg.project.run_dbt)."""
    target = db_path.parent / "target"
    results = [
        result
        for name in ("run_results_first_phase.json", "run_results.json")
        for result in json.loads((target / name).read_text())["results"]
    ]
    return {
        result["unique_id"].split(".")[2]: result.get("compiled_code") or ""
        for result in results
        if result["unique_id"].startswith("test.")
    }


def test_event_level_tests_check_what_the_run_touched(batches: dict) -> None:
    # The last incremental build (batch 4) against the full refresh of the same data.
    incremental = _compiled_tests(batches["incremental_db"])
    full = _compiled_tests(batches["full_db"])
    assert set(incremental) == set(full), "an incremental run runs every test"
    scoped = [
        "unique_int_sessionized_events_event_id",
        "unique_stg_tracking__events_event_id",
        "unique_int_events_attributed_to_persons_event_id",
        "assert_every_event_is_sessionized",
    ]
    for name in scoped:
        assert "stg_tracking__event_receipts" in incremental[name], name
        assert "stg_tracking__event_receipts" not in full[name], name
    # Tests of other models are not narrowed.
    assert "stg_tracking__event_receipts" not in incremental["unique_dim_persons_person_key"]
    with duckdb.connect(str(batches["incremental_db"]), read_only=True) as con:
        windows = con.execute(
            "select builds.is_full_refresh, windows.changed_from "
            "from main_ledger.builds inner join main_ledger.build_windows as windows "
            "using (invocation_id) order by builds.started_at"
        ).fetchall()
    # The first build had nothing before it; every later one recorded where it re-read.
    assert windows[0][1] is None
    assert all(changed_from is not None for _, changed_from in windows[1:])
