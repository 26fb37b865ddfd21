"""The report's sections, each from the published marts (or the gate's results file).

Queries are plain selects and group-bys that run on every warehouse; the shaping happens in
pandas. A section whose table is absent or empty says so, and what to do, in one sentence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

import microseg.report.charts as charts
from microseg.report.markup import (
    DASH,
    count,
    data_value,
    decimal,
    esc,
    money,
    number,
    p_value,
    points,
    share,
    timestamp,
    whole,
)
from microseg.report.page import (
    Column,
    Row,
    Section,
    details,
    figure,
    paragraph,
    status,
    table,
)
from microseg.validate import STATUS_ORDER
from microseg.warehouse import Warehouse

PUBLICATIONS = "microseg_publications"
REPUBLISH = "run `microseg validate` and `microseg publish` on a current build"


class Published:
    """The published schema of one warehouse: which tables it has, and their rows."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.schema = warehouse.target.layer("published")
        rows = warehouse.execute(
            "select table_name from information_schema.tables where lower(table_schema) = ?",
            [self.schema.lower()],
        ).fetchall()
        self.tables = {str(name).lower() for (name,) in rows}

    def has(self, table: str) -> bool:
        return table in self.tables

    def frame(self, table: str, query: str = "select * from {table}") -> pd.DataFrame:
        return self.warehouse.frame(query.format(table=f"{self.schema}.{table}"))

    def columns(self, table: str) -> list[str]:
        return self.warehouse.columns(f"{self.schema}.{table}")

    def absent(self, table: str, what: str = "") -> str:
        return f"{table} is not in the published schema {self.schema}{what}."

    def missing_columns(self, table: str, needed: Sequence[str]) -> str:
        """Empty, or which of `needed` the table lacks, as a sentence."""
        missing = [name for name in needed if name not in self.columns(table)]
        if not missing:
            return ""
        return f"{table} has no column {', '.join(missing)}: this report expects a newer mart."


@dataclass(frozen=True)
class Segments:
    """dim_segments' keys in priority order and their names (empty when it is absent)."""

    order: list[str]
    names: dict[str, str]

    @classmethod
    def read(cls, published: Published) -> Segments:
        if not published.has("dim_segments"):
            return cls([], {})
        frame = published.frame(
            "dim_segments", "select segment_key, segment_name, priority from {table}"
        ).sort_values(["priority", "segment_key"], na_position="last")
        return cls(
            [str(key) for key in frame["segment_key"]],
            {
                str(key): name
                for key, name in zip(frame.segment_key, frame.segment_name, strict=True)
                if isinstance(name, str) and name
            },
        )

    def name(self, key: str) -> str:
        return self.names.get(key) or key

    def sort(self, keys: Sequence[str]) -> list[str]:
        """Keys by priority; keys dim_segments does not know come last, by name."""
        rank = {key: index for index, key in enumerate(self.order)}
        return sorted(set(keys), key=lambda key: (rank.get(key, len(rank)), key))

    def cell(self, key: str) -> str:
        """A segment as a table cell: its name, its key under it."""
        return f'{esc(self.name(key))}<br><span class="key">{esc(key)}</span>'


def latest_publication(published: Published) -> dict[str, Any] | None:
    if not published.has(PUBLICATIONS):
        return None
    log = published.frame(PUBLICATIONS)
    if log.empty:
        return None
    latest = log.sort_values("published_at", ascending=False).iloc[0]
    return {**latest.to_dict(), "publications": len(log)}


def _card(label: str, figure_text: str, key: str, value: object) -> str:
    return (
        f'<div class="card" data-total="{esc(key)}" data-value="{esc(data_value(value))}">'
        f'<div class="label">{esc(label)}</div><div class="figure">{esc(figure_text)}</div></div>'
    )


