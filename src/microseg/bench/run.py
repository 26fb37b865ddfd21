"""The benchmark's steps, each timed in its own process, and the run that strings them together.

Every measured step runs in its own child process (`python -m microseg.bench <step> ...`),
so each has its own peak RSS (from os.wait4) and nothing is shared between steps. Results
go to `<out>/results-<events>.json` and `<out>/results-<events>.md`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from microseg.bench.baseline import (
    _literal,
    duckdb_settings,
    rfm_segments,
    rule_segments,
    run_baseline,
)
from microseg.bench.report import render_markdown
from microseg.db import one_row, scalar
from microseg.project import (
    FIRST_PHASE_RESULTS,
    SKIP_UNIT_TESTS,
    TRAINING_REPORT,
    project_dir,
    project_vars,
    run_dbt,
)

# Shares of events (by received_at) in the first build and after the +1% incremental run;
# the last 0.1% arrives as a micro-batch.
FIRST_BATCH_SHARE = 0.989
SECOND_BATCH_SHARE = 0.999


@dataclass
class Step:
    """One child process: wall time, peak RSS, CPU time, exit code, and what it reported.

    other_cpu_s is CPU time the machine spent on anything but this step while it ran
    (including VM steal): a busy machine makes a measurement slower, so it is recorded.
    """

    name: str
    seconds: float
    peak_rss_mib: float
    cpu_s: float
    other_cpu_s: float
    returncode: int
    detail: dict[str, Any] = field(default_factory=dict)


# --- child processes ----------------------------------------------------------------
#
# A child reports its own peak RSS (VmHWM of /proc/self/status) on its last output line.
# Not ru_maxrss: on Linux a child's ru_maxrss starts from the parent's peak at fork (the
# kernel carries the pre-exec high-water mark over exec), which would report the parent.


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy (user, nice, system, irq, softirq, steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _report(detail: dict[str, Any]) -> int:
    # On a line of its own: DuckDB's progress bar may leave the current line unfinished.
    print("\n" + json.dumps({**detail, "peak_rss_mib": _peak_rss_mib()}))
    return 0


def _run_child(name: str, args: list[str], log_dir: Path) -> Step:
    """Run `python -m microseg.bench <args>` in its own process and measure it."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("w") as log:
        busy, started = _busy_cpu_seconds(), time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "microseg.bench", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=project_dir(),
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds, busy = time.perf_counter() - started, _busy_cpu_seconds() - busy
    returncode = os.waitstatus_to_exitcode(status)
    # The report is the last JSON line; libraries may still write to stderr at exit
    # (nanobind's leak warnings after GX, for one).
    reports = [line for line in log_path.read_text().splitlines() if line.startswith('{"')]
    detail = json.loads(reports[-1]) if reports else {}
    cpu = usage.ru_utime + usage.ru_stime
    step = Step(
        name,
        seconds=round(seconds, 2),
        peak_rss_mib=detail.pop("peak_rss_mib", 0.0),
        cpu_s=round(cpu, 1),
        other_cpu_s=round(max(busy - cpu, 0.0), 1),
        returncode=returncode,
        detail=detail,
    )
    state = "ok" if returncode == 0 else f"FAILED ({returncode}), see {log_path}"
    print(
        f"  {name:<24} {step.seconds:8.1f} s  {step.peak_rss_mib:8.0f} MiB  "
        f"{step.cpu_s:7.1f} CPU s  {step.other_cpu_s:6.1f} CPU s others  {state}",
        flush=True,
    )
    return step


def _child_generate(argv: list[str]) -> int:
    """Child: the demo data, as `microseg generate` writes it (`generate <events> <seed> <dir>`)."""
    from microseg.generate import GeneratorConfig, generate

    events, seed, data_dir = argv
    manifest = generate(GeneratorConfig(events=int(events), seed=int(seed)), Path(data_dir))
    print(f"wrote {manifest['expected']['events']['raw_rows']:,} events to {data_dir}")
    return _report({})


def _child_validate(argv: list[str]) -> int:
    """Child: the quality gate, as `microseg validate` runs it (`validate <db>`)."""
    from microseg.ledger import NotPublishable
    from microseg.validate import render, validate

    db_path = Path(argv[0])
    try:
        passed, outcomes, seconds = validate(db_path, db_path.parent)
    except NotPublishable as reason:
        print(f"NOT validated: {reason}")
        return 1
    docs = db_path.parent / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    print(render(passed, outcomes, seconds, docs))
    return _report({}) if passed else 1


