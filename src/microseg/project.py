"""How to run dbt against the project (where it lives: microseg.dbt_project, re-exported)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from microseg.dbt_project import PACKAGE_ROOT as PACKAGE_ROOT
from microseg.dbt_project import build_dir as build_dir
from microseg.dbt_project import project_dir as project_dir
from microseg.dbt_project import project_vars as project_vars

# dbt's unit tests check the SQL on fixtures, not the data: scheduled builds may leave them
# out (the ledger still counts such a build as complete, microseg.ledger.WITHOUT_UNIT_TESTS).
SKIP_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


@dataclass
class DbtResult:
    success: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)  # status -> nodes
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # name, status, message
    timings: dict[str, float] = field(default_factory=dict)  # node name -> seconds


def run_dbt(
    args: list[str],
    *,
    data_dir: Path,
    db_path: Path,
    as_of: str = "data",
    extra_vars: dict | None = None,
) -> DbtResult:
    """Run one dbt command in-process on DuckDB with the given data and database."""
    from dbt.cli.main import dbtRunner

    from microseg.rules import check_project

    root = project_dir()
    os.environ["MICROSEG_DATA_DIR"] = str(data_dir.resolve())
    db_path = db_path.resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    ensure_hash_salt()
    variables = {"microseg__as_of": as_of, **(extra_vars or {})}
    target_path = db_path.parent / "target"
    (target_path / "run_results.json").unlink(missing_ok=True)
    check_project(root, variables)  # the segment catalogue, before dbt starts
    # dbt runs in the database's folder, the profile naming the file alone: the rendered
    # profile is part of what a saved parse must match, so every folder can reuse one.
    os.environ["MICROSEG_DUCKDB_PATH"] = db_path.name
    with (
        contextlib.chdir(db_path.parent),
        parse_cache(target_path, variables, os.environ.get("MICROSEG_TARGET", "")),
    ):
        result = dbtRunner().invoke(
            [
                *args,
                "--project-dir", str(root),
                "--profiles-dir", str(root),
                "--target-path", str(target_path),
                "--vars", json.dumps(variables),
            ]
        )  # fmt: skip
    os.environ["MICROSEG_DUCKDB_PATH"] = str(db_path)
    _release_duckdb()
    outcome = read_run_results(target_path / "run_results.json", bool(result.success))
    if result.exception is not None:  # e.g. a hook stopped the run: say why, in one line
        reason = " ".join(str(result.exception).split())
        outcome.failures.insert(0, ("dbt", "error", reason))
    return outcome


@contextlib.contextmanager
def parse_cache(target_path: Path, variables: dict, target: str) -> Iterator[None]:
    """Lend dbt the parsed project of the last run with the same vars and target.

    dbt parses the project in full (8-9 s) when its target folder holds no
    partial_parse.msgpack or one saved under other --vars; with a saved one it re-parses only
    the files that changed since. The cache (MICROSEG_PARSE_CACHE, else `parse-cache` in the
    target folder) keeps one per vars and target, shared by every target folder that names it.
    """
    cache = Path(os.environ.get("MICROSEG_PARSE_CACHE") or target_path / "parse-cache")
    key = json.dumps([variables, target], sort_keys=True, default=str)
    cached = cache / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.msgpack"
    saved = target_path / "partial_parse.msgpack"
    target_path.mkdir(parents=True, exist_ok=True)
    if cached.exists():
        shutil.copyfile(cached, saved)
    yield
    if saved.exists():
        cache.mkdir(parents=True, exist_ok=True)
        draft = cache / f".{cached.name}.{os.getpid()}.{secrets.token_hex(4)}"
        shutil.copyfile(saved, draft)
        draft.replace(cached)  # whole, for a concurrent reader


def dev_salt_path() -> Path:
    """This user's dev salt: `$XDG_CONFIG_HOME/microseg/hash_salt` (`~/.config/...`)."""
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or "~/.config").expanduser()
    if not config_home.is_absolute():  # the XDG spec: a relative value is ignored
        config_home = Path("~/.config").expanduser()
    return config_home / "microseg" / "hash_salt"


def ensure_hash_salt(_folder: Path | None = None) -> None:
    """Without MICROSEG_HASH_SALT, set it to this user's dev salt, made once at random.

    Production sets the variable from its secret store. The dev salt is kept (mode 0600)
    outside the project and every folder a build writes, so that segment holdouts and
    pseudonymous ids stay stable from build to build. (`_folder`, a build folder, is ignored.)
    """
    if os.environ.get("MICROSEG_HASH_SALT"):
        return
    path = dev_salt_path()
    if path.resolve().is_relative_to(project_dir().resolve()):
        raise RuntimeError(
            f"the dev hash salt would be kept inside the project ({path}): point "
            "XDG_CONFIG_HOME elsewhere, or set MICROSEG_HASH_SALT"
        )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    if not path.exists():
        # Written whole under another name, then linked: a concurrent build reads either
        # no file or the complete one, and the first link wins.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    path.chmod(0o600)
    salt = path.read_text().strip()
    if len(salt) < 16:
        raise RuntimeError(f"the dev hash salt in {path} is shorter than 16 characters")
    os.environ["MICROSEG_HASH_SALT"] = salt


def _release_duckdb() -> None:
    """dbt-duckdb keeps its connection open in-process; close it so others can open the file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def read_run_results(path: Path, success: bool) -> DbtResult:
    if not path.exists():
        return DbtResult(
            success=success,
            seconds=0.0,
            failures=[("dbt", "error", "dbt did not run any node (see its error above)")],
        )
    results = json.loads(path.read_text())
    outcome = DbtResult(success=success, seconds=results.get("elapsed_time", 0.0))
    for node in results["results"]:
        status = node["status"]
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        name = node["unique_id"].split(".", 2)[-1]
        outcome.timings[name] = node.get("execution_time") or 0.0
        if status in ("error", "fail", "warn", "runtime error"):
            message = (node.get("message") or "").strip().splitlines()
            outcome.failures.append((name, status, message[0] if message else ""))
    return outcome
