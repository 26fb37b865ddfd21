"""microseg: generate demo data, build the dbt project on DuckDB or Snowflake, gate,
publish and export it, and report on it."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from microseg import generate as generator
from microseg.project import (
    SKIP_UNIT_TESTS,
    build_dir,
    project_dir,
    read_run_results,
    run_dbt,
)
from microseg.summary import render
from microseg.warehouse import Target, WarehouseError, connect
from microseg.warehouse import target as warehouse_target


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else build_dir() / "data" / "demo"


def _db_path(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else build_dir() / "microseg.duckdb"


def _target(args: argparse.Namespace) -> Target:
    """--target (else MICROSEG_TARGET, else the DuckDB file of --db)."""
    return warehouse_target(getattr(args, "target", None), _db_path(args))


def cmd_generate(args: argparse.Namespace) -> int:
    _generate(args)
    return 0


def _generate(args: argparse.Namespace) -> bool:
    """Write the demo data; False when --reuse found the same data already there."""
    out_dir = _data_dir(args)
    config = generator.GeneratorConfig(events=args.events, seed=args.seed)
    manifest_path = out_dir / "manifest.json"
    if getattr(args, "reuse", False) and manifest_path.exists():
        previous = json.loads(manifest_path.read_text())["generator"]
        if previous["events"] == args.events and previous["seed"] == args.seed:
            print(f"reusing {out_dir} (same --events and --seed)")
            return False
    from tqdm import tqdm

    stages = ["persons", "sessions", "events", "write events.parquet",
              "customers and consents", "manifest"]  # fmt: skip
    with tqdm(total=len(stages), desc="generate", unit="step", file=sys.stdout) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            if name != stages[0]:
                bar.update(1)

        manifest = generator.generate(config, out_dir, progress=step)
        bar.update(1)
    events = manifest["expected"]["events"]
    print(
        f"wrote {events['raw_rows']:,} events, "
        f"{manifest['expected']['customers']['raw_rows']:,} customers, "
        f"{manifest['expected']['consents']['raw_rows']:,} consent records to {out_dir} "
        f"in {manifest['seconds']:.1f} s"
    )
    return True


def cmd_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    data_dir, chosen = _data_dir(args), _target(args)
    dbt_args = ["build", *(["--full-refresh"] if args.full_refresh else [])]
    if args.skip_unit_tests:
        dbt_args += SKIP_UNIT_TESTS
    if args.select:
        dbt_args += ["--select", args.select]
    event_source = {"microseg__event_source": args.event_source} if args.event_source else {}
    from microseg.rules import check_project

    check_project(project_dir(), {"microseg__as_of": args.as_of, **event_source})  # config first
    # On a warehouse the raw tables are already loaded; on DuckDB they are files to check.
    if chosen.kind == "duckdb" and args.event_source in (None, "contract"):
        from microseg.preflight import check_events

        checked = check_events(data_dir)
        print("\n".join(checked.lines()))
        if checked.problems:
            print("microseg build: stopped before dbt; fix the events file as said above")
            return 1
    result = run_dbt(
        dbt_args,
        data_dir=data_dir if chosen.kind == "duckdb" else None,
        as_of=args.as_of,
        extra_vars=event_source,
        target=chosen,
    )
    where = chosen.db_path or chosen
    print(render(where, result, time.perf_counter() - started, f"microseg build ({chosen.label})"))
    if chosen.kind != "duckdb" or (chosen.db_path and chosen.db_path.exists()):
        redo_exports_after_erasure(chosen)
    return 0 if result.success else 1


def redo_exports_after_erasure(chosen: Target) -> None:
    """Files exported before someone was erased are written again without them."""
    from microseg import ledger
    from microseg.export import NothingPublished, export

    with connect(chosen, read_only=True) as warehouse:
        redo = ledger.exports_to_redo(warehouse)
    for folder, file_format, files in redo:
        for relative in files:
            (folder / relative).unlink(missing_ok=True)
        try:
            written = export(chosen, folder, file_format)
        except NothingPublished:
            written = {}
        with connect(chosen) as warehouse:
            ledger.record_export(warehouse, folder, file_format, sorted(written))
        print(f"erasure: rewrote {len(written)} exported files in {folder} without erased persons")


def cmd_train(args: argparse.Namespace) -> int:
    """Fit the models that are due on the last build's features (microseg.ml.training)."""
    from microseg.ml.training import train

    chosen = _target(args)
    manifest = chosen.work_dir / "target" / "manifest.json"
    if not manifest.exists() or (chosen.db_path and not chosen.db_path.exists()):
        print(f"nothing to train on: no build of {chosen.label} here; run `microseg build`")
        return 1
    with connect(chosen) as warehouse:
        report = train(warehouse, manifest)
    print(report.line())
    if report.trained:
        print("the next `microseg build` scores with them")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """generate (once) -> [last month: build, validate, publish, campaign] -> build ->
    validate -> publish -> report; stops at the first failure."""
    started = time.perf_counter()
    args.reuse, args.target = True, "dev"  # the demo is the embedded DuckDB default
    # New raw files replace the old ones rather than append to them: rebuild from scratch.
    args.full_refresh = _generate(args) or args.full_refresh
    data_dir, done = _data_dir(args), list[str]()
    if (
        args.full_refresh
        or not (data_dir / "campaign.json").exists()
        or not _db_path(args).exists()
    ):
        print("\n>> last month: the shop as it stood before the campaign, built and published")
        if (status := _campaign(args, data_dir, done)) != 0:
            return _demo_finished(args, started, done, status)
    status = 0
    for step in (cmd_build, cmd_validate, cmd_publish, cmd_report):
        print()
        name = step.__name__.removeprefix("cmd_")
        if (status := step(args)) != 0:
            done.append(f"{name} FAILED (see above)")
            break
        done.append(f"{name} ok")
    if status == 0:
        from microseg.summary import lift_lines

        print("\n" + "\n".join(lift_lines(_target(args))))
    return _demo_finished(args, started, done, status)