def overview(published: Published, gate: dict[str, Any] | None) -> Section:
    """The publication, the build clock and the totals."""
    section = Section("overview", "Overview")
    publication = latest_publication(published)
    cards = []
    if published.has("dim_persons"):
        persons = int(published.frame("dim_persons", "select count(*) as n from {table}").n[0])
        cards.append(_card("Persons", count(persons), "persons", persons))
    if published.has("dim_segments"):
        segments = published.frame("dim_segments", "select is_activatable from {table}")
        activatable = int(segments.is_activatable.fillna(False).astype(bool).sum())
        cards.append(_card("Segments", count(len(segments)), "segments", len(segments)))
        cards.append(_card("Activatable", count(activatable), "activatable", activatable))
    clock = None
    if published.has("fct_segment_memberships"):
        memberships = published.frame(
            "fct_segment_memberships",
            "select count(*) as n, max(evaluated_at) as clock from {table}",
        )
        total = int(memberships.n[0])
        clock = memberships.clock[0]
        cards.append(_card("Memberships", count(total), "memberships", total))
    if gate is not None:
        verdict = "passed" if gate.get("passed") else "failed"
        cards.append(_card("Quality gate", verdict, "gate", verdict))
    lines = []
    if publication is not None:
        tables = [name for name in str(publication.get("tables") or "").split(",") if name]
        lines.append(
            f'Published <strong data-published-at="{esc(data_value(publication["published_at"]))}">'
            f"{esc(timestamp(publication['published_at']))} UTC</strong> from dbt invocation "
            f'<code data-invocation="{esc(publication["dbt_invocation_id"])}">'
            f"{esc(publication['dbt_invocation_id'])}</code>: {len(tables)} tables "
            f"({publication['publications']} in the publication log)."
        )
    else:
        lines.append(esc(published.absent(PUBLICATIONS, f": {REPUBLISH} to record one")))
    if clock is not None and not pd.isna(clock):
        lines.append(
            f'Build clock (as-of) <strong data-build-clock="{esc(data_value(clock))}">'
            f"{esc(timestamp(clock))} UTC</strong>: every time-relative number here is as of "
            "it."
        )
    section.body = (
        f'<div class="cards">{"".join(cards)}</div>'
        + "".join(paragraph(line) for line in lines)
        + paragraph(
            f"Read from <code>{esc(published.schema)}</code> of "
            f"{esc(published.warehouse.target.label)}."
        )
    )
    return section


def sizes(published: Published, segments: Segments) -> Section:
    """Members per segment at every build clock, from the change feed."""
    section = Section("sizes", "Segment sizes over time")
    table_name = "fct_segment_membership_changes"
    if not published.has(table_name):
        section.empty = published.absent(table_name, f": {REPUBLISH}")
        return section
    changes = published.frame(
        table_name,
        "select segment_key, changed_at, "
        "sum(case when change_type = 'entered' then 1 when change_type = 'exited' then -1 "
        "else 0 end) as net from {table} group by segment_key, changed_at",
    )
    if changes.empty:
        section.empty = f"{table_name} has no rows: no segment has had a member yet."
        return section
    persons = (
        int(published.frame("dim_persons", "select count(*) as n from {table}").n[0])
        if published.has("dim_persons")
        else 0
    )
    clocks = sorted(pd.to_datetime(changes.changed_at).unique())
    changes["changed_at"] = pd.to_datetime(changes.changed_at)
    wide = (
        changes.pivot_table(
            index="changed_at", columns="segment_key", values="net", aggfunc="sum", fill_value=0
        )
        .reindex(clocks, fill_value=0)
        .cumsum()
    )
    keys = segments.sort([str(key) for key in wide.columns])
    latest = wide.iloc[-1]

    def share_of(members: float) -> float | None:
        return members / persons if persons else None

    if len(clocks) == 1:
        chart = charts.bar_chart(
            "sizes",
            [
                charts.Bar(
                    segments.name(key),
                    float(latest[key]),
                    f"{count(latest[key])} · {share(share_of(latest[key]))}",
                    {"segment": key, "members": int(latest[key])},
                )
                for key in keys
            ],
            title="Members per segment at the build clock",
            axis_format=lambda value: f"{value:,.0f}",
            data={"clocks": 1},
        )
        caption = (
            f"One build clock so far ({esc(timestamp(clocks[0]))}): each bar is a segment's "
            "members, with their share of persons. Later builds add a line per segment."
        )
    else:
        x = [pd.Timestamp(clock).timestamp() for clock in clocks]
        chart = charts.small_multiples(
            "sizes",
            x,
            (
                pd.Timestamp(clocks[0]).strftime("%Y-%m-%d"),
                pd.Timestamp(clocks[-1]).strftime("%Y-%m-%d"),
            ),
            [
                charts.Series(
                    segments.name(key),
                    [float(value) for value in wide[key]],
                    f"{count(latest[key])} · {share(share_of(latest[key]))}",
                    {"segment": key},
                )
                for key in keys
            ],
            title="Members per segment at each build clock",
            value_format=lambda value: f"{value:,.0f}",
            data={"clocks": len(clocks)},
        )
        caption = (
            f"{len(clocks)} build clocks from {esc(timestamp(clocks[0]))} to "
            f"{esc(timestamp(clocks[-1]))}; each panel has its own scale from 0."
        )
    previous = wide.iloc[-2] if len(clocks) > 1 else None
    rows = [
        Row(
            [
                segments.cell(key),
                count(latest[key]),
                share(share_of(latest[key])),
                DASH if previous is None else f"{int(latest[key] - previous[key]):+,}",
            ],
            {
                "segment": key,
                "members": int(latest[key]),
                "share": share_of(float(latest[key])),
            },
        )
        for key in keys
    ]
    section.body = (
        paragraph(
            "Members are counted from the change feed (entered minus exited at each build "
            f"clock); shares are of today's {count(persons)} persons."
        )
        + figure(chart, caption)
        + details(
            "Members per segment at the latest build clock, as a table",
            table(
                [
                    Column("segment"),
                    Column("members", True),
                    Column("share of persons", True),
                    Column("since the previous clock", True),
                ],
                rows,
                "sizes",
            ),
        )
    )
    return section


