"""`microseg report`: one self-contained HTML file about the published build.

It reads only the published schema (`target.layer("published")`) and the quality gate's
results file, and needs no network: CSS inline, charts as SVG drawn here, one tiny script
that only records the charts' rendered sizes. Every number a test compares is also in a
`data-*` attribute. The same inputs give the same file, apart from its generated-at line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from microseg.export import NothingPublished
from microseg.report import sections
from microseg.report.browser import BrowserMissing, chromium, dump_dom, screenshot
from microseg.report.markup import esc
from microseg.report.page import Section, document
from microseg.warehouse import Target, connect, target

__all__ = [
    "BrowserMissing",
    "NothingPublished",
    "ReportSummary",
    "chromium",
    "default_path",
    "dump_dom",
    "screenshot",
    "write_report",
]


@dataclass
class ReportSummary:
    path: Path
    written: list[str] = field(default_factory=list)  # section titles with content
    empty: dict[str, str] = field(default_factory=dict)  # section title -> why it is empty

    def lines(self) -> list[str]:
        lines = [
            f"report written to {self.path}: {len(self.written)} of "
            f"{len(self.written) + len(self.empty)} sections with content"
        ]
        lines.extend(f"  {title}: {why}" for title, why in self.empty.items())
        return lines


def default_path(where: Path | Target) -> Path:
    """Where the report goes unless told: beside the target's gate results."""
    return _chosen(where).work_dir / "report.html"


def _chosen(where: Path | Target) -> Target:
    return where if isinstance(where, Target) else target("dev", where)


def _gate_results(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The gate's results file, or None and why it cannot be shown."""
    if not path.exists():
        return None, f"No gate results at {path}: run `microseg validate`."
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return None, f"{path} cannot be read as the gate's results ({error})."
    if not isinstance(results, dict):
        return None, f"{path} is not the gate's results (no object at its top)."
    return results, ""


def write_report(
    where: Path | Target, out_path: Path, validation_json: Path | None = None
) -> ReportSummary:
    """Write the report on the published build of a DuckDB file or a target to out_path.

    validation_json defaults to `<work_dir>/validation/results.json`, which
    `microseg validate` writes. Raises NothingPublished when there is no published schema.
    """
    chosen = _chosen(where)
    results_path = validation_json or chosen.work_dir / "validation" / "results.json"
    results, why = _gate_results(results_path)
    with connect(chosen, read_only=True) as warehouse:
        schema = chosen.layer("published")
        if not warehouse.has_schema(schema):
            raise NothingPublished(f"{chosen.label} has no schema {schema}: run `microseg publish`")
        published = sections.Published(warehouse)
        segments = sections.Segments.read(published)
        publication = sections.latest_publication(published)
        parts: list[Section] = [
            sections.overview(published, results),
            sections.sizes(published, segments),
            sections.overlaps(published, segments),
            sections.kpis(published, segments),
            sections.lift(published, segments),
            sections.withheld(published, segments),
            sections.clusters(published),
            sections.models(published),
        ]
    parts.append(sections.gate(results, why, publication))
    header = (
        '<header class="top"><h1>Micro-segments: the published build</h1>'
        f"<p>{esc(chosen.label)}, schema {esc(schema)}</p></header>"
    )
    generated = f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC by microseg report."
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(document("microseg report", header, parts, generated), encoding="utf-8")
    summary = ReportSummary(out_path)
    for part in parts:
        if part.empty:
            summary.empty[part.title] = part.empty
        else:
            summary.written.append(part.title)
    return summary


def write_gate_page(validation_json: Path, out_path: Path) -> Path:
    """The gate's human page on its own: every expectation, observed value, threshold and
    status of one `microseg validate`, offline (GX's Data Docs load their styles from CDNs)."""
    results, why = _gate_results(validation_json)
    part = sections.gate(results, why, None, against_publication=False)
    header = (
        '<header class="top"><h1>Quality gate</h1>'
        f"<p>{esc(str((results or {}).get('database', '')))}</p></header>"
    )
    generated = f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC by microseg validate."
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(document("microseg quality gate", header, [part], generated), "utf-8")
    return out_path