def _campaign(args: argparse.Namespace, data_dir: Path, done: list[str]) -> int:
    """Build and publish the data as it stood HISTORY_DAYS before its end, then let a
    simulated ESP e-mail the published audience (microseg.generate.campaign)."""
    from microseg.generate import campaign

    manifest = json.loads((data_dir / "manifest.json").read_text())
    cutoff = campaign.history_cutoff(manifest)
    history = data_dir.with_name(f"{data_dir.name}_history")
    campaign.write_history(data_dir, history, cutoff)
    _db_path(args).unlink(missing_ok=True)  # the demo's history starts with this build
    args.data_dir, args.full_refresh = str(history), True
    try:
        for step in (cmd_build, cmd_validate, cmd_publish):
            # One line a step: what it printed is shown only when it failed.
            name = step.__name__.removeprefix("cmd_")
            with contextlib.redirect_stdout(io.StringIO()) as said:
                status = step(args)
            if status != 0:
                print(said.getvalue())
                done.append(f"last month's {name} FAILED")
                return status
            print(f"last month's {name}: {_headline(said.getvalue())}")
    finally:
        args.data_dir, args.full_refresh = str(data_dir), False
    done.append("last month ok")
    with connect(_target(args), read_only=True) as warehouse:
        audience = warehouse.frame(
            f"select user_id, segment_key from {_target(args).layer('published')}"
            ".sync_email_audiences order by 1, 2"
        )
    end = datetime.fromisoformat(str(manifest["generator"]["end"]))
    report = campaign.simulate(audience, data_dir, cutoff, end, args.seed)
    print(f"\n{report.line()}")
    return 0


def _headline(text: str) -> str:
    """The line of a step's output that says how it went (its last, failing that)."""
    lines = [line for line in text.splitlines() if line.strip()]
    verdicts = [
        line for line in lines if line.startswith(("dbt build ", "quality gate ", "published "))
    ]
    headline = (verdicts or lines or ["ok"])[0 if verdicts else -1]
    return headline.split(": ", 1)[0] if headline.startswith("published ") else headline


def _demo_finished(args: argparse.Namespace, started: float, done: list[str], status: int) -> int:
    from microseg.report import default_path

    report = default_path(_target(args))
    print(
        f"\ndemo finished in {time.perf_counter() - started:.1f} s: {', '.join(done)} "
        f"(DuckDB file: {_db_path(args)})"
    )
    if status == 0 and report.exists():
        print(f"segment report: {report.resolve()}")
    return status


