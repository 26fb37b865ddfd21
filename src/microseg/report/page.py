"""The HTML page: one file with its CSS inline, readable offline on a laptop.

Its Content-Security-Policy lets the page load nothing (no network, no file) and run one
script only, the one below by its hash: text from the data cannot bring in another.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from microseg.report.markup import data_attrs, esc

CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb;
  --panel: #ffffff; --page: #f5f7fa; --accent: #4e79a7; --good: #2e7d4f; --bad: #c0392b;
  --warn: #b7791f; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
header.top { background: #1f2933; color: #f5f7fa; padding: 20px 32px 16px; }
header.top h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header.top p { margin: 2px 0; color: #cbd2d9; }
nav { padding: 8px 32px; background: #ffffff; border-bottom: 1px solid var(--line);
  position: sticky; top: 0; z-index: 1; }
nav a { color: var(--accent); margin-right: 14px; text-decoration: none; white-space: nowrap; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 32px 48px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 18px 22px; margin: 0 0 20px; }
h2 { font-size: 18px; margin: 0 0 6px; font-weight: 600; }
h3 { font-size: 15px; margin: 18px 0 6px; font-weight: 600; }
p.lead, p.note { color: var(--muted); margin: 0 0 12px; }
p.empty { color: var(--muted); font-style: italic; }
p.generated { color: #9aa5b1; font-size: 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 4px 0 8px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px;
  min-width: 150px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .04em; }
.card .figure { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.banner { border-radius: 6px; padding: 8px 12px; margin: 8px 0 12px; }
.banner.ok { background: #e6f4ea; color: #1e5631; }
.banner.bad { background: #fdecea; color: #8a1f11; }
.banner.warn { background: #fff4e0; color: #7a4d0b; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 4px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:hover td { background: #f8fafc; }
tr.group th { background: #eef2f7; color: var(--ink); font-size: 13px; }
code, .key { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12px; color: var(--muted); }
.why { color: var(--muted); font-size: 12px; }
.status { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px;
  background: #e4e7eb; }
.status.pass, .status.active, .status.trained { background: #e6f4ea; color: #1e5631; }
.status.fail, .status.empty { background: #fdecea; color: #8a1f11; }
.status.warn, .status.withheld, .status.not_evaluable, .status.skipped {
  background: #fff4e0; color: #7a4d0b; }
.meter { display: inline-block; height: 8px; background: var(--accent); border-radius: 2px;
  vertical-align: middle; margin-left: 6px; opacity: .75; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 8px 0; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--accent); }
figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; }
svg.chart { max-width: 100%; height: auto; display: block; }
svg.chart text { fill: #3e4c59; font-size: 11px; }
svg.chart text.value { fill: var(--ink); font-variant-numeric: tabular-nums; }
svg.chart .grid { stroke: #eef0f3; stroke-width: 1; }
svg.chart .axis { stroke: #9aa5b1; stroke-width: 1; }
svg.chart .zero { stroke: #3e4c59; stroke-width: 1.2; }
svg.chart .reference { stroke: #9aa5b1; stroke-width: 1; stroke-dasharray: 4 3; }
svg.chart .frame { fill: none; stroke: var(--line); }
svg.chart .band { fill: #f8fafc; }
svg.chart .line { fill: none; stroke-width: 2; }
svg.chart .whisker { stroke-width: 2; }
svg.chart .point { stroke-width: 1.6; }
@media print { nav { display: none; } section { break-inside: avoid; } }
"""

# Stamps each chart with the size it was drawn at and how many of its marks (bars, dots,
# lines, cells) have a size, so a headless browser can check the page. Changes nothing seen.
MEASURE_SCRIPT = """
document.querySelectorAll("svg.chart").forEach(function (chart) {
  var box = chart.getBoundingClientRect();
  var drawn = 0;
  chart.querySelectorAll(".mark").forEach(function (mark) {
    var size = mark.getBBox();
    if (size.width > 0 || size.height > 0) { drawn += 1; }
  });
  chart.setAttribute("data-rendered-width", Math.round(box.width));
  chart.setAttribute("data-rendered-height", Math.round(box.height));
  chart.setAttribute("data-rendered-marks", drawn);
});
"""


def _script_hash(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src 'sha256-{_script_hash(MEASURE_SCRIPT)}'; base-uri 'none'; form-action 'none'"
)


@dataclass
class Section:
    key: str  # the anchor, also data-section
    title: str
    body: str = ""  # HTML
    empty: str = ""  # why there is nothing to show; the section then says it


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False


@dataclass(frozen=True)
class Row:
    cells: Sequence[str]  # HTML, already escaped
    data: dict[str, Any]


def table(columns: Sequence[Column], rows: Sequence[Row], name: str) -> str:
    """A table whose rows carry their numbers as data attributes."""
    head = "".join(
        f"<th{' class=num' if column.numeric else ''}>{esc(column.title)}</th>"
        for column in columns
    )
    body = "".join(
        f"<tr{data_attrs(row.data)}>"
        + "".join(
            f"<td{' class=num' if column.numeric else ''}>{cell}</td>"
            for column, cell in zip(columns, row.cells, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table data-table="{esc(name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def status(value: object) -> str:
    text = esc(value)
    return f'<span class="status {text}">{text}</span>'


def figure(svg: str, caption: str = "") -> str:
    note = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{svg}{note}</figure>"


def details(summary: str, body: str) -> str:
    """Folded away until clicked (no script: the browser's own disclosure widget)."""
    return f"<details><summary>{esc(summary)}</summary>{body}</details>"


def paragraph(text: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{text}</p>'


def render_section(section: Section) -> str:
    state = "empty" if section.empty else "written"
    body = section.body or paragraph(esc(section.empty), "empty")
    return (
        f'<section id="{esc(section.key)}" data-section="{esc(section.key)}" '
        f'data-state="{state}"><h2>{esc(section.title)}</h2>{body}</section>'
    )


def document(title: str, header: str, sections: Sequence[Section], generated: str) -> str:
    """The whole page; everything but `generated` follows from the data."""
    links = "".join(
        f'<a href="#{esc(section.key)}">{esc(section.title)}</a>' for section in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>"
        f"{header}<nav>{links}</nav><main>\n"
        + "\n".join(render_section(section) for section in sections)
        + f'\n<p class="generated" data-generated-at>{esc(generated)}</p></main>'
        f"<script>{MEASURE_SCRIPT}</script></body></html>\n"
    )
