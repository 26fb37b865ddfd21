"""The short human summary at the end of a run: rows per layer and what was rejected."""

from __future__ import annotations

from pathlib import Path

from microseg.db import scalar
from microseg.project import DbtResult, dbt_log_path
from microseg.warehouse import Target, Warehouse, connect, target

LAYERS = (
    ("staging", "stg_tracking__events"),
    ("staging", "stg_crm__customers"),
    ("staging", "stg_crm__consents"),
    ("intermediate", "int_sessionized_events"),
    ("marts", "fct_sessions"),
    ("marts", "dim_identity_map"),
    ("marts", "dim_persons"),
    ("marts", "fct_segment_memberships"),
    ("marts", "sync_email_audiences"),
    ("marts", "sync_ad_audiences"),
    ("marts", "sync_crm_traits"),
)
TRIAGED = (
    ("events", "base_tracking__events"),
    ("customers", "base_crm__customers"),
    ("consents", "base_crm__consents"),
)


def _open(where: Path | Target) -> Warehouse:
    return connect(where if isinstance(where, Target) else target("dev", where), read_only=True)


def _relations(con: Warehouse) -> dict[str, str]:
    """Table name -> schema.table of what the build wrote (not the published copies)."""
    published = con.target.layer("published").lower()
    rows = con.execute("select table_name, table_schema from information_schema.tables").fetchall()
    return {
        str(name).lower(): f"{schema}.{name}"
        for name, schema in rows
        if not str(schema).lower().startswith(published)
    }


def staging_counts(where: Path | Target) -> dict[str, dict[str, int]]:
    """Per source: raw, clean, duplicate and quarantined rows by reason."""
    con = _open(where)
    try:
        relations = _relations(con)
        counts: dict[str, dict[str, int]] = {}
        for source, model in TRIAGED:
            if model not in relations:
                continue
            rows = con.execute(
                f"select row_status, coalesce(quarantine_reason, ''), count(*) "
                f"from {relations[model]} group by 1, 2"
            ).fetchall()
            per_source = {"raw": 0, "clean": 0, "duplicate": 0, "quarantined": 0}
            for status, reason, count in rows:
                per_source["raw"] += count
                per_source[status] += count
                if reason:
                    per_source[f"quarantined:{reason}"] = count
            counts[source] = per_source
        counts["layers"] = {
            f"{layer}.{model}": scalar(con, f"select count(*) from {relations[model]}")
            for layer, model in LAYERS
            if model in relations
        }
        if "fct_sessions" in relations:
            counts["layers"]["persons with sessions"] = scalar(
                con, f"select count(distinct person_key) from {relations['fct_sessions']}"
            )
        if "stg_tracking__events" in relations:
            counts["events"]["bot"] = scalar(
                con, f"select count(*) from {relations['stg_tracking__events']} where is_bot"
            )
        return counts
    finally:
        con.close()


def segment_rows(where: Path | Target) -> list[tuple]:
    """dim_segments by priority: key, parent, members, share, primaries, conversion,
    revenue per person, and why a segment is not activated (empty when it is)."""
    con = _open(where)
    try:
        relations = _relations(con)
        if "dim_segments" not in relations:
            return []
        return con.execute(
            f"""
            select
                segment_key, coalesce(parent_segment_key, ''), member_count,
                coalesce(share_of_persons, 0), primary_member_count,
                coalesce(conversion_rate_30d, 0), coalesce(revenue_per_person_90d, 0),
                case when is_activatable then '' else status_reason end
            from {relations["dim_segments"]}
            order by priority
            """
        ).fetchall()
    finally:
        con.close()


def render_segments(rows: list[tuple]) -> list[str]:
    header = (
        f"{'segment':<32} {'parent':<10} {'members':>8} {'share':>6} {'primary':>8} "
        f"{'conv 30d':>8} {'rev/p 90d':>9}  not activated"
    )
    lines = [header]
    for key, parent, members, share, primary, conversion, revenue, reason in rows:
        lines.append(
            f"{key:<32} {parent:<10} {members:>8,} {share:>6.1%} {primary:>8,} "
            f"{conversion:>8.1%} {revenue:>9,.0f}  {reason}"
        )
    return lines


