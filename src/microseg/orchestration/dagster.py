"""Dagster definitions for microseg (the `microseg[dagster]` extra; docs/orchestration.md).

One job, the assets of `microseg build`, `validate` and `publish` in their order:

    dbt_build     every dbt node but the model registry's descendants (first phase)
    train         `microseg train`: the registry, dbt source `ml`
    dbt_build_ml  the registry's descendants (second phase)
    quality_gate  `microseg validate`: the run fails, and nothing is published, if it fails
    publication   `microseg publish`, which refuses whatever the build ledger does not allow

The two dbt phases are the ones `microseg build` runs (microseg.project.run_dbt), so that
the build ledger records one complete build. A daily schedule and a sensor on the raw
Parquet files start the job. The dbt manifest the assets come from is parsed into
build/dagster/target when this module loads, if it is missing or under `dagster dev`.
"""

# No `from __future__ import annotations`: Dagster reads the context's and resources'
# annotations at definition time, as classes.
import hashlib
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    AssetSpec,
    ConfigurableResource,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    define_asset_job,
    multi_asset,
    schedule,
    sensor,
)
from dagster_dbt import (
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_keys_by_output_name_for_source,
)

from microseg.dbt_project import ML_PHASE_SELECTOR, build_dir, project_dir, project_vars
from microseg.project import FIRST_PHASE_RESULTS, SKIP_UNIT_TESTS, TRAINING_REPORT, ensure_hash_salt
from microseg.warehouse import DB_ERRORS, Target, connect
from microseg.warehouse import target as warehouse_target

JOB_NAME = "microseg_job"
IN_PROGRESS = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


# dbt beside this Python (a venv's bin need not be on PATH), else dbt on PATH.
_BESIDE = Path(sys.executable).parent / "dbt"
DBT_EXECUTABLE = str(_BESIDE) if _BESIDE.exists() else "dbt"


def _prepared(project: DbtProject) -> DbtProject:
    """Parse the project (`dbt parse`) when its manifest is missing, and on every load
    under `dagster dev`, so that a fresh clone loads. Parsed in a folder of its own and
    moved into place whole, for processes loading the definitions at the same time."""
    if os.environ.get("DAGSTER_IS_DEV_CLI") or not project.manifest_path.exists():
        ensure_hash_salt()
        target_path = Path(project.target_path)
        draft = target_path.with_name(f".{target_path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.mkdir(parents=True)
        try:
            if (saved := target_path / "partial_parse.msgpack").exists():
                shutil.copyfile(saved, draft / saved.name)  # re-parse only what changed
            dbt = DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)
            dbt.cli(["parse", "--quiet"], target_path=draft).wait()
            target_path.mkdir(parents=True, exist_ok=True)
            for name in ("partial_parse.msgpack", "manifest.json"):  # the manifest last
                (draft / name).replace(target_path / name)
        finally:
            shutil.rmtree(draft, ignore_errors=True)
    return project


PROJECT = _prepared(
    DbtProject(
        project_dir(), profiles_dir=project_dir(), target_path=build_dir() / "dagster" / "target"
    )
)


def _in_project(path: str) -> Path:
    """A path from configuration; a relative one is read from the project root, as dbt
    (which runs there under Dagster) reads profiles.yml's and the vars'."""
    return (project_dir() / path).resolve()


class MicrosegResource(ConfigurableResource):
    """Where the job builds. Unset fields are read as the CLI and dbt read them: target
    from MICROSEG_TARGET (else dev), the DuckDB file from MICROSEG_DUCKDB_PATH (else
    build/microseg.duckdb), the raw files from MICROSEG_DATA_DIR (else var
    microseg__data_dir)."""

    target: str | None = None
    db_path: str | None = None
    data_dir: str | None = None
    as_of: str = "data"  # var microseg__as_of, as `microseg build --as-of`
    full_refresh: bool = False
    skip_unit_tests: bool = False  # as `microseg build --skip-unit-tests`

    def warehouse(self) -> Target:
        db_path = self.db_path or os.environ.get("MICROSEG_DUCKDB_PATH")
        return warehouse_target(self.target, _in_project(db_path) if db_path else None)

    def raw_data_dir(self) -> Path:
        folder = self.data_dir or os.environ.get("MICROSEG_DATA_DIR")
        return _in_project(folder or str(project_vars()["microseg__data_dir"]))

    def dbt_args(self, chosen: Target) -> list[str]:
        variables = json.dumps({"microseg__as_of": self.as_of})
        args = ["build", "--target", chosen.name, "--vars", variables]
        args += ["--full-refresh"] if self.full_refresh else []
        return args + (list(SKIP_UNIT_TESTS) if self.skip_unit_tests else [])


