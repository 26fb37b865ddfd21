"""Plain `dbt build`, as a new user runs it: what it needs is created, and what it cannot
do without stops the run at once, in one line that says what to do (docs/dbt.md)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from microseg.project import project_dir


def plain_dbt(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MICROSEG_HASH_SALT", "MICROSEG_DATA_DIR", "MICROSEG_DBT_OUTPUT")
    }
    environment.update(env)
    command = [
        str(Path(sys.executable).parent / "dbt"), *args,
        "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir()),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
    ]  # fmt: skip
    return subprocess.run(command, env=environment, capture_output=True, text=True, cwd=tmp_path)


def test_without_a_salt_the_build_stops_in_one_line_after_creating_its_folder(
    tmp_path: Path,
) -> None:
    database = tmp_path / "fresh" / "build" / "microseg.duckdb"
    run = plain_dbt(
        tmp_path,
        "build",
        MICROSEG_DUCKDB_PATH=str(database),
        XDG_CONFIG_HOME=str(tmp_path / "no-config"),  # no dev salt either
    )
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Traceback" not in output
    assert "MICROSEG_HASH_SALT is not set: export MICROSEG_HASH_SALT=" in output
    assert database.parent.is_dir()  # the folder DuckDB would not create
    assert "PASS=" not in output  # nothing was built


def test_a_database_held_open_elsewhere_is_named_not_a_traceback(tmp_path: Path) -> None:
    database = tmp_path / "microseg.duckdb"
    duckdb.connect(str(database)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; held = duckdb.connect({str(database)!r}, "
         "read_only=True); print('open', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "open"
        started = time.perf_counter()
        run = plain_dbt(
            tmp_path, "build", MICROSEG_DUCKDB_PATH=str(database), MICROSEG_HASH_SALT="s" * 20
        )
        # The microseg command too: publish needs to write the file.
        published = subprocess.run(
            [str(Path(sys.executable).parent / "microseg"), "publish", "--db", str(database)],
            capture_output=True, text=True,
        )  # fmt: skip
    finally:
        holder.kill()
    assert time.perf_counter() - started < 120
    for outcome in (run, published):
        output = outcome.stdout + outcome.stderr
        assert outcome.returncode != 0
        assert f"{database} is open in another process" in output
        assert f"(PID {holder.pid})" in output
        assert "Traceback" not in output


def test_the_selectors_select_what_they_say(tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    common = [
        "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir()),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
    ]  # fmt: skip
    parsed = dbtRunner().invoke(["parse", "--quiet", *common])
    assert parsed.success, parsed.exception

    def listed(*args: str) -> set[str]:
        run = dbtRunner(manifest=parsed.result).invoke(
            ["ls", "--quiet", "--output", "path", *args, *common]
        )
        assert run.success, run.exception
        return set(run.result)

    # The default selector keeps the sources: `dbt source freshness` checks every one.
    assert "models/staging/tracking/_tracking__sources.yml" in listed("--resource-type", "source")
    daily = ["--selector", "daily_incremental"]
    assert listed(*daily, "--resource-type", "unit_test") == set()
    assert listed(*daily, "--resource-type", "model") == listed("--resource-type", "model")
    activation = listed("--selector", "activation", "--resource-type", "model")
    assert activation and all(
        path.startswith(("models/activation/", "models/intermediate/activation/"))
        for path in activation
    ), activation