def cmd_report(args: argparse.Namespace) -> int:
    """The segment report: one offline HTML file from the published schema (docs/report.md)."""
    from microseg.report import NothingPublished, default_path, write_report

    chosen = _target(args)
    out = Path(args.out) if getattr(args, "out", None) else default_path(chosen)
    try:
        written = write_report(chosen, out, chosen.work_dir / "validation" / "results.json")
    except NothingPublished as reason:
        print(f"no report: {reason}")
        return 1
    print("\n".join(written.lines()))
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    chosen = _target(args)
    result = read_run_results(chosen.work_dir / "target" / "run_results.json", True)
    where = chosen.db_path or chosen
    print(render(where, result, 0.0, f"microseg summary of the last build ({chosen.label})"))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from microseg.ledger import NotPublishable
    from microseg.validate import render, validate

    chosen = _target(args)
    out_dir = chosen.work_dir
    try:
        passed, outcomes, seconds = validate(chosen, out_dir)
    except NotPublishable as reason:
        print(f"NOT validated: {reason}")
        return 1
    docs = out_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    from microseg.report import write_gate_page

    validation = out_dir / "validation"
    page = write_gate_page(validation / "results.json", validation / "gate.html")
    print(render(passed, outcomes, seconds, docs, page))
    return 0 if passed else 1


