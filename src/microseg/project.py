"""How to run dbt against the project (where it lives: microseg.dbt_project, re-exported)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microseg.dbt_project import ML_PHASE_SELECTOR
from microseg.dbt_project import PACKAGE_ROOT as PACKAGE_ROOT
from microseg.dbt_project import build_dir as build_dir
from microseg.dbt_project import project_dir as project_dir
from microseg.dbt_project import project_vars as project_vars
from microseg.dbt_salt_plugin import dev_salt_path as dev_salt_path

if TYPE_CHECKING:
    from microseg.warehouse import Target

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


# Options that narrow a dbt command to part of the project.
_SELECTING = ("--select", "-s", "--exclude", "--selector", "--resource-type", "--resource-types")
FIRST_PHASE_RESULTS = "run_results_first_phase.json"
TRAINING_REPORT = "ml_training.json"  # what `microseg train` did between the phases


def run_dbt(
    args: list[str],
    *,
    data_dir: Path | None = None,
    db_path: Path | None = None,
    as_of: str = "data",
    extra_vars: dict | None = None,
    target: Target | None = None,
) -> DbtResult:
    """Run one dbt command in-process on the target (default: DuckDB at db_path).

    A whole-project `build` with the ML models on runs as `microseg build` does: every
    model but the registry's descendants, then `microseg train`, then those descendants
    (microseg.ledger.ML_PHASES), so that this build's scores use models fitted on this
    build's features. The result covers both phases.
    """
    from microseg.rules import check_project
    from microseg.warehouse import target as default_target

    target = target or default_target("dev", db_path)
    if data_dir is not None:
        os.environ["MICROSEG_DATA_DIR"] = str(data_dir.resolve())
    ensure_hash_salt()
    variables = {"microseg__as_of": as_of, **(extra_vars or {})}
    target_path = target.work_dir / "target"
    for name in ("run_results.json", FIRST_PHASE_RESULTS, TRAINING_REPORT):
        (target_path / name).unlink(missing_ok=True)
    check_project(project_dir(), variables)  # the segment catalogue, before dbt starts
    whole_build = args[:1] == ["build"] and not any(arg in _SELECTING for arg in args)
    if not (whole_build and str(variables.get("microseg__ml_enabled", True)).lower() != "false"):
        return _invoke(args, target, target_path, variables)
    first = _invoke([*args, "--exclude", ML_PHASE_SELECTOR], target, target_path, variables)
    if not first.success:
        first.failures.append(("microseg train", "skipped", "the first phase of the build failed"))
        return first
    (target_path / "run_results.json").replace(target_path / FIRST_PHASE_RESULTS)
    from microseg.ml.training import train
    from microseg.warehouse import connect

    try:
        with connect(target) as warehouse:
            report = train(warehouse, target_path / "manifest.json")
    except Exception as error:  # the registry's descendants are not built: partial, refused
        reason = " ".join(str(error).split())[:300]
        first.success = False
        first.failures.append(("microseg train", "error", f"{type(error).__name__}: {reason}"))
        return first
    print(report.line(), flush=True)
    (target_path / TRAINING_REPORT).write_text(json.dumps(asdict(report)))
    second = _invoke([*args, "--select", ML_PHASE_SELECTOR], target, target_path, variables)
    return _merged(first, second, report.seconds)


# How dbt talks while it runs: "full" (its own log lines, the default for the library
# and the tests) or "progress" (the microseg CLI: a progress bar; dbt's lines go to its
# log file only, MICROSEG_DBT_OUTPUT=full brings them back).
DBT_OUTPUT_ENV = "MICROSEG_DBT_OUTPUT"


def dbt_log_path(target: Target) -> Path:
    """Where dbt's log of runs on this target is written (dbt.log in this folder)."""
    return target.work_dir / "logs"


class _Progress:
    """A progress bar over dbt's nodes, fed by dbtRunner's event callback."""

    def __init__(self, description: str) -> None:
        from tqdm import tqdm

        # On stderr, as progress goes: stdout carries the results (and the demo captures it).
        self.bar = tqdm(desc=description, unit="node", file=sys.stderr, mininterval=0.5)

    def __call__(self, event: Any) -> None:
        name = event.info.name
        if name == "LogStartLine" and not self.bar.total:
            self.bar.total = event.data.total
            self.bar.refresh()
        elif name == "NodeFinished" and event.data.node_info.resource_type != "operation":
            self.bar.set_postfix_str(event.data.node_info.node_name[:40], refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        self.bar.set_postfix_str("")
        self.bar.close()


def _invoke(args: list[str], target: Target, target_path: Path, variables: dict) -> DbtResult:
    from dbt.cli.main import dbtRunner

    root = project_dir()
    target_path.mkdir(parents=True, exist_ok=True)
    options = ["--target", target.name, "--log-path", str(dbt_log_path(target))]
    progress = None
    if os.environ.get(DBT_OUTPUT_ENV, "full") == "progress":
        options += ["--log-level", "none"]
        progress = _Progress(f"dbt {args[0]}")
    folder = target.work_dir
    folder.mkdir(parents=True, exist_ok=True)
    if target.db_path is not None:
        # dbt runs in the database's folder, the profile naming the file alone: the rendered
        # profile is part of what a saved parse must match, so every folder can reuse one.
        os.environ["MICROSEG_DUCKDB_PATH"] = target.db_path.name
    with (
        contextlib.chdir(folder),
        parse_cache(target_path, variables, target.name),
    ):
        try:
            result = dbtRunner(callbacks=[progress] if progress else []).invoke(
                [
                    *args,
                    *options,
                    "--project-dir", str(root),
                    "--profiles-dir", str(root),
                    "--target-path", str(target_path),
                    "--vars", json.dumps(variables),
                ]
            )  # fmt: skip
        finally:
            if progress:
                progress.close()
    if target.db_path is not None:
        os.environ["MICROSEG_DUCKDB_PATH"] = str(target.db_path.resolve())
        _release_duckdb()
    outcome = _read_one(target_path / "run_results.json", bool(result.success))
    if result.exception is not None:  # e.g. a hook stopped the run: say why, in one line
        reason = " ".join(str(result.exception).split())
        outcome.failures.insert(0, ("dbt", "error", reason))
    return outcome


def _merged(first: DbtResult, second: DbtResult, training_seconds: float) -> DbtResult:
    counts = dict(first.counts)
    for status, number in second.counts.items():
        counts[status] = counts.get(status, 0) + number
    return DbtResult(
        success=first.success and second.success,
        seconds=first.seconds + training_seconds + second.seconds,
        counts=counts,
        failures=first.failures + second.failures,
        timings=first.timings | {"microseg train": training_seconds} | second.timings,
    )


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
    """A run's results; with the first phase's beside it (run_dbt), both phases'."""
    first = path.with_name(FIRST_PHASE_RESULTS)
    if path.exists() and first.exists():
        return _merged(_read_one(first, True), _read_one(path, success), 0.0)
    return _read_one(path, success)


def _read_one(path: Path, success: bool) -> DbtResult:
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
            # dbt's first line names the error's kind and node; the second says what it is.
            lines = [line.strip() for line in (node.get("message") or "").splitlines()]
            message = " ".join([line for line in lines if line][:2])
            outcome.failures.append((name, status, message))
    return outcome