def overlaps(published: Published, segments: Segments) -> Section:
    section = Section("overlaps", "Segment overlaps")
    table_name = "fct_segment_overlaps"
    if not published.has(table_name):
        section.empty = published.absent(table_name, f": {REPUBLISH}")
        return section
    frame = published.frame(table_name)
    if frame.empty:
        section.empty = f"{table_name} has no rows: no two segments share a member."
        return section
    keys = segments.sort(
        [str(key) for key in pd.concat([frame.segment_key, frame.other_segment_key])]
    )
    index = {key: position for position, key in enumerate(keys)}
    cells = {}
    for row in frame.itertuples():
        a, b = str(row.segment_key), str(row.other_segment_key)
        jaccard = number(row.jaccard_index) or 0.0
        cells[(index[a], index[b])] = charts.HeatCell(
            jaccard,
            f"{segments.name(a)} and {segments.name(b)}: {count(row.shared_members)} shared, "
            f"Jaccard {decimal(jaccard, 3)}; {share(row.share_also_in_other)} of "
            f"{segments.name(a)} also in {segments.name(b)}",
            {
                "segment": a,
                "other": b,
                "shared": int(row.shared_members),
                "jaccard": float(jaccard),
            },
        )
    chart = charts.heatmap(
        "overlaps",
        [segments.name(key) for key in keys],
        cells,
        title="Jaccard index of every pair of segments",
        legend_label="Jaccard",
    )
    pairs = frame[frame.segment_key < frame.other_segment_key].sort_values(
        ["jaccard_index", "segment_key", "other_segment_key"], ascending=[False, True, True]
    )
    rows = [
        Row(
            [
                segments.cell(str(row.segment_key)),
                segments.cell(str(row.other_segment_key)),
                count(row.shared_members),
                decimal(row.jaccard_index, 3),
                share(row.share_also_in_other),
            ],
            {
                "segment": row.segment_key,
                "other": row.other_segment_key,
                "shared": int(row.shared_members),
                "jaccard": number(row.jaccard_index),
            },
        )
        for row in pairs.head(12).itertuples()
    ]
    section.body = (
        paragraph(
            "Each cell is the Jaccard index of two segments: shared members over members of "
            "either. Rows and columns follow segment priority; hover a cell for the counts."
        )
        + figure(chart)
        + "<h3>Most overlapping pairs</h3>"
        + table(
            [
                Column("segment"),
                Column("other segment"),
                Column("shared members", True),
                Column("Jaccard", True),
                Column("share of the first also in the other", True),
            ],
            rows,
            "overlap_pairs",
        )
    )
    return section


KPI_COLUMNS = (
    "segment_key", "segment_name", "origin", "status", "status_reason", "is_activatable",
    "channels", "member_count", "share_of_persons", "primary_member_count", "holdout_percent",
    "holdout_count", "conversion_rate_30d", "revenue_per_person_90d",
)  # fmt: skip


def kpis(published: Published, segments: Segments) -> Section:
    section = Section("kpis", "Segment KPIs")
    if not published.has("dim_segments"):
        section.empty = published.absent("dim_segments", f": {REPUBLISH}")
        return section
    frame = published.frame("dim_segments")
    if frame.empty:
        section.empty = "dim_segments has no rows: the catalogue defines no segment."
        return section
    for column in KPI_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame = frame.set_index("segment_key")
    top_share = max((number(value) or 0.0 for value in frame.share_of_persons), default=0.0) or 1
    rows = []
    for key in segments.sort([str(key) for key in frame.index]):
        one = frame.loc[key]
        bar = (number(one.share_of_persons) or 0.0) / top_share * 60
        held_back = one.status_reason and one.status != "active"
        reason = f'<br><span class="why">{esc(one.status_reason)}</span>' if held_back else ""
        rows.append(
            Row(
                [
                    f"{segments.cell(key)} · {esc(one.origin or '')}",
                    status(one.status) + reason,
                    esc(one.channels or DASH),
                    count(one.member_count),
                    f'{share(one.share_of_persons)}<span class="meter" style="width:{bar:.0f}px">'
                    "</span>",
                    count(one.primary_member_count),
                    f"{count(one.holdout_count)} ({count(one.holdout_percent)}%)",
                    share(one.conversion_rate_30d),
                    money(one.revenue_per_person_90d),
                ],
                {
                    "segment": key,
                    "member_count": whole(one.member_count),
                    "share": number(one.share_of_persons),
                    "conversion_rate_30d": number(one.conversion_rate_30d),
                    "revenue_per_person_90d": number(one.revenue_per_person_90d),
                    "holdout_percent": whole(one.holdout_percent),
                    "status": one.status,
                    "is_activatable": None
                    if one.is_activatable is None or pd.isna(one.is_activatable)
                    else bool(one.is_activatable),
                },
            )
        )
    section.body = paragraph(
        "One row per segment in priority order, from dim_segments: conversion is the share of "
        "members who purchased in the last 30 days; revenue is per member over 90 days."
    ) + table(
        [
            Column("segment · origin"),
            Column("status"),
            Column("channels"),
            Column("members", True),
            Column("share of persons", True),
            Column("primary", True),
            Column("holdout", True),
            Column("conversion 30 d", True),
            Column("revenue / person 90 d", True),
        ],
        rows,
        "kpis",
    )
    return section