def cmd_publish(args: argparse.Namespace) -> int:
    from microseg.publish import NotPublished, publish

    chosen = _target(args)
    published = chosen.layer("published")
    try:
        tables = publish(chosen)
    except NotPublished as reason:
        print(f"NOT published ({reason}); {published} keeps the previous version")
        return 1
    print(f"published {len(tables)} public marts to {published}: {', '.join(tables)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from microseg.export import NothingPublished, export
    from microseg.ledger import record_export

    chosen = _target(args)
    out_dir = Path(args.out) if args.out else build_dir() / "export"
    try:
        written = export(chosen, out_dir, args.format)
    except NothingPublished as reason:
        print(f"nothing exported: {reason}")
        return 1
    with connect(chosen) as warehouse:
        record_export(warehouse, out_dir, args.format, sorted(written))
    for relative, rows in written.items():
        print(f"{rows:>10,}  {out_dir / relative}")
    print(f"exported {len(written)} files to {out_dir}")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    root = project_dir()
    paths = args.paths or ["models", "tests", "analyses", "snapshots"]
    existing = [p for p in paths if (root / p).exists()]
    # The dbt templater compiles the project; keep it off the demo database.
    env = {
        **os.environ,
        "MICROSEG_DUCKDB_PATH": str(build_dir() / "lint.duckdb"),
    }
    build_dir().mkdir(exist_ok=True)
    import importlib.util

    if importlib.util.find_spec("sqlfluff") is None:
        print(
            "microseg lint: sqlfluff is a dev tool: `make venv` installs it (requirements-dev.lock)"
        )
        return 1
    return subprocess.call(
        [sys.executable, "-m", "sqlfluff", "lint", *existing, "--processes", "2"], cwd=root, env=env
    )


# --- bench (issue 8) ------------------------------------------------------------------
def cmd_bench(args: argparse.Namespace) -> int:
    from microseg.bench import run_bench

    out = Path(args.out) if args.out else build_dir() / "bench"
    run_bench(args.events, args.seed, out, full_only=args.full_only)
    return 0


# --- end bench ----------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="microseg", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)

    def data_options(command: argparse.ArgumentParser, targets: bool = True) -> None:
        command.add_argument("--data-dir", help="Parquet input folder (default build/data/demo)")
        command.add_argument("--db", help="DuckDB file (default build/microseg.duckdb)")
        if targets:
            command.add_argument(
                "--target",
                choices=["dev", "snowflake", "fakesnow"],
                help="the profiles.yml target: dev (the DuckDB file, default), snowflake "
                "(credentials from SNOWFLAKE_* variables), fakesnow (emulated, tests only); "
                "default MICROSEG_TARGET, else dev",
            )

    def generator_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--events", type=int, default=1_000_000, help="about this many")
        command.add_argument("--seed", type=int, default=42)

    def build_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--as-of",
            default="data",
            help="clock for time-relative logic: 'data' (default: the latest clean receipt in "
            "the loaded events, computed in the warehouse), 'now', or a timestamp",
        )
        command.add_argument(
            "--event-source",
            choices=["contract", "segment", "snowplow", "ga4"],
            help="which tracker's tables the events come from (var microseg__event_source; "
            "default contract: events.parquet in the input contract)",
        )
        command.add_argument("--full-refresh", action="store_true")
        command.add_argument("--select", help="dbt node selection")
        command.add_argument(
            "--skip-unit-tests",
            action="store_true",
            help="leave out dbt's unit tests (fixtures, not data: for scheduled runs once CI "
            "has run them); the build can still be published",
        )

    generate_cmd = commands.add_parser("generate", help="write demo data as Parquet")
    generator_options(generate_cmd)
    data_options(generate_cmd, targets=False)
    generate_cmd.set_defaults(func=cmd_generate)

    build_cmd = commands.add_parser(
        "build", help="dbt build (with `microseg train` between its two phases), then a summary"
    )
    data_options(build_cmd)
    build_options(build_cmd)
    build_cmd.set_defaults(func=cmd_build)

    demo_cmd = commands.add_parser(
        "demo",
        help="the main job: generate (once), last month's build and a simulated campaign, "
        "then build, validate, publish and report",
    )
    generator_options(demo_cmd)
    data_options(demo_cmd, targets=False)
    build_options(demo_cmd)
    demo_cmd.set_defaults(func=cmd_demo)

    train_cmd = commands.add_parser(
        "train", help="fit the ML models that are due on the last build (build does it too)"
    )
    data_options(train_cmd)
    train_cmd.set_defaults(func=cmd_train)

    summary_cmd = commands.add_parser("summary", help="summarise the last build")
    data_options(summary_cmd)
    summary_cmd.set_defaults(func=cmd_summary)

    validate_cmd = commands.add_parser(
        "validate", help="run the Great Expectations quality gate on the last build"
    )
    data_options(validate_cmd)
    validate_cmd.set_defaults(func=cmd_validate)

    publish_cmd = commands.add_parser(
        "publish", help="make the validated build visible to BI and syncs (write-audit-publish)"
    )
    data_options(publish_cmd)
    publish_cmd.set_defaults(func=cmd_publish)

    export_cmd = commands.add_parser(
        "export", help="write the sync tables and per-segment upload lists to files"
    )
    data_options(export_cmd)
    export_cmd.add_argument("--out", help="folder (default build/export)")
    export_cmd.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export_cmd.set_defaults(func=cmd_export)

    report_cmd = commands.add_parser(
        "report", help="write the segment report (one offline HTML file) from the published schema"
    )
    data_options(report_cmd)
    report_cmd.add_argument("--out", help="HTML file (default <build>/report/index.html)")
    report_cmd.set_defaults(func=cmd_report)

    lint_cmd = commands.add_parser("lint", help="sqlfluff with the dbt templater")
    lint_cmd.add_argument("paths", nargs="*")
    lint_cmd.set_defaults(func=cmd_lint)

    # --- bench (issue 8) ---
    bench_cmd = commands.add_parser(
        "bench", help="time a full build, a 1%% incremental run and a plain-DuckDB baseline"
    )
    generator_options(bench_cmd)
    bench_cmd.add_argument("--out", help="results folder (default build/bench)")
    bench_cmd.add_argument(
        "--full-only", action="store_true",
        help="a scale run: the full build and its baseline, no later deliveries",
    )  # fmt: skip
    bench_cmd.set_defaults(func=cmd_bench)
    # --- end bench ---
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from microseg.project import DBT_OUTPUT_ENV
    from microseg.rules import CatalogueError

    # A progress bar for dbt, its log lines in its log file (MICROSEG_DBT_OUTPUT=full: on screen).
    output = os.environ.get(DBT_OUTPUT_ENV)
    os.environ[DBT_OUTPUT_ENV] = output or "progress"
    try:
        return int(args.func(args))
    except (CatalogueError, WarehouseError) as refused:  # refused on its input: one line
        print(f"microseg {args.command}: {refused}", file=sys.stderr)
        return 1
    finally:
        if output is None:
            del os.environ[DBT_OUTPUT_ENV]


def run() -> None:
    """The `microseg` command: main(), then an exit without the interpreter's teardown.

    Objects GX and dbt leave behind are still alive at teardown, and DuckDB's bindings
    (nanobind) report each as a leak: dozens of lines of noise under the summary. Every
    connection is closed and every result written by then; the exit handlers (logging,
    multiprocessing's clean-up) run, and the streams are flushed, before the exit.
    """
    import atexit

    code = main()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