def _child_split(argv: list[str]) -> int:
    """Child: write the batches (`split <full_dir> <run_dir> <last_event_at>`)."""
    full_dir, run_dir, last_event_at = argv
    return _report(_split_batches(Path(full_dir), Path(run_dir), last_event_at))


def _child_dbt(argv: list[str]) -> int:
    """Child: one dbt command on DuckDB (`dbt <data_dir> <db> <as_of> <dbt args>`)."""
    data_dir, db_path, as_of, *dbt_args = argv
    result = run_dbt(dbt_args, data_dir=Path(data_dir), db_path=Path(db_path), as_of=as_of)
    return _report({}) if result.success else 1


def _child_baseline(argv: list[str]) -> int:
    """Child: the baseline script, stage by stage (`baseline <data_dir> <db> <as_of>`)."""
    data_dir, db_path, as_of = argv
    return _report({"stages": run_baseline(Path(data_dir), Path(db_path), as_of)})


# --- the benchmark ------------------------------------------------------------------


def _split_batches(full_dir: Path, run_dir: Path, last_event_at: str) -> dict[str, Any]:
    """The batches, cut by received_at: the first (everything received up to the quantile
    FIRST_BATCH_SHARE, rows without a receipt time included), the second (up to
    SECOND_BATCH_SHARE: +1%), and the whole data (+0.1%, a micro-batch). Late events
    and re-sent copies among each later batch are counted from the raw rows."""
    events = f"'{full_dir / 'events.parquet'}'"
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    first_cut, second_cut = one_row(
        con,
        f"select quantile_disc(received_at, {FIRST_BATCH_SHARE}), "
        f"quantile_disc(received_at, {SECOND_BATCH_SHARE}) from {events}",
    )
    for name, cutoff in (("first_batch", first_cut), ("second_batch", second_cut)):
        batch_dir = run_dir / name
        batch_dir.mkdir(parents=True, exist_ok=True)
        for table in ("customers", "consents"):
            shutil.copy(full_dir / f"{table}.parquet", batch_dir / f"{table}.parquet")
        con.execute(
            f"copy (select * from {events} where coalesce(received_at <= ?, true)) "
            f"to '{batch_dir / 'events.parquet'}' (format parquet, compression zstd)",
            [cutoff],
        )
    names = ("appended_rows", "appended_occurred_before_cutoff",
             "appended_received_24h_or_more_late", "appended_resent_copies",
             "appended_received_after_last_event_at")  # fmt: skip

    def appended(after: object, until: object | None) -> dict[str, Any]:
        batch = "received_at > $after" + ("" if until is None else " and received_at <= $until")
        counts = one_row(
            con,
            f"""
            select
                count(*) filter (where {batch}),
                count(*) filter (where {batch} and occurred_at <= $after),
                count(*) filter (
                    where {batch} and received_at - occurred_at >= interval 1 day),
                count(*) filter (where {batch} and event_id in (
                    select event_id from {events} where received_at <= $after)),
                count(*) filter (where {batch} and received_at > $last)
            from {events}
            """,
            {"after": after, "last": last_event_at} | ({} if until is None else {"until": until}),
        )
        return dict(zip(names, counts, strict=True))

    totals = one_row(
        con,
        f"select count(*), count(*) filter (where coalesce(received_at <= ?, true)) from {events}",
        [first_cut],
    )
    result = {
        "cutoff": str(first_cut),
        "second_cutoff": str(second_cut),
        "raw_rows": totals[0],
        "first_batch_rows": totals[1],
        **appended(first_cut, second_cut),
        "micro_batch": appended(second_cut, None),
    }
    con.close()
    return result