def ml_lines(where: Path | Target) -> list[str]:
    """The clusters (label, size, silhouette), the propensity models' held-out quality, and
    every skipped model with the reason it was skipped."""
    con = _open(where)
    try:
        relations = _relations(con)
        if "fct_ml_model_quality" not in relations:
            return []
        clusters = (
            con.execute(
                f"""
                select cluster_id, cluster_label, persons, share_of_clustered, avg_events_30d,
                    avg_days_since_last_seen, avg_purchases, silhouette, davies_bouldin
                from {relations["dim_clusters"]} order by cluster_id
                """
            ).fetchall()
            if "dim_clusters" in relations
            else []
        )
        quality = con.execute(
            f"""
            select model_name,
                max(case when metric = 'roc_auc' then value end),
                max(case when metric = 'baseline_roc_auc' then value end),
                max(case when metric = 'precision_at_top_decile' then value end),
                max(case when metric = 'positive_rate' then value end)
            from {relations["fct_ml_model_quality"]}
            where metric_group = 'summary' and model_name != 'segmentation'
            group by 1
            having max(case when metric = 'roc_auc' then value end) is not null
            order by 1 desc
            """
        ).fetchall()
        columns = {
            row[0]
            for row in con.execute(
                f"select * from {relations['fct_ml_model_quality']} limit 0"
            ).description
        }
        skipped = (
            con.execute(
                f"""
                select model_name, reason from {relations["fct_ml_model_quality"]}
                where metric_group = 'status' and status = 'skipped' order by model_name
                """
            ).fetchall()
            if {"status", "reason"} <= columns
            else []
        )
    finally:
        con.close()
    lines = []
    if clusters:
        silhouette, davies_bouldin = clusters[0][-2:]
        lines += [
            f"clusters: k={len(clusters)}, silhouette {silhouette:.3f}, "
            f"Davies-Bouldin {davies_bouldin:.2f}",
            f"  {'id':>3} {'label':<16} {'persons':>8} {'share':>6} {'events 30d':>10} "
            f"{'days idle':>9} {'purchases':>9}",
        ]
        lines.extend(
            f"  {cid:>3} {label:<16} {n:>8,} {share:>6.1%} {events:>10.1f} {idle:>9.0f} "
            f"{buys:>9.2f}"
            for cid, label, n, share, events, idle, buys, _, _ in clusters
        )
    if quality:
        lines.append("propensity on the held-out window (ROC-AUC vs recency alone):")
        lines.extend(
            f"  {name:<20} ROC-AUC {auc:.3f} (baseline {baseline:.3f}), "
            f"top-decile precision {precision:.1%} vs base rate {rate:.1%}"
            for name, auc, baseline, precision, rate in quality
        )
    if skipped:
        lines.append("models not trained on this data:")
        lines.extend(f"  {name:<20} skipped: {reason}" for name, reason in skipped)
    return lines


CLOCK_SOURCES = {
    "data": "the latest clean receipt in the loaded events",
    "now": "the time of the build",
}


def clock_line(where: Path | Target) -> str | None:
    """The as-of clock the last build used, and where it came from."""
    con = _open(where)
    try:
        relations = _relations(con)
        if "base_tracking__events" not in relations:
            return None
        setting = "data"
        if "builds" in relations:
            row = con.execute(
                f"select as_of from {relations['builds']} where command in ('build', 'run') "
                "order by started_at desc limit 1"
            ).fetchone()
            setting = str(row[0]) if row and row[0] else setting
        if "dim_persons" in relations:
            clock = scalar(con, f"select max(features_as_of) from {relations['dim_persons']}")
        else:
            clock = None
        clean = scalar(
            con,
            f"select count(*) from {relations['base_tracking__events']} where row_status = 'clean'",
        )
    finally:
        con.close()
    source = CLOCK_SOURCES.get(setting.lower(), "fixed by --as-of / var microseg__as_of")
    if not clean and setting.lower() == "data":
        return (
            f"clock: {clock or 'none'} (no clean events, so the time of the build: nothing here is "
            "time-relative; see the quarantine reasons below)"
        )
    return f"clock: {clock} ({source})"


def unmapped_lines(where: Path | Target, top: int = 10) -> list[str]:
    """The most frequent unknown event names and unmatched categories, with the fix."""
    con = _open(where)
    try:
        relations = _relations(con)
        if "fct_unmapped_values" not in relations:
            return []
        rows = con.execute(
            f"""
            select value_kind, coalesce(raw_value, '(null)'), row_count, share_of_kind, fix,
                count(*) over (partition by value_kind) as kinds
            from {relations["fct_unmapped_values"]}
            qualify row_number() over (partition by value_kind order by row_count desc) <= {top}
            order by value_kind, row_count desc, 2
            """
        ).fetchall()
    finally:
        con.close()
    headings = {
        "event_name": "unknown event names, quarantined as unknown_event_type",
        "page_category": "page categories not in the interest taxonomy (no interest)",
        "product_category": "product categories not in the interest taxonomy (no interest)",
    }
    lines: list[str] = []
    for kind in headings:
        kind_rows = [row for row in rows if row[0] == kind]
        if not kind_rows:
            continue
        shown = f"top {len(kind_rows)} of {kind_rows[0][5]}" if kind_rows[0][5] > top else "all"
        lines.append(f"{headings[kind]} ({shown}); {kind_rows[0][4]}:")
        lines.extend(
            f"  {value[:40]:<40} {n:>10,} {share:>6.1%}" for _, value, n, share, _, _ in kind_rows
        )
    return lines