def _before_dbt(microseg: MicrosegResource, first_phase: bool) -> tuple[Target, Path]:
    """What run_dbt and `microseg build` do before dbt starts: the salt and the files dbt
    reads; before the first phase also the catalogue and (on DuckDB) the events checks."""
    from microseg.preflight import check_events
    from microseg.rules import check_project

    chosen = microseg.warehouse()
    ensure_hash_salt()
    target_path = chosen.work_dir / "target"
    target_path.mkdir(parents=True, exist_ok=True)
    if chosen.db_path is not None:
        os.environ["MICROSEG_DUCKDB_PATH"] = str(chosen.db_path)
        os.environ["MICROSEG_DATA_DIR"] = str(microseg.raw_data_dir())
    if first_phase:
        check_project(project_dir(), {"microseg__as_of": microseg.as_of})
        if chosen.kind == "duckdb" and project_vars().get("microseg__event_source") == "contract":
            checked = check_events(microseg.raw_data_dir())
            if checked.problems:
                raise Failure("\n".join(checked.lines()))
        for name in ("run_results.json", FIRST_PHASE_RESULTS, TRAINING_REPORT):
            (target_path / name).unlink(missing_ok=True)
    return chosen, target_path


def _redo_exports(chosen: Target) -> None:
    """Exported files are written again without persons the build erased (microseg build)."""
    from microseg.cli import redo_exports_after_erasure

    if chosen.db_path is None or chosen.db_path.exists():
        redo_exports_after_erasure(chosen)


@dbt_assets(
    manifest=PROJECT.manifest_path, project=PROJECT, exclude=ML_PHASE_SELECTOR, name="dbt_build"
)
def dbt_build(
    context: AssetExecutionContext, dbt: DbtCliResource, microseg: MicrosegResource
) -> Iterator[Any]:
    """`microseg build`'s first phase: every dbt node but the model registry's descendants."""
    chosen, target_path = _before_dbt(microseg, first_phase=True)
    invocation = dbt.cli(microseg.dbt_args(chosen), context=context, target_path=target_path)
    try:
        yield from invocation.stream()
    except Exception:
        _redo_exports(chosen)
        raise
    (target_path / "run_results.json").replace(target_path / FIRST_PHASE_RESULTS)


@dbt_assets(
    manifest=PROJECT.manifest_path, project=PROJECT, select=ML_PHASE_SELECTOR, name="dbt_build_ml"
)
def dbt_build_ml(
    context: AssetExecutionContext, dbt: DbtCliResource, microseg: MicrosegResource
) -> Iterator[Any]:
    """`microseg build`'s second phase: what scores with the models `train` fitted."""
    chosen, target_path = _before_dbt(microseg, first_phase=False)
    invocation = dbt.cli(microseg.dbt_args(chosen), context=context, target_path=target_path)
    try:
        yield from invocation.stream()
    finally:
        _redo_exports(chosen)


REGISTRY = list(get_asset_keys_by_output_name_for_source([dbt_build_ml], "ml").values())


@multi_asset(specs=[AssetSpec(key, deps=dbt_build.keys) for key in REGISTRY], name="train")
def train(microseg: MicrosegResource) -> Iterator[MaterializeResult]:
    """`microseg train`: fit the models that are due on the first phase's features."""
    from microseg.ml.training import train as fit

    chosen = microseg.warehouse()
    target_path = chosen.work_dir / "target"
    with connect(chosen) as warehouse:
        report = fit(warehouse, target_path / "manifest.json")
    (target_path / TRAINING_REPORT).write_text(json.dumps(asdict(report)))
    metadata: dict[str, Any] = {
        "summary": report.line(),
        "trained": report.trained,
        "skipped": report.skipped,
    }
    for key in REGISTRY:
        yield MaterializeResult(asset_key=key, metadata=metadata)


def _table(rows: list[tuple], columns: list[tuple[str, str]]) -> MetadataValue:
    return MetadataValue.table(
        records=[
            TableRecord(dict(zip([name for name, _ in columns], row, strict=True))) for row in rows
        ],
        schema=TableSchema(columns=[TableColumn(name, kind) for name, kind in columns]),
    )