def _build_stats(target_dir: Path) -> dict[str, dict[str, float]]:
    """Seconds per stage and per model from run_results.json, staged by folder (fqn)."""
    nodes = json.loads((target_dir / "manifest.json").read_text())["nodes"]
    results = [  # both phases of a build (microseg.project.run_dbt)
        result
        for name in (FIRST_PHASE_RESULTS, "run_results.json")
        if (target_dir / name).exists()
        for result in json.loads((target_dir / name).read_text())["results"]
    ]
    stages: dict[str, float] = {}
    models: dict[str, float] = {}
    for result in results:
        unique_id, seconds = result["unique_id"], result.get("execution_time") or 0.0
        kind = unique_id.split(".")[0]
        fqn = nodes.get(unique_id, {}).get("fqn", [])
        if kind in ("test", "unit_test"):
            stage = "tests"
        elif kind == "seed" or (len(fqn) > 2 and fqn[1] == "staging"):
            stage = "staging"
        elif kind == "snapshot":
            stage = "segments"
        elif kind == "model" and len(fqn) > 2:
            stage = fqn[2]
        else:
            stage = "hooks"
        stages[stage] = stages.get(stage, 0.0) + seconds
        if kind in ("model", "seed", "snapshot"):
            models[unique_id.split(".", 2)[-1]] = round(seconds, 3)
    if (training := target_dir / TRAINING_REPORT).exists():
        seconds = json.loads(training.read_text())["seconds"]
        stages["ml"] = stages.get("ml", 0.0) + seconds
        models["microseg train"] = round(seconds, 3)
    return {"stages": {k: round(v, 3) for k, v in stages.items()}, "models": models}


def _file_mib(path: Path) -> float:
    files = [path, path.with_name(path.name + ".wal")]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 2**20, 1)