LIFT_COLUMNS = (
    "segment_key", "channel", "window_days", "treated_persons", "holdout_persons",
    "treated_conversion_rate", "holdout_conversion_rate", "absolute_lift", "relative_lift",
    "p_value", "lift_low", "lift_high", "confidence_level", "persons_needed_per_group",
    "is_holdout_too_small", "verdict",
)  # fmt: skip


def _flag(value: object) -> bool:
    return bool(value) and not pd.isna(value)


def _tone(row: Any) -> str:
    low, high = number(row.lift_low), number(row.lift_high)
    if _flag(row.is_holdout_too_small):
        return "small"
    if low is not None and low > 0:
        return "positive"
    if high is not None and high < 0:
        return "negative"
    return "neutral"


def _estimate(row: Any) -> str:
    """The lift and its interval as printed beside the forest plot."""
    if number(row.lift_low) is None or number(row.lift_high) is None:
        return f"{points(row.absolute_lift)} (no interval)"
    return f"{points(row.absolute_lift)} [{points(row.lift_low)}, {points(row.lift_high)}]"


def _confidence(frame: pd.DataFrame) -> str:
    parsed = [number(value) for value in frame.confidence_level.dropna().unique()]
    levels = [level for level in parsed if level is not None]
    if len(levels) != 1:
        return "confidence"
    level = levels[0] * 100 if levels[0] <= 1 else levels[0]
    return f"{level:g}% confidence"


def lift(published: Published, segments: Segments) -> Section:
    section = Section("lift", "Lift against the holdout")
    table_name = "fct_segment_lift"
    if not published.has(table_name):
        section.empty = published.absent(
            table_name,
            ": this publication predates lift measurement; run `make demo`, which simulates "
            "a campaign, or build, validate and publish again",
        )
        return section
    if missing := published.missing_columns(table_name, LIFT_COLUMNS):
        section.empty = missing
        return section
    frame = published.frame(table_name)
    if frame.empty:
        section.empty = (
            f"{table_name} has no rows: lift needs entries older than the window, and a "
            "campaign to measure; run `make demo`, which simulates a campaign."
        )
        return section
    frame["segment_key"] = frame.segment_key.astype(str)
    frame["channel"] = frame.channel.astype(str)
    rank = {key: index for index, key in enumerate(segments.sort(list(frame.segment_key)))}
    frame["_rank"] = frame.segment_key.map(rank)
    frame["_channel"] = frame.channel.map(lambda channel: (channel != "all", channel))
    frame = frame.sort_values(["window_days", "_rank", "_channel"])
    confidence = _confidence(frame)
    parts = [
        paragraph(
            "Conversion of members who were activated (treated) against the members held out "
            "by hash, per segment, channel and window: persons and conversion rate of each "
            f"group. Points are the absolute lift, whiskers the {esc(confidence)} interval; "
            "green and red intervals exclude zero, a hollow point has a holdout too small to "
            "tell."
        )
    ]
    revenue = {"treated_revenue_per_person", "holdout_revenue_per_person"} <= set(frame.columns)
    columns = [
        Column("segment · channel"),
        Column("treated", True),
        Column("holdout", True),
        Column("lift", True),
        Column(confidence, True),
        Column("relative", True),
        Column("p-value", True),
        *([Column("revenue / person", True)] if revenue else []),
        Column("needed / group", True),
        Column("verdict"),
    ]
    for window, group in frame.groupby("window_days", sort=True):
        forest = [
            charts.ForestRow(
                f"{segments.name(row.segment_key)} · {row.channel}",
                number(row.absolute_lift),
                number(row.lift_low),
                number(row.lift_high),
                _tone(row),
                _estimate(row),
                {"segment": row.segment_key, "channel": row.channel},
            )
            for row in group.itertuples()
        ]
        parts.append(f"<h3>{count(window)}-day window</h3>")
        parts.append(
            figure(
                charts.forest_plot(
                    "lift",
                    forest,
                    title=f"Absolute lift with {confidence} intervals, {count(window)}-day window",
                    axis_label="treated minus holdout conversion rate (percentage points)",
                    axis_format=lambda value: f"{value * 100:+.0f}" if value else "0",
                    data={"window": whole(window)},
                )
            )
        )
        rows = []
        for row in group.itertuples():
            interval = (
                f"{points(row.lift_low)} to {points(row.lift_high)}"
                if number(row.lift_low) is not None and number(row.lift_high) is not None
                else DASH
            )
            rows.append(
                Row(
                    [
                        f"{segments.cell(row.segment_key)} · {esc(row.channel)}",
                        f"{count(row.treated_persons)} · {share(row.treated_conversion_rate)}",
                        f"{count(row.holdout_persons)} · {share(row.holdout_conversion_rate)}",
                        points(row.absolute_lift),
                        interval,
                        share(row.relative_lift),
                        p_value(row.p_value),
                        *(
                            [
                                f"{money(row.treated_revenue_per_person)} vs "
                                f"{money(row.holdout_revenue_per_person)}"
                            ]
                            if revenue
                            else []
                        ),
                        count(row.persons_needed_per_group),
                        esc(row.verdict or ""),
                    ],
                    {
                        "segment": row.segment_key,
                        "channel": row.channel,
                        "window": whole(row.window_days),
                        "treated_persons": whole(row.treated_persons),
                        "holdout_persons": whole(row.holdout_persons),
                        "absolute_lift": number(row.absolute_lift),
                        "lift_low": number(row.lift_low),
                        "lift_high": number(row.lift_high),
                        "p_value": number(row.p_value),
                        "holdout_too_small": _flag(row.is_holdout_too_small),
                    },
                )
            )
        parts.append(table(columns, rows, "lift"))
    section.body = "".join(parts)
    return section


