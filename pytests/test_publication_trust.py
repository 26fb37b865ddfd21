"""Only the latest, completely successful, validated build is ever published.

Each case is a way around the gate an adversarial user found: a failed build, a plain
`dbt build` or a partial one after validation, a build killed half way, tables edited
after validation, a forged verdict, an edited results.json, another database file. The
build ledger inside the database (microseg.ledger) closes each one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD, Build, published_tables
from microseg import ledger
from microseg.ledger import LEDGER_SCHEMA
from microseg.project import project_dir, run_dbt
from microseg.publish import LOG_TABLE, NotPublished, publish
from microseg.validate import validate


def _copy(build: Build, root: Path) -> Build:
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "data").exists():
        shutil.copytree(build.data_dir, root / "data")
    shutil.copytree(build.db_path.parent / "target", root / "target", dirs_exist_ok=True)
    shutil.copy(build.db_path, root / build.db_path.name)
    return Build(root / "data", root / build.db_path.name, build.manifest, build.result)


def _fail_the_gate(build: Build) -> Build:
    """Leave 10 persons in dim_persons: min_persons (a `fail` check) fails."""
    with duckdb.connect(str(build.db_path)) as con:
        con.execute(
            "delete from main_marts.dim_persons where person_key not in "
            "(select person_key from main_marts.dim_persons order by 1 limit 10)"
        )
    return build


def _dbt_env(build: Build) -> dict[str, str]:
    return {
        **os.environ,
        "MICROSEG_DATA_DIR": str(build.data_dir),
        "MICROSEG_DUCKDB_PATH": str(build.db_path),
    }


def _plain_dbt(build: Build, *args: str) -> subprocess.CompletedProcess:
    """dbt itself, as a user runs it without the microseg command."""
    variables = json.dumps({"microseg__as_of": str(build.manifest["last_event_at"])})
    command = [
        str(Path(sys.executable).parent / "dbt"), *args,
        "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir()),
        "--target-path", str(build.db_path.parent / "target"), "--vars", variables,
    ]  # fmt: skip
    return subprocess.run(command, env=_dbt_env(build), capture_output=True, text=True)


@pytest.fixture(scope="module")
def validated(demo_sized_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The demo-sized build, validated (the gate passes) but not yet published."""
    build = _copy(demo_sized_build, tmp_path_factory.mktemp("validated"))
    passed, outcomes, _ = validate(build.db_path, build.db_path.parent)
    assert passed, [o.expectation for o in outcomes if o.status == "fail"]
    return build


def test_the_validated_build_publishes_and_the_log_names_it(validated: Build, tmp_path) -> None:
    build = _copy(validated, tmp_path)
    tables = publish(build.db_path)
    assert "sync_email_audiences" in tables
    with duckdb.connect(str(build.db_path), read_only=True) as con:
        latest = con.execute(
            f"select invocation_id from {LEDGER_SCHEMA}.builds order by started_at desc limit 1"
        ).fetchone()[0]
        logged = con.execute(f"select dbt_invocation_id, tables from {LOG_TABLE}").fetchall()
    assert logged == [(latest, ",".join(tables))]

    # A BI tool reading the published schema sees every description of the YAML.
    documented = {
        (node["name"], column): spec["description"]
        for node in json.loads((validated.db_path.parent / "target" / "manifest.json").read_text())[
            "nodes"
        ].values()
        if node["resource_type"] == "model" and node["name"] in tables
        for column, spec in node["columns"].items()
    }
    with duckdb.connect(str(build.db_path), read_only=True) as con:
        published = dict(
            ((table, column), comment or "")
            for table, column, comment in con.execute(
                "select table_name, column_name, comment from duckdb_columns() "
                "where schema_name = 'main_published'"
            ).fetchall()
            if table in tables
        )
        table_comments = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'main_published' "
            "and coalesce(comment, '') = ''"
        ).fetchone()[0]
    assert table_comments == 0
    assert set(published) == set(documented)
    assert all(published.values()), [key for key, text in published.items() if not text]
    assert {key: text.strip() for key, text in published.items()} == {
        key: text.strip() for key, text in documented.items()
    }