def build_outputs(db_path: Path, microseg: bool) -> dict[str, Any]:
    """Session count and segment sizes (members, primaries) of a built database. microseg's
    primaries are recomputed among the baseline's segments (no ML segment), which take
    primaries from them by priority."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        if microseg:
            sessions = "main_marts.fct_sessions"
            variables = project_vars()
            compared = ["fallback", *(entry["key"] for entry in rule_segments(variables))]
            compared += [entry["key"] for entry in rfm_segments(variables)]
            memberships = f"""(
                select
                    segment_key,
                    row_number() over (partition by person_key order by priority) = 1
                        as is_primary
                from main_marts.fct_segment_memberships
                where segment_key in ({", ".join(_literal(key) for key in compared)})
            )"""
        else:
            sessions, memberships = "bl_sessions", "bl_segment_memberships"
        rows = con.execute(
            f"select segment_key, count(*), count(*) filter (where is_primary) "
            f"from {memberships} group by 1 order by 1"
        ).fetchall()
        return {
            "sessions": scalar(con, f"select count(*) from {sessions}"),
            "segments": {key: {"members": n, "primary": p} for key, n, p in rows},
        }
    finally:
        con.close()


def compare_outputs(microseg: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    keys = sorted(set(microseg["segments"]) | set(baseline["segments"]))
    empty = {"members": 0, "primary": 0}
    differences = {
        key: {"microseg": microseg["segments"].get(key, empty),
              "baseline": baseline["segments"].get(key, empty)}
        for key in keys
        if microseg["segments"].get(key) != baseline["segments"].get(key)
    }  # fmt: skip
    return {
        "sessions": {"microseg": microseg["sessions"], "baseline": baseline["sessions"]},
        "sessions_equal": microseg["sessions"] == baseline["sessions"],
        "segment_sizes_equal": not differences,
        "segment_differences": differences,
        "segments_compared": len(keys),
    }


def _same_data(manifest_path: Path, events: int, seed: int) -> bool:
    if not manifest_path.exists():
        return False
    generator = json.loads(manifest_path.read_text())["generator"]
    return bool(generator["events"] == events and generator["seed"] == seed)


def run_bench(events: int, seed: int, out_dir: Path, full_only: bool = False) -> dict[str, Any]:
    """Generate (or reuse) the data, time every step in a child process, write the results.

    full_only (a scale run) stops after the full build and its baseline.
    """
    full_dir = out_dir / "data" / f"events-{events}-seed-{seed}"
    run_dir = out_dir / f"run-{events}"
    shutil.rmtree(run_dir, ignore_errors=True)
    first_dir, second_dir, logs, db_path = (
        run_dir / "first_batch",
        run_dir / "second_batch",
        run_dir / "logs",
        run_dir / "microseg.duckdb",
    )
    steps: dict[str, Step] = {}

    def child(name: str, *args: str) -> Step:
        steps[name] = _run_child(name, list(args), logs)
        if steps[name].returncode != 0:
            raise SystemExit(f"bench step {name} failed; see {logs / name}.log")
        return steps[name]

    def dbt(name: str, data_dir: Path, as_of: str, *args: str) -> None:
        child(name, "dbt", str(data_dir), str(db_path), as_of, *args)
        # Each step's node timings, kept beside its log (the next step replaces target/).
        for results in (run_dir / "target").glob("run_results*.json"):
            shutil.copy(results, logs / f"{name}-{results.name}")

    print(f"microseg bench: {events:,} events, seed {seed}, results in {out_dir}")
    if not _same_data(full_dir / "manifest.json", events, seed):
        child("generate", "generate", str(events), str(seed), str(full_dir))
    last_event_at = str(json.loads((full_dir / "manifest.json").read_text())["last_event_at"])
    batches = child("split", "split", str(full_dir), str(run_dir), last_event_at).detail
    first_clock, second_clock = batches["cutoff"], batches["second_cutoff"]

    # dbt's fixed cost. A parse after --vars changed is a full re-parse (the as-of clock is a
    # var, so each batch's clock costs one); a run selecting nothing with the same vars is
    # the warm start-up every build pays (imports, partial parse, connection).
    dbt("dbt_parse_vars_changed", first_dir, first_clock, "parse")
    dbt("dbt_startup", first_dir, first_clock, "run", "--select", "microseg_selects_nothing")
    dbt("full_build", first_dir, first_clock, "build", "--full-refresh")
    full = {**_build_stats(run_dir / "target"), "db_mib": _file_mib(db_path)}
    full_outputs = build_outputs(db_path, microseg=True)
    later: dict[str, Any] = {}
    if not full_only:
        # The later deliveries are scheduled runs: dbt's unit tests (fixtures, not data) ran
        # in the full build and are left out, as `microseg build --skip-unit-tests` does.
        scheduled = ("build", *SKIP_UNIT_TESTS)
        for name, data_dir, clock, parse in (
            ("incremental_build", second_dir, second_clock, "dbt_parse_vars_changed_2"),
            ("micro_batch_build", full_dir, last_event_at, "dbt_parse_vars_changed_3"),
        ):
            dbt(parse, data_dir, clock, "parse")
            dbt(name, data_dir, clock, *scheduled)
            later[name] = {**_build_stats(run_dir / "target"), "db_mib": _file_mib(db_path)}
            later[name.replace("_build", "_outputs")] = build_outputs(db_path, microseg=True)
        # The Great Expectations quality gate on the incrementally built database.
        later["validate"] = asdict(child("validate", "validate", str(db_path)))
    baseline_db = run_dir / "baseline.duckdb"
    baseline: dict[str, Any] = {}
    agreements = {}
    compared = [("baseline", first_dir, first_clock, "full_build", full_outputs)]
    if later:
        compared += [
            ("baseline_second_batch", second_dir, second_clock, "incremental_build",
             later.pop("incremental_outputs")),
            ("baseline_all_events", full_dir, last_event_at, "micro_batch_build",
             later.pop("micro_batch_outputs")),
        ]  # fmt: skip
    for name, data_dir, clock, build, outputs in compared:
        baseline[name] = child(name, "baseline", str(data_dir), str(baseline_db), clock).detail[
            "stages"
        ]
        agreements[build] = compare_outputs(outputs, build_outputs(baseline_db, microseg=False))
    baseline["db_mib"] = _file_mib(baseline_db)

    results = {
        "events": events,
        "seed": seed,
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "machine": _machine(),
        "duckdb_settings": duckdb_settings(),
        "batches": batches,
        "steps": {name: asdict(step) for name, step in steps.items()},
        "full_build": full,
        **later,
        "baseline": baseline,
        "agreement": agreements,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"results-{events}.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = render_markdown(results)
    (out_dir / f"results-{events}.md").write_text(markdown)
    print(markdown)
    return results


def _machine() -> dict[str, Any]:
    memory = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )  # fmt: skip
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory / 2**20, 1),
        "python": sys.version.split()[0],
        "duckdb": duckdb.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    children = {
        "generate": _child_generate,
        "validate": _child_validate,
        "split": _child_split,
        "dbt": _child_dbt,
        "baseline": _child_baseline,
    }
    return children[args[0]](args[1:])