def withheld(published: Published, segments: Segments) -> Section:
    section = Section("activation", "Withheld from activation")
    table_name = "fct_activation_withheld"
    if not published.has(table_name):
        section.empty = published.absent(
            table_name,
            ": this publication predates it; build, validate and publish again to see which "
            "memberships were kept from each channel and why",
        )
        return section
    if missing := published.missing_columns(
        table_name, ("segment_key", "channel", "withheld_reason")
    ):
        section.empty = missing
        return section
    frame = published.frame(
        table_name,
        "select segment_key, channel, withheld_reason, count(*) as memberships from {table} "
        "group by segment_key, channel, withheld_reason",
    )
    if frame.empty:
        section.empty = f"{table_name} has no rows: no membership was withheld from a channel."
        return section
    frame = frame.fillna({"withheld_reason": "(none)", "channel": "(none)"})
    for column in ("segment_key", "channel", "withheld_reason"):
        frame[column] = frame[column].astype(str)
    reasons = sorted(frame.withheld_reason.unique())
    by_reason = frame.pivot_table(
        index="segment_key",
        columns="withheld_reason",
        values="memberships",
        aggfunc="sum",
        fill_value=0,
    )
    keys = segments.sort(list(by_reason.index))
    chart = charts.stacked_bars(
        "withheld",
        [
            charts.StackRow(
                segments.name(key),
                [float(by_reason.loc[key, reason]) for reason in reasons],
                [
                    {
                        "segment": key,
                        "reason": reason,
                        "memberships": int(by_reason.loc[key, reason]),
                    }
                    for reason in reasons
                ],
            )
            for key in keys
        ],
        reasons,
        title="Memberships withheld per segment, by reason",
        axis_format=lambda value: f"{value:,.0f}",
    )
    rows = [
        Row(
            [segments.cell(key)]
            + [count(by_reason.loc[key, reason]) for reason in reasons]
            + [count(by_reason.loc[key].sum())],
            {"segment": key, "memberships": int(by_reason.loc[key].sum())}
            | {f"reason_{reason}": int(by_reason.loc[key, reason]) for reason in reasons},
        )
        for key in keys
    ]
    channels = frame.groupby(["channel", "withheld_reason"], as_index=False).memberships.sum()
    channel_rows = [
        Row(
            [esc(row.channel), esc(row.withheld_reason), count(row.memberships)],
            {"channel": row.channel, "reason": row.withheld_reason, "memberships": row.memberships},
        )
        for row in channels.sort_values(["channel", "withheld_reason"]).itertuples()
    ]
    section.body = (
        paragraph(
            "Memberships a sync table does not carry for a channel, and why (a membership "
            f"can be withheld from several channels), from {table_name}."
        )
        + figure(chart)
        + details(
            "Memberships withheld per segment and reason, as a table",
            table(
                [Column("segment")]
                + [Column(reason, True) for reason in reasons]
                + [Column("total", True)],
                rows,
                "withheld",
            ),
        )
        + "<h3>By channel</h3>"
        + table(
            [Column("channel"), Column("reason"), Column("memberships", True)],
            channel_rows,
            "withheld_channels",
        )
    )
    return section


