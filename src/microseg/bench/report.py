"""The benchmark's results as Markdown."""

from __future__ import annotations

import json
from typing import Any

# Stages compared with the baseline; the others (ml, activation, tests, hooks) have none.
COMPARED_STAGES = ("staging", "sessions", "features", "segments")


def _rate(events: int, seconds: float | None) -> str:
    return f"{events / seconds:,.0f}" if seconds else "n/a"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    return f"{numerator / denominator:.2f}" if numerator is not None and denominator else "n/a"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def render_markdown(results: dict[str, Any]) -> str:
    steps, batches, machine = results["steps"], results["batches"], results["machine"]
    # A scale run (--full-only) has the full build and its baseline, no later deliveries.
    full = results["full_build"]["stages"]
    later = results.get("incremental_build", {}).get("stages", {})
    micro = results.get("micro_batch_build", {}).get("stages", {})

    def measured(step: str, key: str) -> float | None:
        return steps.get(step, {}).get(key)

    micro_rows = batches["micro_batch"]["appended_rows"]
    baseline: dict[str, float] = results["baseline"]["baseline"]
    events = batches["first_batch_rows"]
    lines = [
        f"# microseg bench: {results['events']:,} events, seed {results['seed']}",
        "",
        f"{machine['cpus']} cores, {machine['memory_gib']} GiB RAM, DuckDB {machine['duckdb']}, "
        f"Python {machine['python']}; DuckDB settings {results['duckdb_settings']}; "
        f"measured {results['measured_at']}.",
        "",
        f"Full build: `dbt build --full-refresh` on the {events:,} raw events received up to "
        f"{batches['cutoff']} (a quantile of received_at). Incremental: `dbt build` "
        f"after {batches['appended_rows']:,} more rows arrived: "
        f"{batches['appended_occurred_before_cutoff']:,} late (happened before the cut-off), "
        f"{batches['appended_received_24h_or_more_late']:,} received 24 h or more after they "
        f"happened, {batches['appended_resent_copies']:,} re-sent copies of loaded events, "
        f"{batches['appended_received_after_last_event_at']:,} with absurd future receipt times. "
        f"Micro-batch: `dbt build` after the last {micro_rows:,} rows. Both later runs are "
        "scheduled runs without dbt's unit tests (`--exclude-resource-type unit_test`; the full "
        "build ran them).",
        "",
        "Stage seconds are sums of dbt's node execution times (run_results.json); with 2 dbt "
        "threads two nodes can share the cores, so sums can exceed the wall time. Events/s is "
        "the step's raw events divided by seconds. The baseline is bench/baseline.sql on the "
        "same Parquet (no quarantine, no tests, no activation). CPU s of other processes is "
        "what the machine spent on anything else during a step: more than a few seconds means "
        "something else competed for the cores and the step's times are inflated.",
        "",
        "| stage | full build s | events/s | baseline s | events/s | microseg / baseline "
        "| incremental s | incremental / full | micro-batch s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for stage in (*COMPARED_STAGES, "ml", "activation", "tests"):
        ours, theirs = full.get(stage, 0.0), baseline.get(stage)
        lines.append(
            f"| {stage} | {ours:.1f} | {_rate(events, ours)} | {_seconds(theirs)} | "
            f"{_rate(events, theirs)} | {_ratio(ours, theirs)} | {_seconds(later.get(stage))} | "
            f"{_ratio(later.get(stage), ours)} | {_seconds(micro.get(stage))} |"
        )
    ours, theirs = sum(full.get(s, 0.0) for s in COMPARED_STAGES), sum(baseline.values())
    incremental = sum(later.get(s, 0.0) for s in COMPARED_STAGES) if later else None
    micro_sum = sum(micro.get(s, 0.0) for s in COMPARED_STAGES) if micro else None
    full_wall, base_wall = steps["full_build"]["seconds"], steps["baseline"]["seconds"]
    incremental_wall, micro_wall, startup = (
        measured("incremental_build", "seconds"),
        measured("micro_batch_build", "seconds"),
        steps["dbt_startup"]["seconds"],
    )
    full_cpu, base_cpu = steps["full_build"]["cpu_s"], steps["baseline"]["cpu_s"]
    lines += [
        f"| **compared stages** | {ours:.1f} | {_rate(events, ours)} | {theirs:.1f} | "
        f"{_rate(events, theirs)} | {_ratio(ours, theirs)} | {_seconds(incremental)} | "
        f"{_ratio(incremental, ours)} | {_seconds(micro_sum)} |",
        f"| **wall time of the step** | {full_wall:.1f} | {_rate(events, full_wall)} | "
        f"{base_wall:.1f} | {_rate(events, base_wall)} | {_ratio(full_wall, base_wall)} | "
        f"{_seconds(incremental_wall)} | {_ratio(incremental_wall, full_wall)} | "
        f"{_seconds(micro_wall)} |",
        f"| **CPU s of the step** | {full_cpu:.1f} | - | {base_cpu:.1f} | - | "
        f"{_ratio(full_cpu, base_cpu)} | {_seconds(measured('incremental_build', 'cpu_s'))} | "
        f"{_ratio(measured('incremental_build', 'cpu_s'), full_cpu)} | "
        f"{_seconds(measured('micro_batch_build', 'cpu_s'))} |",
        "",
        "| step (own process) | wall s | peak RSS MiB | CPU s | CPU s of other processes |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {name} | {step['seconds']:.1f} | {step['peak_rss_mib']:,.0f} | {step['cpu_s']:.1f} "
            f"| {step['other_cpu_s']:.1f} |"
            for name, step in steps.items()
        ),
        "",
        f"- dbt start-up: {startup:.1f} s (`dbt run` selecting nothing, warm partial parse); "
        f"{steps['dbt_parse_vars_changed']['seconds']:.1f} s for `dbt parse` after --vars "
        "changed (a full re-parse; each new as-of clock costs one, not counted in the builds).",
        f"- Targets: full build CPU s <= 1.5 x the baseline's: measured "
        f"{_ratio(full_cpu, base_cpu)} x ({full_wall:.1f} s wall, `dbt build`, tests included). "
        f"Incremental / full (wall): {_ratio(incremental_wall, full_wall)} (target <= 0.10). "
        f"Micro-batch: {_seconds(micro_wall)} s against start-up + 15 s = {startup + 15:.1f} s.",
        f"- DuckDB file: {results['full_build']['db_mib']:,} MiB after the full build; "
        f"baseline file {results['baseline']['db_mib']:,} MiB.",
    ]
    if "incremental_build" not in results:
        lines.append("- Scale run (`--full-only`): no later deliveries and no gate were run.")
    else:
        validate = results["validate"]
        lines += [
            f"- DuckDB file: {results['incremental_build']['db_mib']:,} MiB after the incremental "
            f"run, {results['micro_batch_build']['db_mib']:,} MiB after the micro-batch.",
            f"- `microseg validate` (Great Expectations gate, after the incremental build): "
            f"{validate['seconds']:.1f} s, peak RSS {validate['peak_rss_mib']:,.0f} MiB.",
        ]
    for build, agreement in results["agreement"].items():
        sessions = agreement["sessions"]
        segments = (
            f"equal for all {agreement['segments_compared']} segments"
            if agreement["segment_sizes_equal"]
            else "DIFFERENT: " + json.dumps(agreement["segment_differences"])
        )
        lines.append(
            f"- {build} vs baseline on the same events: sessions {sessions['microseg']:,} vs "
            f"{sessions['baseline']:,} ({'equal' if agreement['sessions_equal'] else 'DIFFERENT'})"
            f"; segment sizes (members, primary members) {segments}."
        )
    return "\n".join(lines) + "\n"