@asset(deps=[*dbt_build.keys, *dbt_build_ml.keys])
def quality_gate(microseg: MicrosegResource) -> MaterializeResult:
    """`microseg validate`: the Great Expectations gate on the build; raises (failing the
    run, so nothing downstream runs) when an expectation blocks publication."""
    from microseg.ledger import NotPublishable
    from microseg.report import write_gate_page
    from microseg.validate import summary_lines, validate, withheld_segments

    chosen = microseg.warehouse()
    try:
        passed, outcomes, seconds = validate(chosen, chosen.work_dir)
    except NotPublishable as reason:
        raise Failure(f"not validated: {reason}") from reason
    validation = chosen.work_dir / "validation"
    page = write_gate_page(validation / "results.json", validation / "gate.html")
    failed = [
        (o.suite, o.expectation, o.status, o.observed, o.threshold, o.reason)
        for o in outcomes
        if o.blocking
    ]
    metadata: dict[str, Any] = {
        "verdict": summary_lines(passed, outcomes, seconds)[0],
        "failed_expectations": _table(
            failed,
            [
                (name, "string")
                for name in ("suite", "expectation", "status", "observed", "threshold", "reason")
            ],
        ),
        "withheld_segments": withheld_segments(outcomes),
        "gate_page": MetadataValue.path(str(page)),
    }
    try:
        with connect(chosen, read_only=True) as warehouse:
            sizes = warehouse.execute(
                "select segment_key, member_count, status "
                f"from {chosen.layer('marts')}.dim_segments order by priority"
            ).fetchall()
        columns = [("segment", "string"), ("members", "int"), ("status", "string")]
        metadata["segment_sizes"] = _table([tuple(row) for row in sizes], columns)
    except DB_ERRORS:  # no dim_segments to describe: the verdict says why
        pass
    if not passed:
        raise Failure(
            f"the quality gate failed, nothing is published: {len(failed)} blocking "
            f"({', '.join(f'{s}: {e}' for s, e, *_ in failed[:5])})",
            metadata=metadata,
        )
    return MaterializeResult(metadata=metadata)


@asset(deps=[quality_gate])
def publication(microseg: MicrosegResource) -> MaterializeResult:
    """`microseg publish`: the public marts into the published schema, atomically, if the
    build ledger says the latest build succeeded completely and passed its gate."""
    from microseg import ledger
    from microseg.publish import NotPublished, publish

    chosen = microseg.warehouse()
    published = chosen.layer("published")
    try:
        tables = publish(chosen)
    except NotPublished as reason:
        raise Failure(
            f"not published ({reason}); {published} keeps the previous version"
        ) from reason
    with connect(chosen, read_only=True) as warehouse:
        build = ledger.latest_build(warehouse)
        rows = [
            (name, warehouse.execute(f"select count(*) from {published}.{name}").fetchone()[0])
            for name in tables
        ]
    return MaterializeResult(
        metadata={
            "schema": published,
            "tables": _table(rows, [("table", "string"), ("rows", "int")]),
            "dbt_invocation_ids": list(build.invocation_ids),
        }
    )


microseg_job = define_asset_job(
    JOB_NAME,
    selection=AssetSelection.all(),
    description="microseg build (both phases and train), validate and publish",
)


def _in_progress(instance: DagsterInstance) -> str | None:
    """Why not to start now: a run of the job is queued or running (one warehouse, and one
    DuckDB writer at a time)."""
    runs = instance.get_runs(RunsFilter(job_name=JOB_NAME, statuses=IN_PROGRESS), limit=1)
    return f"run {runs[0].run_id} of {JOB_NAME} is still in progress" if runs else None


@schedule(
    job=microseg_job,
    cron_schedule=os.environ.get("MICROSEG_SCHEDULE_CRON", "0 6 * * *"),
    execution_timezone=os.environ.get("MICROSEG_SCHEDULE_TIMEZONE", "UTC"),
)
def daily_build(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    """Build, gate and publish once a day (MICROSEG_SCHEDULE_CRON, default 06:00 UTC)."""
    if busy := _in_progress(context.instance):
        return SkipReason(busy)
    return RunRequest(tags={"microseg/trigger": "schedule"})


def raw_fingerprint(folder: Path) -> str | None:
    """The size and modification time of every raw Parquet file in `folder` (what the
    build ledger records of each raw source), as one digest; None without any."""
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    stats = [(path.name, path.stat().st_size, path.stat().st_mtime_ns) for path in files]
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest() if stats else None


@sensor(job=microseg_job, minimum_interval_seconds=60)
def new_raw_data(
    context: SensorEvaluationContext, microseg: MicrosegResource
) -> SensorResult | SkipReason:
    """A run when the raw Parquet files change (the cursor keeps their fingerprint)."""
    chosen = microseg.warehouse()
    if chosen.kind != "duckdb":
        return SkipReason(
            f"target {chosen.name} reads its raw tables in the warehouse, not from files: "
            "nothing to watch (use the schedule, or a sensor on your loader)"
        )
    folder = microseg.raw_data_dir()
    fingerprint = raw_fingerprint(folder)
    if fingerprint is None:
        return SkipReason(f"no raw Parquet files in {folder}")
    if fingerprint == context.cursor:
        return SkipReason(f"the raw files in {folder} are unchanged since the last run request")
    if busy := _in_progress(context.instance):
        return SkipReason(f"{busy}; the new files are picked up on a later tick")
    request = RunRequest(run_key=fingerprint, tags={"microseg/trigger": "new raw data"})
    return SensorResult(run_requests=[request], cursor=fingerprint)


defs = Definitions(
    assets=[dbt_build, train, dbt_build_ml, quality_gate, publication],
    jobs=[microseg_job],
    schedules=[daily_build],
    sensors=[new_raw_data],
    resources={
        "dbt": DbtCliResource(project_dir=PROJECT, dbt_executable=DBT_EXECUTABLE),
        "microseg": MicrosegResource(),
    },
)