def clusters(published: Published) -> Section:
    section = Section("clusters", "Cluster profiles")
    if not published.has("dim_clusters"):
        section.empty = published.absent(
            "dim_clusters", ": the ML models are turned off or have not been published"
        )
        return section
    frame = published.frame("dim_clusters")
    if frame.empty:
        section.empty = "dim_clusters has no rows: too few persons to cluster (see the models)."
        return section
    frame = frame.sort_values("cluster_id")
    features = [
        column
        for column in frame.columns
        if column.startswith("avg_") and column != "avg_distance_to_centroid"
    ]
    label = {
        row.cluster_id: f"{row.cluster_id} · {row.cluster_label}" for row in frame.itertuples()
    }
    chart = charts.bar_chart(
        "clusters",
        [
            charts.Bar(
                label[row.cluster_id],
                float(row.persons),
                f"{count(row.persons)}  {share(row.share_of_clustered)}",
                {"cluster_id": int(row.cluster_id), "persons": int(row.persons)},
            )
            for row in frame.itertuples()
        ],
        title="Persons per cluster",
        axis_format=lambda value: f"{value:,.0f}",
    )
    head = "".join(
        f'<th class="num" data-cluster-id="{esc(data_value(row.cluster_id))}">'
        f"{esc(label[row.cluster_id])}</th>"
        for row in frame.itertuples()
    )
    body = []
    for feature in features:
        values = [number(value) for value in frame[feature]]
        known = [value for value in values if value is not None]
        span = (max(known) - min(known)) if known else 0.0
        cells = []
        for cluster_id, value in zip(frame.cluster_id, values, strict=True):
            weight = 0.0 if value is None or not span else (value - min(known)) / span
            cells.append(
                f'<td class="num" data-cluster-id="{esc(data_value(cluster_id))}" '
                f'data-value="{esc(data_value(value))}" '
                f'style="background:{charts.heat_colour(weight * 0.35)}">{decimal(value, 2)}</td>'
            )
        body.append(
            f'<tr data-feature="{esc(feature)}"><td>{esc(feature[4:].replace("_", " "))}</td>'
            f"{''.join(cells)}</tr>"
        )
    quality = frame.iloc[0]
    notes = []
    for column, text in (("k", "k"), ("silhouette", "silhouette"), ("davies_bouldin", "DB")):
        if column in frame.columns:
            notes.append(f"{text} {decimal(quality[column], 0 if column == 'k' else 3)}")
    section.body = (
        paragraph(
            "K-means clusters of persons, labelled where the profile is clear ("
            + esc(", ".join(notes))
            + "). The table is each cluster's mean profile; shading compares clusters "
            "within a row (darker is higher)."
        )
        + figure(chart)
        + '<div class="scroll"><table data-table="cluster_profiles"><thead><tr><th>mean of</th>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></div>"
    )
    return section


SUMMARY_METRICS = (
    ("roc_auc", "ROC-AUC"),
    ("baseline_roc_auc", "recency-only ROC-AUC"),
    ("precision_at_top_decile", "precision, top decile"),
    ("positive_rate", "base rate"),
    ("evaluation_rows", "evaluated on"),
)


def _roc_from_registry(published: Published) -> dict[str, list[tuple[float, float]]]:
    """ROC points by model version from dim_ml_models.metrics_json (key roc_curve)."""
    if not published.has("dim_ml_models"):
        return {}
    registry = published.frame("dim_ml_models", "select model_version, metrics_json from {table}")
    curves = {}
    for row in registry.itertuples():
        try:
            stored = json.loads(row.metrics_json or "{}").get("roc_curve") or []
            curve = [
                (float(point["false_positive_rate"]), float(point["true_positive_rate"]))
                for point in stored
            ]
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
        if curve:
            curves[str(row.model_version)] = curve
    return curves