def test_a_plain_dbt_build_after_validation_is_not_published(
    demo_build: Build, tmp_path: Path
) -> None:
    build = _copy(demo_build, tmp_path)
    validate(build.db_path, build.db_path.parent)
    done = _plain_dbt(build, "build")
    assert done.returncode == 0, done.stdout[-2000:]
    with pytest.raises(NotPublished, match="has not been validated"):
        publish(build.db_path)
    assert published_tables(build.db_path) == {}


def test_a_partial_build_is_not_published(demo_build: Build, tmp_path: Path) -> None:
    build = _copy(demo_build, tmp_path)
    done = _plain_dbt(build, "build", "--select", "stg_crm__customers")
    assert done.returncode == 0, done.stdout[-2000:]
    with pytest.raises(NotPublished, match="partial"):
        publish(build.db_path)
    with pytest.raises(NotPublished, match="partial"):
        validate(build.db_path, build.db_path.parent)


@pytest.mark.parametrize(
    ("selection", "complete"),
    [
        (None, True),
        (ledger.WITHOUT_UNIT_TESTS, True),
        ("exclude_resource_types=test unit_test", False),
        ("exclude_resource_types=test", False),
        ("exclude_resource_types=snapshot unit_test", False),
        ("select=stg_crm__customers", False),
        # dagster-dbt selects every node by name (`--select fqn:*`): the same as no --select
        (ledger.EVERY_NODE, True),
        (f"{ledger.EVERY_NODE}; {ledger.WITHOUT_UNIT_TESTS}", True),
        ("select=fqn:* stg_crm__customers", False),
        (f"{ledger.EVERY_NODE}; exclude=stg_crm__customers", False),
    ],
)
def test_only_unit_tests_may_be_left_out_of_a_publishable_build(
    selection: str | None, complete: bool
) -> None:
    build = ledger.Build("id", "build", selection, "succeeded", None, datetime(2024, 1, 1))
    assert build.is_complete is complete


FIRST, SECOND = ledger.ML_PHASES
SKIPPED_UNITS = f"; {ledger.WITHOUT_UNIT_TESTS}"


@pytest.mark.parametrize(
    ("earlier", "latest", "complete"),
    [
        ((FIRST, "succeeded"), (SECOND, "succeeded"), True),
        ((FIRST + SKIPPED_UNITS, "succeeded"), (SECOND + SKIPPED_UNITS, "succeeded"), True),
        ((FIRST, "failed"), (SECOND, "succeeded"), False),  # a phase 2 after a failed phase 1
        ((None, "succeeded"), (SECOND, "succeeded"), False),  # phase 2 alone, by hand
        ((SECOND, "succeeded"), (FIRST, "succeeded"), False),  # phase 1 alone, by hand
        ((FIRST + SKIPPED_UNITS, "succeeded"), (SECOND, "succeeded"), False),  # mismatched
        ((FIRST, "succeeded"), (SECOND, "failed"), None),  # complete, and failed
        # the phases as dagster-dbt runs them (microseg.orchestration.dagster)
        ((f"{ledger.EVERY_NODE}; {FIRST}", "succeeded"), (SECOND, "succeeded"), True),
    ],
)
def test_the_two_phases_of_a_build_are_publishable_only_together(
    tmp_path: Path, earlier: tuple, latest: tuple, complete: bool | None
) -> None:
    """microseg build's phases (train between them) form one build; nothing else does."""
    with duckdb.connect(str(tmp_path / "ledger.duckdb")) as con:
        con.execute(f"create schema {LEDGER_SCHEMA}")
        con.execute(
            f"create table {LEDGER_SCHEMA}.builds (invocation_id varchar, command varchar, "
            "selection varchar, status varchar, failed_nodes varchar, started_at timestamp)"
        )
        for index, (selection, status) in enumerate([earlier, latest]):
            con.execute(
                f"insert into {LEDGER_SCHEMA}.builds values (?, 'build', ?, ?, null, ?)",
                [f"run{index}", selection, status, datetime(2024, 1, 1, 0, index)],
            )
        build = ledger.latest_build(con)
    assert build.invocation_id == "run1"
    if complete is None:
        assert build.phases == ("run0", "run1") and build.is_complete
        with pytest.raises(NotPublished, match="failed"):
            ledger.require_successful(build)
        return
    assert build.is_complete is complete
    assert (build.phases == ("run0", "run1")) is complete
    if not complete:
        with pytest.raises(NotPublished):
            ledger.require_successful(build)


