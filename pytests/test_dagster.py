"""The Dagster definitions (microseg.orchestration.dagster, the `dagster` extra), with
Dagster's own test utilities: they load and validate; the asset graph runs dbt's first
phase, `train`, the ML phase, the gate, then the publication; the sensor asks for one run
per change of the raw files and none on Snowflake; the schedule asks for a run; one
in-process run on a small generated shop builds, gates and publishes; a gate that fails
fails the run and nothing is published."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest

from conftest import published_tables
from microseg import ledger
from microseg.generate import GeneratorConfig, generate
from microseg.publish import LOG_TABLE

JOB = "microseg_job"


@pytest.fixture(scope="module")
def orchestration() -> ModuleType:
    """The definitions module; loading it parses the dbt project if no manifest is there."""
    pytest.importorskip("dagster")
    pytest.importorskip("dagster_dbt")
    from microseg.orchestration import dagster

    return dagster


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def test_the_definitions_load_and_the_gate_follows_the_whole_build(
    orchestration: ModuleType,
) -> None:
    from dagster import AssetKey, Definitions

    defs = orchestration.defs
    Definitions.validate_loadable(defs)
    job = defs.resolve_job_def(JOB)
    graph = defs.resolve_asset_graph()
    first, ml_phase = set(orchestration.dbt_build.keys), set(orchestration.dbt_build_ml.keys)
    registry = {AssetKey(["ml", "ml_models"]), AssetKey(["ml", "ml_model_quality"])}
    assert AssetKey(["intermediate", "int_person_features"]) in first
    assert AssetKey(["marts", "sync_email_audiences"]) in ml_phase
    assert not first & ml_phase
    assert set(orchestration.train.keys) == registry
    for key in registry:  # train runs after the whole first phase, before the ML phase
        assert first <= graph.get(key).parent_keys
        assert graph.get(key).child_keys <= ml_phase
    assert first | ml_phase <= graph.get(AssetKey("quality_gate")).parent_keys
    assert graph.get(AssetKey("publication")).parent_keys == {AssetKey("quality_gate")}
    assert set(job.asset_layer.executable_asset_keys) >= (
        first | ml_phase | registry | {AssetKey("quality_gate"), AssetKey("publication")}
    )


def test_the_sensor_asks_for_one_run_per_change_of_the_raw_files(
    orchestration: ModuleType, tmp_path: Path, stack: ExitStack
) -> None:
    from dagster import DagsterRun, DagsterRunStatus, build_sensor_context, instance_for_test

    instance = stack.enter_context(instance_for_test())
    folder = tmp_path / "raw"

    def tick(cursor: str | None, target: str = "dev") -> Any:
        resource = orchestration.MicrosegResource(
            target=target, db_path=str(tmp_path / "microseg.duckdb"), data_dir=str(folder)
        )
        context = build_sensor_context(
            instance=instance, cursor=cursor, resources={"microseg": resource}
        )
        return orchestration.new_raw_data.evaluate_tick(context)

    nothing = tick(None)
    assert not nothing.run_requests and "no raw Parquet files" in nothing.skip_message
    folder.mkdir()
    events = folder / "events.parquet"
    duckdb.sql(f"copy (select 1 as event_id) to '{events}' (format parquet)")
    first = tick(None)
    assert len(first.run_requests) == 1 and first.cursor
    assert first.run_requests[0].run_key == first.cursor
    unchanged = tick(first.cursor)
    assert not unchanged.run_requests and "unchanged" in unchanged.skip_message
    duckdb.sql(f"copy (select * from range(1000) t(event_id)) to '{events}' (format parquet)")
    changed = tick(first.cursor)
    assert len(changed.run_requests) == 1 and changed.cursor not in (None, first.cursor)
    snowflake = tick(None, target="snowflake")
    assert not snowflake.run_requests and "not from files" in snowflake.skip_message

    instance.add_run(DagsterRun(job_name=JOB, run_id="busy", status=DagsterRunStatus.STARTED))
    busy = tick(first.cursor)
    assert not busy.run_requests and "in progress" in busy.skip_message
    assert busy.cursor == first.cursor  # not advanced: a later tick still sees the change


def test_the_schedule_asks_for_a_daily_run(orchestration: ModuleType, stack: ExitStack) -> None:
    from dagster import build_schedule_context, instance_for_test

    schedule = orchestration.daily_build
    assert schedule.job_name == JOB and schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"
    context = build_schedule_context(
        instance=stack.enter_context(instance_for_test()),
        scheduled_execution_time=datetime(2026, 1, 2, 6, tzinfo=UTC),
    )
    data = schedule.evaluate_tick(context)
    assert len(data.run_requests) == 1
    assert data.run_requests[0].tags["microseg/trigger"] == "schedule"


@pytest.fixture(scope="module")
def materialised(orchestration: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The whole job, in process, on a freshly generated shop of about 20k events."""
    from dagster import DagsterInstance

    root = tmp_path_factory.mktemp("dagster")
    generate(GeneratorConfig(events=20_000, seed=7), root / "data")
    resource = orchestration.MicrosegResource(
        target="dev",
        db_path=str(root / "microseg.duckdb"),
        data_dir=str(root / "data"),
        skip_unit_tests=True,  # SQL on fixtures, run by the demo build's tests
    )
    result = orchestration.defs.resolve_job_def(JOB).execute_in_process(
        resources={"microseg": resource},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    return root, result


def _materialisation(result: Any, key: Any) -> Any:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    assert events, f"{key} was not materialised"
    return events[-1].materialization


def test_a_run_builds_gates_and_publishes(orchestration: ModuleType, materialised: Any) -> None:
    from dagster import AssetKey

    root, result = materialised
    failures = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert result.success, failures
    db_path = root / "microseg.duckdb"
    with duckdb.connect(str(db_path), read_only=True) as con:
        build = ledger.latest_build(con)  # the two dbt phases, one complete build
        assert len(build.phases) == 2 and build.is_complete and build.status == "succeeded"
        logged = con.execute(f"select dbt_invocation_id from {LOG_TABLE}").fetchall()
    assert logged == [(build.invocation_id,)]

    trained = _materialisation(result, AssetKey(["ml", "ml_models"])).metadata
    assert trained["trained"].value  # the first training fits every model
    gate = _materialisation(result, AssetKey("quality_gate")).metadata
    assert gate["verdict"].value.startswith("quality gate PASSED")
    sizes = {record.data["segment"]: record.data for record in gate["segment_sizes"].records}
    assert sizes["fallback"]["status"] == "fallback"
    assert set(gate["withheld_segments"].value) <= set(sizes)
    assert not gate["failed_expectations"].records
    published = _materialisation(result, AssetKey("publication")).metadata
    rows = {record.data["table"]: record.data["rows"] for record in published["tables"].records}
    assert {name: count for name, (count, _) in published_tables(db_path).items()} == rows | {
        "microseg_publications": 1
    }
    assert "sync_email_audiences" in rows
    assert published["dbt_invocation_ids"].value == list(build.invocation_ids)
    # microseg's own commands find the run's artifacts where `microseg build` leaves them
    assert (root / "target" / "run_results_first_phase.json").exists()
    assert (root / "target" / "ml_training.json").exists()


def test_a_failing_gate_fails_the_run_and_nothing_is_published(
    orchestration: ModuleType, materialised: Any, tmp_path: Path
) -> None:
    """Too few persons left in dim_persons: the gate's min_persons check (`fail`) blocks."""
    from dagster import DagsterInstance, materialize

    root, _ = materialised
    db_path = tmp_path / "microseg.duckdb"
    shutil.copy(root / "microseg.duckdb", db_path)
    before = published_tables(db_path)
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "delete from main_marts.dim_persons where person_key not in "
            "(select person_key from main_marts.dim_persons order by 1 limit 10)"
        )
    resource = orchestration.MicrosegResource(
        target="dev", db_path=str(db_path), data_dir=str(root / "data")
    )
    result = materialize(
        [orchestration.quality_gate, orchestration.publication],
        resources={"microseg": resource},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "quality_gate"
    assert "the quality gate failed" in failure.step_failure_data.error.message
    failed = failure.step_failure_data.user_failure_data.metadata["failed_expectations"]
    assert any(record.data["status"] == "fail" for record in failed.records)
    assert not [
        e for e in result.get_asset_materialization_events() if e.asset_key.path == ["publication"]
    ]
    assert published_tables(db_path) == before