def _roc_from_quality(quality: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
    """ROC points by model version from rows of metric_group `roc` (item: the point)."""
    rows = quality[quality.metric_group == "roc"]
    curves = {}
    for version, group in rows.groupby("model_version", sort=True):
        wide = group.pivot_table(index="item", columns="metric", values="value", aggfunc="max")
        if {"false_positive_rate", "true_positive_rate"} <= set(wide.columns):
            wide = wide.sort_values(["false_positive_rate", "true_positive_rate"])
            curves[str(version)] = list(
                zip(
                    wide.false_positive_rate.astype(float),
                    wide.true_positive_rate.astype(float),
                    strict=True,
                )
            )
    return curves


def _percent(digits: int) -> charts.Format:
    def shown(value: float) -> str:
        return f"{value:.{digits}%}"

    return shown


def models(published: Published) -> Section:
    section = Section("models", "Propensity models")
    table_name = "fct_ml_model_quality"
    if not published.has(table_name):
        section.empty = published.absent(
            table_name, ": the ML models are turned off or have not been published"
        )
        return section
    quality = published.frame(table_name)
    if quality.empty:
        section.empty = f"{table_name} has no rows: no model has been trained yet."
        return section
    quality["model_name"] = quality.model_name.astype(str)
    summary = quality[quality.metric_group == "summary"]
    statuses = quality[quality.metric_group == "status"].set_index("model_name")
    rows = []
    for name in sorted(quality.model_name.unique()):
        metrics = summary[summary.model_name == name].set_index("metric")["value"]
        one = statuses.loc[name] if name in statuses.index else None
        state = str(one.status) if one is not None else "trained"
        versions = quality[quality.model_name == name].model_version.dropna()
        version = str(versions.iloc[0]) if len(versions) else ""
        values = {metric: number(metrics.get(metric)) for metric, _ in SUMMARY_METRICS}
        other = [
            f"{metric.replace('_', ' ')} {decimal(value, 0 if float(value).is_integer() else 3)}"
            for metric, value in metrics.items()
            if metric not in values
        ]
        note = "" if one is None or pd.isna(one.reason) else str(one.reason)
        rows.append(
            Row(
                [
                    f'{esc(name)}<br><span class="key">{esc(version)}</span>',
                    status(state),
                    decimal(values["roc_auc"]),
                    decimal(values["baseline_roc_auc"]),
                    share(values["precision_at_top_decile"]),
                    share(values["positive_rate"]),
                    count(values["evaluation_rows"]),
                    esc("; ".join([note, *other] if note else other)),
                ],
                {"model": name, "model_version": version, "status": state} | values,
            )
        )
    parts = [
        paragraph(
            "Each model's quality on the held-out period: a propensity model must rank better "
            "than recency alone, and its predicted rates should match the observed ones."
        ),
        table(
            [Column("model"), Column("status")]
            + [Column(title, True) for _, title in SUMMARY_METRICS]
            + [Column("other metrics")],
            rows,
            "models",
        ),
    ]
    roc = _roc_from_registry(published) | _roc_from_quality(quality)
    calibration = quality[quality.metric_group == "calibration"]
    without_roc = []
    for position, name in enumerate(sorted(calibration.model_name.unique())):
        colour = charts.PALETTE[position % len(charts.PALETTE)]
        deciles = (
            calibration[calibration.model_name == name]
            .pivot_table(index="item", columns="metric", values="value", aggfunc="max")
            .sort_index()
        )
        if not {"predicted", "observed"} <= set(deciles.columns):
            continue
        pairs = [
            (float(row.predicted), float(row.observed))
            for row in deciles.itertuples()
            if number(row.predicted) is not None and number(row.observed) is not None
        ]
        highest = max((max(pair) for pair in pairs), default=1.0)
        limit = min(1.0, max(highest * 1.08, 0.01))
        digits = 0 if limit >= 0.2 else 1
        figures = [
            charts.xy_chart(
                "calibration",
                [charts.XYSeries("observed rate per score decile", pairs, colour)],
                title=f"Calibration of {name}: observed against predicted rate per decile",
                x_label="predicted rate",
                y_label="observed rate",
                limit=limit,
                axis_format=_percent(digits),
                diagonal="perfect calibration",
                data={"model": name, "points": len(pairs)},
            )
        ]
        version = str(calibration[calibration.model_name == name].model_version.iloc[0])
        curve = roc.get(version)
        if curve:
            auc = summary[(summary.model_name == name) & (summary.metric == "roc_auc")].value
            curve = sorted({(0.0, 0.0), *curve, (1.0, 1.0)})
            figures.append(
                charts.xy_chart(
                    "roc",
                    [
                        charts.XYSeries(
                            f"ROC curve, AUC {decimal(auc.max() if len(auc) else None)}",
                            curve,
                            colour,
                            dots=False,
                        )
                    ],
                    title=f"ROC curve of {name} on the held-out period",
                    x_label="false positive rate",
                    y_label="true positive rate",
                    limit=1.0,
                    axis_format=lambda value: f"{value:.1f}",
                    diagonal="chance",
                    data={"model": name, "points": len(curve)},
                )
            )
        else:
            without_roc.append(name)
        parts.append(f"<h3>{esc(name)}</h3>")
        parts.append(f'<div class="charts">{"".join(figure(svg) for svg in figures)}</div>')
    if calibration.empty:
        parts.append(paragraph("No model stored calibration points.", "empty"))
    if without_roc:
        parts.append(
            paragraph(
                f"No ROC points are stored for {esc(', '.join(without_roc))}: these versions "
                "were trained before ROC curves were recorded, so only calibration is shown; "
                "the next `microseg train` records them.",
                "empty",
            )
        )
    section.body = "".join(parts)
    return section


def _status_rank(outcome_status: object) -> int:
    text = str(outcome_status)
    return STATUS_ORDER.index(text) if text in STATUS_ORDER else len(STATUS_ORDER)


def gate(
    results: dict[str, Any] | None,
    why: str,
    publication: dict[str, Any] | None,
    *,
    against_publication: bool = True,
) -> Section:
    """Every expectation of the last gate run, by suite, failures first; whether it judged
    the published build unless against_publication is false (the gate's own page)."""
    section = Section("gate", "Quality gate")
    if results is None:
        section.empty = why
        return section
    outcomes = [outcome for outcome in results.get("outcomes") or [] if isinstance(outcome, dict)]
    counts = {state: sum(o.get("status") == state for o in outcomes) for state in STATUS_ORDER}
    verdict = "passed" if results.get("passed") else "failed"
    parts = [
        f'<div class="banner {"ok" if results.get("passed") else "bad"}" data-verdict="{verdict}">'
        f"The gate {verdict}"
        + (f" in {decimal(results.get('seconds'), 1)} s" if number(results.get("seconds")) else "")
        + ": "
        + ", ".join(f"{counts[state]} {state.replace('_', ' ')}" for state in STATUS_ORDER)
        + (f". Blocking: {esc(results['blocking'])}" if results.get("blocking") else "")
        + ".</div>"
    ]
    judged = str(results.get("dbt_invocation_id") or "")
    published = str((publication or {}).get("dbt_invocation_id") or "")
    if not against_publication:
        pass
    elif not published:
        parts.append(
            '<div class="banner warn" data-belongs="unknown">No publication is recorded, so '
            "these results cannot be matched to a published build.</div>"
        )
    elif judged == published:
        parts.append(
            f'<div class="banner ok" data-belongs="true">These results judged the published '
            f"build (dbt invocation <code>{esc(judged)}</code>).</div>"
        )
    else:
        parts.append(
            f'<div class="banner warn" data-belongs="false">These results judged dbt '
            f"invocation <code>{esc(judged or 'unknown')}</code>, but the published build is "
            f"<code>{esc(published)}</code>: a later build was validated and not published "
            "(or the file is from another database). The published tables are those the "
            "gate passed when they were published.</div>"
        )
    withheld_segments = results.get("withheld_segments") or {}
    if isinstance(withheld_segments, dict) and withheld_segments:
        items = "".join(
            f'<li data-segment="{esc(key)}"><code>{esc(key)}</code>: {esc(reason)}</li>'
            for key, reason in sorted(withheld_segments.items())
        )
        parts.append(f"<h3>Segments withheld by the gate</h3><ul>{items}</ul>")
    suites: dict[str, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        suites.setdefault(str(outcome.get("suite", "")), []).append(outcome)
    order = sorted(
        suites, key=lambda suite: (min(_status_rank(o.get("status")) for o in suites[suite]), suite)
    )
    columns = (
        "expectation", "observed", "threshold", "severity", "status", "blocking", "reason",
    )  # fmt: skip
    head = "".join(f"<th>{column}</th>" for column in columns)
    groups = []
    for suite in order:
        ranked = sorted(suites[suite], key=lambda o: _status_rank(o.get("status")))
        rows = "".join(
            f'<tr data-suite="{esc(suite)}" data-expectation="{esc(o.get("expectation"))}" '
            f'data-status="{esc(o.get("status"))}" '
            f'data-blocking="{data_value(bool(o.get("blocking")))}" '
            f'data-severity="{esc(o.get("severity"))}">'
            f"<td>{esc(o.get('expectation'))}"
            + (
                f'<br><span class="key">{esc(o["threshold_name"])}</span>'
                if o.get("threshold_name")
                else ""
            )
            + f"</td><td>{esc(o.get('observed'))}</td><td>{esc(o.get('threshold'))}</td>"
            f"<td>{esc(o.get('severity'))}</td><td>{status(o.get('status'))}</td>"
            f"<td>{'yes' if o.get('blocking') else ''}</td><td>{esc(o.get('reason'))}</td></tr>"
            for o in ranked
        )
        groups.append(
            f'<tbody data-suite="{esc(suite)}"><tr class="group"><th colspan="{len(columns)}">'
            f"{esc(suite)}</th></tr>{rows}</tbody>"
        )
    parts.append(
        f'<div class="scroll"><table data-table="gate"><thead><tr>{head}</tr></thead>'
        + "".join(groups)
        + "</table></div>"
    )
    parts.append(
        paragraph(
            f"From {esc(results.get('database', 'the gate'))}; the gate's own Data Docs need "
            "a network, this page does not."
        )
    )
    section.body = "".join(parts)
    return section