def activation_lines(where: Path | Target) -> list[str]:
    """Who the sync tables leave out, per channel and reason (fct_activation_withheld)."""
    con = _open(where)
    try:
        relations = _relations(con)
        if "fct_activation_withheld" not in relations:
            return []
        rows = con.execute(
            f"select channel, withheld_reason, count(*) from "
            f"{relations['fct_activation_withheld']} group by 1, 2 order by 1, 3 desc"
        ).fetchall()
    finally:
        con.close()
    per_channel: dict[str, list[str]] = {}
    for channel, reason, count in rows:
        per_channel.setdefault(channel, []).append(f"{reason} {count:,}")
    return ["withheld from the sync tables (fct_activation_withheld):"] + [
        f"  {channel:<6} {', '.join(reasons)}" for channel, reasons in per_channel.items()
    ]


def lift_lines(where: Path | Target) -> list[str]:
    """The published lift of every measured segment at the longest window: on its e-mail
    audience when it has one, else its first channel, else all members."""
    con = _open(where)
    try:
        schema = con.target.layer("published")
        if not con.has_table(schema, "fct_segment_lift"):
            return ["lift: nothing published yet (run `microseg publish`)"]
        rows = con.execute(
            f"""
            select
                segment_key, channel, window_days, treated_persons, holdout_persons,
                treated_conversion_rate, holdout_conversion_rate, absolute_lift, lift_low,
                lift_high, p_value, verdict, confidence_level
            from {schema}.fct_segment_lift as lift
            where window_days = (select max(window_days) from {schema}.fct_segment_lift)
            qualify row_number() over (
                partition by segment_key
                order by channel = 'email' desc, channel = 'all', channel
            ) = 1
            order by p_value is null, p_value, segment_key
            """
        ).fetchall()
    finally:
        con.close()
    if not rows:
        return [
            "lift: no segment has members whose measurement window has ended (members "
            "entered less than microseg__lift_windows_days ago, or this is the first build)"
        ]
    lines = [
        f"lift in the {rows[0][2]} days after entry, activated vs held out (fct_segment_lift):",
        f"{'segment':<32} {'channel':<7} {'treated':>8} {'holdout':>8} {'conv t':>7} "
        f"{'conv h':>7} {'lift':>7} {f'{rows[0][12]:.0%} interval':>17} {'p':>6}  verdict",
    ]
    for key, channel, _, treated, holdout, rate_t, rate_h, lift, low, high, p, verdict, _ in rows:
        interval = "" if low is None else f"[{low:+.1%}, {high:+.1%}]"
        lines.append(
            f"{key:<32} {channel:<7} {treated:>8,} {holdout:>8,} {_percent(rate_t):>7} "
            f"{_percent(rate_h):>7} {'' if lift is None else f'{lift:+.1%}':>7} "
            f"{interval:>17} {'' if p is None else f'{p:.3f}':>6}  {verdict}"
        )
    return lines


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def render(where: Path | Target, result: DbtResult, wall_seconds: float, title: str) -> str:
    lines = [f"== {title} =="]
    status = "succeeded" if result.success else "FAILED"
    nodes = ", ".join(f"{count} {name}" for name, count in sorted(result.counts.items()))
    lines.append(f"dbt build {status} in {result.seconds:.1f} s ({nodes})")
    built = not isinstance(where, Path) or where.exists()
    if built and result.counts and (clock := clock_line(where)):
        lines.append(clock)
    if built and result.counts:
        counts = staging_counts(where)
        layers = counts.pop("layers")
        lines.append("")
        lines.extend(f"{name:<40} {rows:>12,}" for name, rows in layers.items())
        lines.append("")
        lines.append(
            f"{'source':<10} {'raw':>12} {'clean':>12} {'duplicate':>10} {'quarantined':>12}"
        )
        for source, per_source in counts.items():
            lines.append(
                f"{source:<10} {per_source['raw']:>12,} {per_source['clean']:>12,} "
                f"{per_source['duplicate']:>10,} {per_source['quarantined']:>12,}"
            )
        reasons = [
            (source, key.split(":", 1)[1], value)
            for source, per_source in counts.items()
            for key, value in sorted(per_source.items())
            if key.startswith("quarantined:")
        ]
        if reasons:
            lines.append("")
            lines.append("quarantined by reason:")
            lines.extend(f"  {source:<10} {reason:<22} {n:>10,}" for source, reason, n in reasons)
        if unmapped := unmapped_lines(where):
            lines.append("")
            lines.extend(unmapped)
        if "bot" in counts.get("events", {}):
            lines.append(f"bot events kept in staging, flagged is_bot: {counts['events']['bot']:,}")
        if segments := segment_rows(where):
            lines.append("")
            lines.extend(render_segments(segments))
        if machine_learned := ml_lines(where):
            lines.append("")
            lines.extend(machine_learned)
        if withheld := activation_lines(where):
            lines.append("")
            lines.extend(withheld)
    if result.failures:
        lines.append("")
        lines.append("what failed:")
        lines.extend(
            f"  {status:<6} {name}: {message}" for name, status, message in result.failures
        )
    lines.append("")
    chosen = where if isinstance(where, Target) else target("dev", where)
    lines.append(f"dbt's log: {dbt_log_path(chosen) / 'dbt.log'}")
    lines.append(f"wall time {wall_seconds:.1f} s")
    return "\n".join(lines)
