"""Charts as inline SVG strings: no script, no font or image to fetch.

Every chart is `<svg class="chart" data-chart="<name>">`; what it draws from the data (a
bar, a dot, a line, a heatmap cell) has class `mark`, so a browser can count what was
rendered. Sizes are fixed user units in a viewBox; the page's CSS scales charts down to the
width available and styles their text. Labels are escaped and long ones shortened, with the
full text in a `<title>` tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from microseg.report.markup import data_attrs, esc

# Categorical colours, told apart in print and by most colour-blind readers (Tableau 10).
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
ACCENT = PALETTE[0]
POSITIVE = "#2e7d4f"
NEGATIVE = "#c0392b"
NEUTRAL = "#7b8794"
MISSING = "#d5d9de"  # the heatmap's diagonal: a segment with itself
HEAT_LOW = (245, 248, 252)
HEAT_HIGH = (29, 78, 137)
CHAR_WIDTH = 6.2  # average width of an 11 px system-font character, for label room

Format = Callable[[float], str]


def _n(value: float) -> str:
    """A coordinate: one decimal is finer than a pixel, and keeps the output stable."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(x: float, y: float, text: str, limit: int, anchor: str = "end", extra: str = "") -> str:
    """A text label, shortened to `limit` characters with the full text as its tooltip."""
    shown = _short(text, limit)
    tooltip = f"<title>{esc(text)}</title>" if shown != text else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{extra}>{tooltip}{esc(shown)}</text>'
    )


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering low..high (about `count` intervals)."""
    if not high > low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    values = [first]
    while values[-1] < high - step * 1e-9:
        values.append(first + len(values) * step)
    return [round(value, 12) for value in values]


def _svg(
    name: str, width: float, height: float, title: str, body: str, data: dict[str, Any]
) -> str:
    return (
        f'<svg class="chart" data-chart="{esc(name)}"{data_attrs(data)} '
        f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" role="img" aria-label="{esc(title)}">'
        f"<title>{esc(title)}</title>{body}</svg>"
    )


def _x_axis(
    values: list[float], scale: Callable[[float], float], top: float, bottom: float, fmt: Format
) -> str:
    """Vertical grid lines with their labels under the plot."""
    parts = []
    for value in values:
        x = scale(value)
        parts.append(
            f'<line class="grid" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(top)}" y2="{_n(bottom)}"/>'
            f'<text class="tick" x="{_n(x)}" y="{_n(bottom + 14)}" text-anchor="middle">'
            f"{esc(fmt(value))}</text>"
        )
    return "".join(parts)


def _y_axis(
    values: list[float], scale: Callable[[float], float], left: float, right: float, fmt: Format
) -> str:
    """Horizontal grid lines with their labels left of the plot."""
    parts = []
    for value in values:
        y = scale(value)
        parts.append(
            f'<line class="grid" x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y)}" y2="{_n(y)}"/>'
            f'<text class="tick" x="{_n(left - 6)}" y="{_n(y + 4)}" text-anchor="end">'
            f"{esc(fmt(value))}</text>"
        )
    return "".join(parts)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as printed at the end of the bar
    data: dict[str, Any] = field(default_factory=dict)
    color: str = ACCENT


def bar_chart(
    name: str,
    bars: Sequence[Bar],
    *,
    title: str,
    axis_format: Format,
    width: float = 820,
    data: dict[str, Any] | None = None,
) -> str:
    """Horizontal bars, one per row, from zero."""
    label_room = min(250.0, CHAR_WIDTH * max((len(bar.label) for bar in bars), default=8) + 12)
    left, right, top, row = label_room, width - 90, 8.0, 20.0
    height = top + row * len(bars) + 26
    domain = ticks(0, max((bar.value for bar in bars), default=0) or 1)

    def scale(value: float) -> float:
        return left + (right - left) * value / domain[-1]

    bottom = top + row * len(bars)
    parts = [_x_axis(domain, scale, top, bottom, axis_format)]
    for index, bar in enumerate(bars):
        y = top + row * index
        parts.append(_label(left - 8, y + 14, bar.label, int(label_room / CHAR_WIDTH) - 1))
        parts.append(
            f'<rect class="mark bar"{data_attrs(bar.data)} x="{_n(left)}" y="{_n(y + 3)}" '
            f'width="{_n(max(0.0, scale(bar.value) - left))}" height="14" fill="{bar.color}">'
            f"<title>{esc(bar.label)}: {esc(bar.text)}</title></rect>"
            f'<text class="value" x="{_n(scale(bar.value) + 5)}" y="{_n(y + 14)}">'
            f"{esc(bar.text)}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{_n(left)}" x2="{_n(left)}" y1="{_n(top)}" y2="{_n(bottom)}"/>'
    )
    return _svg(name, width, height, title, "".join(parts), data or {})


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]  # one per x
    text: str  # the latest value as printed in the panel
    data: dict[str, Any] = field(default_factory=dict)


def small_multiples(
    name: str,
    x: Sequence[float],
    x_labels: tuple[str, str],
    series: Sequence[Series],
    *,
    title: str,
    value_format: Format,
    columns: int = 4,
    width: float = 1000,
    data: dict[str, Any] | None = None,
) -> str:
    """One small line chart per series over the same x, each on its own y scale from 0."""
    gap, panel_height = 14.0, 118.0
    panel_width = (width - gap * (columns - 1)) / columns
    rows = math.ceil(len(series) / columns)
    height = rows * (panel_height + gap)
    span = (max(x) - min(x)) or 1.0
    parts = []
    for index, one in enumerate(series):
        left = (index % columns) * (panel_width + gap)
        top = (index // columns) * (panel_height + gap)
        plot_left, plot_right = left + 44, left + panel_width - 8
        plot_top, plot_bottom = top + 30, top + panel_height - 20
        domain = ticks(0, max(one.values, default=0) or 1, 2)

        def sx(value: float, plot_left: float = plot_left, plot_right: float = plot_right) -> float:
            return plot_left + (plot_right - plot_left) * (value - min(x)) / span

        def sy(
            value: float,
            top: float = plot_top,
            bottom: float = plot_bottom,
            most: float = domain[-1],
        ) -> float:
            return bottom - (bottom - top) * value / most

        parts.append(
            f'<g class="panel"{data_attrs(one.data)}>'
            f'<rect class="frame" x="{_n(left)}" y="{_n(top)}" width="{_n(panel_width)}" '
            f'height="{_n(panel_height)}" rx="4"/>'
        )
        parts.append(_label(left + 8, top + 16, one.label, int((panel_width - 70) / 6.8), "start"))
        parts.append(
            f'<text class="value" x="{_n(left + panel_width - 8)}" y="{_n(top + 16)}" '
            f'text-anchor="end">{esc(one.text)}</text>'
        )
        parts.append(_y_axis(domain, sy, plot_left, plot_right, value_format))
        line = " ".join(
            f"{'M' if i == 0 else 'L'}{_n(sx(xv))},{_n(sy(yv))}"
            for i, (xv, yv) in enumerate(zip(x, one.values, strict=True))
        )
        parts.append(f'<path class="mark line" d="{line}" stroke="{ACCENT}"/>')
        # A dot per build clock while they can be told apart, else the latest only.
        dotted = list(zip(x, one.values, strict=True))
        for xv, yv in dotted if len(dotted) <= 40 else dotted[-1:]:
            parts.append(
                f'<circle class="mark dot" cx="{_n(sx(xv))}" cy="{_n(sy(yv))}" r="2.6" '
                f'fill="{ACCENT}"><title>{esc(value_format(yv))}</title></circle>'
            )
        parts.append(
            f'<text class="tick" x="{_n(plot_left)}" y="{_n(plot_bottom + 14)}">'
            f"{esc(x_labels[0])}</text>"
            f'<text class="tick" x="{_n(plot_right)}" y="{_n(plot_bottom + 14)}" '
            f'text-anchor="end">{esc(x_labels[1])}</text></g>'
        )
    return _svg(name, width, height, title, "".join(parts), data or {})


@dataclass(frozen=True)
class HeatCell:
    value: float  # 0..1
    title: str
    data: dict[str, Any] = field(default_factory=dict)


def heat_colour(value: float) -> str:
    """White to dark blue on a square-root scale, so small overlaps still show."""
    weight = math.sqrt(min(1.0, max(0.0, value)))
    red, green, blue = (
        round(low + (high - low) * weight) for low, high in zip(HEAT_LOW, HEAT_HIGH, strict=True)
    )
    return f"#{red:02x}{green:02x}{blue:02x}"


def heatmap(
    name: str,
    labels: Sequence[str],
    cells: dict[tuple[int, int], HeatCell],
    *,
    title: str,
    legend_label: str,
    data: dict[str, Any] | None = None,
) -> str:
    """A square matrix: rows and columns in the order of `labels`, cells (row, column)."""
    count = len(labels)
    cell = min(24.0, max(9.0, 620 / max(count, 1)))
    limit = 34
    room = min(limit, max((len(label) for label in labels), default=4)) * CHAR_WIDTH + 12
    left, top = room, room * 0.87 + 8  # column labels are turned 60 degrees
    size = cell * count
    width = left + size + room * 0.5 + 110
    height = top + size + 16
    parts = [
        f'<rect class="matrix" x="{_n(left)}" y="{_n(top)}" width="{_n(size)}" '
        f'height="{_n(size)}" fill="{heat_colour(0)}"/>'
    ]
    for index, label in enumerate(labels):
        middle = index * cell + cell / 2
        parts.append(_label(left - 6, top + middle + 4, label, limit))
        x = left + middle + 3
        parts.append(
            _label(x, top - 6, label, limit, "start", f' transform="rotate(-60 {x} {top - 6})"')
        )
    for (row, column), heat in sorted(cells.items()):
        fill = MISSING if row == column else heat_colour(heat.value)
        parts.append(
            f'<rect class="mark cell"{data_attrs(heat.data)} x="{_n(left + column * cell)}" '
            f'y="{_n(top + row * cell)}" width="{_n(cell - 1)}" height="{_n(cell - 1)}" '
            f'fill="{fill}"><title>{esc(heat.title)}</title></rect>'
        )
    # The legend: the colour scale with its values.
    legend_left, legend_height = left + size + room * 0.5 + 30, min(size, 200.0)
    steps = 20
    for step in range(steps):
        value = 1 - step / steps
        parts.append(
            f'<rect x="{_n(legend_left)}" y="{_n(top + legend_height * step / steps)}" '
            f'width="14" height="{_n(legend_height / steps + 0.5)}" fill="{heat_colour(value)}"/>'
        )
    for value in (0, 0.1, 0.25, 0.5, 1):
        y = top + legend_height * (1 - math.sqrt(value))
        parts.append(
            f'<text class="tick" x="{_n(legend_left + 20)}" y="{_n(y + 4)}">{value:g}</text>'
        )
    parts.append(
        f'<text class="tick" x="{_n(legend_left)}" y="{_n(top - 8)}">{esc(legend_label)}</text>'
    )
    return _svg(name, width, height, title, "".join(parts), data or {})


@dataclass(frozen=True)
class ForestRow:
    label: str
    estimate: float | None
    low: float | None
    high: float | None
    tone: str  # positive, negative, neutral (the interval holds 0), or small (holdout)
    text: str  # the estimate and interval as printed right of the plot
    data: dict[str, Any] = field(default_factory=dict)


TONES = {"positive": POSITIVE, "negative": NEGATIVE, "neutral": NEUTRAL, "small": NEUTRAL}


def forest_plot(
    name: str,
    rows: Sequence[ForestRow],
    *,
    title: str,
    axis_label: str,
    axis_format: Format,
    width: float = 1000,
    data: dict[str, Any] | None = None,
) -> str:
    """A point per row with its confidence interval as a whisker, and the zero line."""
    label_room = min(300.0, CHAR_WIDTH * max((len(row.label) for row in rows), default=8) + 12)
    left, right, top, row_height = label_room, width - 190, 10.0, 22.0
    bottom = top + row_height * len(rows)
    height = bottom + 40
    values = [0.0] + [
        value for row in rows for value in (row.estimate, row.low, row.high) if value is not None
    ]
    domain = ticks(min(values), max(values), 6)

    def scale(value: float) -> float:
        return left + (right - left) * (value - domain[0]) / (domain[-1] - domain[0])

    parts = [_x_axis(domain, scale, top, bottom, axis_format)]
    parts.append(
        f'<line class="zero" x1="{_n(scale(0))}" x2="{_n(scale(0))}" y1="{_n(top - 4)}" '
        f'y2="{_n(bottom)}"/>'
        f'<text class="tick" x="{_n((left + right) / 2)}" y="{_n(bottom + 32)}" '
        f'text-anchor="middle">{esc(axis_label)}</text>'
    )
    for index, row in enumerate(rows):
        y = top + row_height * index + row_height / 2
        colour = TONES.get(row.tone, NEUTRAL)
        parts.append(f"<g{data_attrs(row.data)}>")
        if index % 2:
            parts.append(
                f'<rect class="band" x="0" y="{_n(y - row_height / 2)}" width="{_n(width)}" '
                f'height="{_n(row_height)}"/>'
            )
        parts.append(_label(left - 8, y + 4, row.label, int(label_room / CHAR_WIDTH) - 1))
        if row.low is not None and row.high is not None:
            parts.append(
                f'<line class="mark whisker" x1="{_n(scale(row.low))}" x2="{_n(scale(row.high))}" '
                f'y1="{_n(y)}" y2="{_n(y)}" stroke="{colour}"/>'
            )
        if row.estimate is not None:
            hollow = row.tone == "small"
            parts.append(
                f'<circle class="mark point" cx="{_n(scale(row.estimate))}" cy="{_n(y)}" r="4.5" '
                f'fill="{"#fff" if hollow else colour}" stroke="{colour}">'
                f"<title>{esc(row.label)}: {esc(row.text)}</title></circle>"
            )
        parts.append(
            f'<text class="value" x="{_n(right + 12)}" y="{_n(y + 4)}">{esc(row.text)}</text></g>'
        )
    return _svg(name, width, height, title, "".join(parts), data or {})


@dataclass(frozen=True)
class XYSeries:
    label: str
    points: list[tuple[float, float]]
    color: str = ACCENT
    dots: bool = True
    data: dict[str, Any] = field(default_factory=dict)


def xy_chart(
    name: str,
    series: Sequence[XYSeries],
    *,
    title: str,
    x_label: str,
    y_label: str,
    limit: float,
    axis_format: Format,
    diagonal: str = "",
    size: float = 300,
    data: dict[str, Any] | None = None,
) -> str:
    """Lines (with dots) on equal axes from 0 to `limit`; `diagonal` labels the y = x line."""
    left, top = 52.0, 12.0
    right, bottom = left + size, top + size
    width, height = right + 16, bottom + 64 + 16 * len(series)
    domain = ticks(0, limit, 5)

    def sx(value: float) -> float:
        return left + size * value / domain[-1]

    def sy(value: float) -> float:
        return bottom - size * value / domain[-1]

    parts = [
        _x_axis(domain, sx, top, bottom, axis_format),
        _y_axis(domain, sy, left, right, axis_format),
        f'<rect class="frame" x="{_n(left)}" y="{_n(top)}" width="{_n(size)}" '
        f'height="{_n(size)}"/>',
        f'<text class="tick" x="{_n((left + right) / 2)}" y="{_n(bottom + 32)}" '
        f'text-anchor="middle">{esc(x_label)}</text>',
        f'<text class="tick" x="14" y="{_n((top + bottom) / 2)}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_n((top + bottom) / 2)})">{esc(y_label)}</text>',
    ]
    if diagonal:
        parts.append(
            f'<line class="reference" x1="{_n(sx(0))}" y1="{_n(sy(0))}" '
            f'x2="{_n(sx(domain[-1]))}" y2="{_n(sy(domain[-1]))}"/>'
        )
    for index, one in enumerate(series):
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_n(sx(x))},{_n(sy(y))}"
            for i, (x, y) in enumerate(one.points)
        )
        parts.append(f"<g{data_attrs(one.data)}>")
        parts.append(f'<path class="mark line" d="{path}" stroke="{one.color}"/>')
        if one.dots:
            parts.extend(
                f'<circle class="mark dot" cx="{_n(sx(x))}" cy="{_n(sy(y))}" r="3" '
                f'fill="{one.color}"><title>{esc(axis_format(x))}, {esc(axis_format(y))}'
                "</title></circle>"
                for x, y in one.points
            )
        legend_y = bottom + 52 + 16 * index
        parts.append(
            f'<rect x="{_n(left)}" y="{_n(legend_y - 9)}" width="10" height="10" '
            f'fill="{one.color}"/>'
            f'<text x="{_n(left + 16)}" y="{_n(legend_y)}">{esc(one.label)}</text></g>'
        )
    if diagonal:
        legend_y = bottom + 52 + 16 * len(series)
        parts.append(
            f'<line class="reference" x1="{_n(left)}" x2="{_n(left + 10)}" '
            f'y1="{_n(legend_y - 4)}" y2="{_n(legend_y - 4)}"/>'
            f'<text x="{_n(left + 16)}" y="{_n(legend_y)}">{esc(diagonal)}</text>'
        )
        height += 16
    return _svg(name, width, height, title, "".join(parts), data or {})


@dataclass(frozen=True)
class StackRow:
    label: str
    values: list[float]  # one per part
    data: list[dict[str, Any]]  # one per part


def stacked_bars(
    name: str,
    rows: Sequence[StackRow],
    parts_labels: Sequence[str],
    *,
    title: str,
    axis_format: Format,
    width: float = 820,
    data: dict[str, Any] | None = None,
) -> str:
    """Horizontal bars split into parts, with a legend of the parts above."""
    label_room = min(250.0, CHAR_WIDTH * max((len(row.label) for row in rows), default=8) + 12)
    left, right, row_height = label_room, width - 70, 20.0
    legend_rows = math.ceil(len(parts_labels) / 3)
    top = 8 + 18 * legend_rows
    bottom = top + row_height * len(rows)
    height = bottom + 26
    domain = ticks(0, max((sum(row.values) for row in rows), default=0) or 1)

    def scale(value: float) -> float:
        return left + (right - left) * value / domain[-1]

    parts = []
    for index, label in enumerate(parts_labels):
        key_x = left + (index % 3) * (right - left) / 3
        key_y = 6.0 + 18 * (index // 3)
        parts.append(
            f'<rect x="{_n(key_x)}" y="{_n(key_y)}" width="10" height="10" '
            f'fill="{PALETTE[index % len(PALETTE)]}"/>'
        )
        parts.append(_label(key_x + 15, key_y + 9, label, 40, "start"))
    parts.append(_x_axis(domain, scale, top, bottom, axis_format))
    for index, row in enumerate(rows):
        y = top + row_height * index
        parts.append(_label(left - 8, y + 14, row.label, int(label_room / CHAR_WIDTH) - 1))
        start = 0.0
        for part, (value, values) in enumerate(zip(row.values, row.data, strict=True)):
            if value <= 0:
                continue
            parts.append(
                f'<rect class="mark bar"{data_attrs(values)} x="{_n(scale(start))}" '
                f'y="{_n(y + 3)}" width="{_n(scale(start + value) - scale(start))}" height="14" '
                f'fill="{PALETTE[part % len(PALETTE)]}"><title>{esc(row.label)}, '
                f"{esc(parts_labels[part])}: {esc(axis_format(value))}</title></rect>"
            )
            start += value
        parts.append(
            f'<text class="value" x="{_n(scale(start) + 5)}" y="{_n(y + 14)}">'
            f"{esc(axis_format(start))}</text>"
        )
    return _svg(name, width, height, title, "".join(parts), data or {})