def test_a_killed_build_is_not_published(demo_build: Build, tmp_path: Path) -> None:
    build = _copy(demo_build, tmp_path)
    variables = json.dumps({"microseg__as_of": str(build.manifest["last_event_at"])})
    command = [
        str(Path(sys.executable).parent / "dbt"), "build", "--full-refresh",
        "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir()),
        "--target-path", str(tmp_path / "target"), "--vars", variables,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=_dbt_env(build), stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "OK created" in line:  # the first model has been rewritten
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait()
    with pytest.raises(NotPublished, match="never finished"):
        publish(build.db_path)
    assert published_tables(build.db_path) == {}


def test_tables_edited_after_validation_are_not_published(validated: Build, tmp_path) -> None:
    build = _copy(validated, tmp_path)
    with duckdb.connect(str(build.db_path)) as con:
        con.execute(
            "delete from main_marts.sync_email_audiences where audience_member_id in "
            "(select min(audience_member_id) from main_marts.sync_email_audiences)"
        )
    with pytest.raises(NotPublished, match="changed after they were validated"):
        publish(build.db_path)


def test_a_forged_verdict_or_an_edited_report_is_not_published(
    demo_build: Build, tmp_path: Path
) -> None:
    """A gate that failed (too few persons) cannot be edited into a pass."""
    build = _fail_the_gate(_copy(demo_build, tmp_path))
    passed, _, _ = validate(build.db_path, build.db_path.parent)
    assert not passed
    report = build.db_path.parent / "validation" / "results.json"
    results = json.loads(report.read_text())
    results.update(passed=True, outcomes=[])
    report.write_text(json.dumps(results))
    with pytest.raises(NotPublished, match="quality gate failed"):
        publish(build.db_path)
    with duckdb.connect(str(build.db_path)) as con:
        con.execute(f"update {LEDGER_SCHEMA}.gate_verdicts set passed = true")
    with pytest.raises(NotPublished, match="not signed"):
        publish(build.db_path)
    assert published_tables(build.db_path) == {}


def test_another_database_file_in_the_folder_cannot_publish_for_this_one(
    validated: Build, demo_build: Build, tmp_path: Path
) -> None:
    good = _copy(validated, tmp_path)
    failing = Build(good.data_dir, tmp_path / "other.duckdb", demo_build.manifest, None)
    shutil.copy(demo_build.db_path, failing.db_path)
    _fail_the_gate(failing)
    # The folder's results.json now reports the other file's failed gate ...
    assert not validate(failing.db_path, tmp_path)[0]
    with pytest.raises(NotPublished):
        publish(failing.db_path)
    # ... which neither blocks nor authorises this one: each database holds its own ledger.
    assert "sync_email_audiences" in publish(good.db_path)


def test_a_failed_build_is_neither_validated_nor_published(
    demo_build: Build, tmp_path: Path
) -> None:
    """A user_id that is an e-mail address fails the build (no raw e-mail in sync tables)."""
    build = _copy(demo_build, tmp_path)
    with duckdb.connect(str(build.db_path), read_only=True) as con:
        (user_id,) = con.execute(
            "select user_id from main_marts.sync_crm_traits order by user_id limit 1"
        ).fetchone()
    email = "leaked.person@example.com"
    con = duckdb.connect()
    for table in ("events", "customers", "consents"):
        path = build.data_dir / f"{table}.parquet"
        con.execute(
            f"copy (select * replace (case when user_id = '{user_id}' then '{email}' "
            f"else user_id end as user_id) from '{path}') to '{path}.new' (format parquet)"
        )
        shutil.move(f"{path}.new", path)
    con.close()
    result = run_dbt(
        [*BUILD, "--full-refresh"], data_dir=build.data_dir, db_path=build.db_path,
        as_of=str(build.manifest["last_event_at"]),
    )  # fmt: skip
    assert not result.success
    assert any("no_raw_email" in name for name, _, _ in result.failures), result.failures
    with pytest.raises(NotPublished, match="failed"):
        validate(build.db_path, build.db_path.parent)
    with pytest.raises(NotPublished, match="failed"):
        publish(build.db_path)
    assert published_tables(build.db_path) == {}
