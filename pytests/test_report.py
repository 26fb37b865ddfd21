"""microseg report: one offline HTML page on the published build.

The shared demo build is validated and published in a copy; the report on it must show the
marts' own numbers (read back from the page's data attributes and compared with queries on
the DuckDB file), draw every chart with a size and marks in headless Chromium, escape
hostile segment names, and still render, saying what is missing, on an older publication.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from conftest import Build
from microseg.publish import PUBLISHED_SCHEMA, publish
from microseg.report import ReportSummary, chromium, dump_dom, write_report
from microseg.validate import STATUS_ORDER, validate

P = PUBLISHED_SCHEMA
NEEDS_CHROMIUM = pytest.mark.skipif(
    chromium() is None,
    reason="no chromium binary on PATH (apt-get install chromium; CI installs it in .ci/run)",
)
HOSTILE = (
    '<script>document.title="pwned"</script>',
    '"><img src=x onerror=alert(1)>',
    "Tom & Jerry's <b>best</b>",
)


class Elements(HTMLParser):
    """Every start tag with its attributes, the data-table and the chart it sits in."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[dict[str, Any]] = []
        self._tables: list[str] = []
        self._charts: list[str] = []
        self._row: dict[str, str] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "table":
            self._tables.append(values.get("data-table", ""))
        if tag == "svg":
            self._charts.append(values.get("data-chart", ""))
        if tag == "tr":
            self._row = values
        self.found.append(
            {
                "tag": tag,
                "attrs": values,
                "table": self._tables[-1] if self._tables else "",
                "chart": self._charts[-1] if self._charts else "",
                "row": self._row,
            }
        )

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._tables:
            self._tables.pop()
        if tag == "svg" and self._charts:
            self._charts.pop()
        if tag == "tr":
            self._row = {}

    def rows(self, table: str) -> list[dict[str, str]]:
        """The table's rows that carry data (not its header or group rows)."""
        return [
            e["attrs"]
            for e in self.found
            if e["tag"] == "tr"
            and e["table"] == table
            and any(k.startswith("data-") for k in e["attrs"])
        ]

    def marks(self, chart: str, tag: str) -> list[dict[str, str]]:
        """What a chart draws from the data (class `mark`), by element."""
        return [
            e["attrs"]
            for e in self.found
            if e["tag"] == tag
            and e["chart"] == chart
            and "mark" in e["attrs"].get("class", "").split()
        ]

    def charts(self) -> list[dict[str, str]]:
        return [
            e["attrs"]
            for e in self.found
            if e["tag"] == "svg" and "chart" in e["attrs"].get("class", "").split()
        ]

    def section(self, key: str) -> dict[str, str]:
        return next(e["attrs"] for e in self.found if e["attrs"].get("data-section") == key)


def _float(text: str) -> float | None:
    return float(text) if text != "" else None


def _same(value: object) -> object:
    """A mart value as the page writes it back (null as None), for comparison."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return pytest.approx(float(value), rel=1e-12, abs=1e-12)  # type: ignore[arg-type]


def query(db_path: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, parameters).fetchall()


def has_table(db_path: Path, name: str) -> bool:
    return bool(
        query(
            db_path,
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [P, name],
        )[0][0]
    )


@pytest.fixture(scope="module")
def published(demo_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo build, validated and published, in a copy of its own."""
    root = tmp_path_factory.mktemp("report")
    db_path = root / "microseg.duckdb"
    shutil.copy(demo_build.db_path, db_path)
    passed, outcomes, _ = validate(db_path, root)
    assert passed, [o.expectation for o in outcomes if o.blocking]
    publish(db_path)
    return db_path


@pytest.fixture(scope="module")
def report(published: Path) -> tuple[Path, ReportSummary]:
    out = published.parent / "report" / "report.html"
    return out, write_report(published, out)


def copy_of(published: Path, folder: Path) -> Path:
    """A copy of the published build with its gate results beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(published, folder / "microseg.duckdb")
    shutil.copytree(published.parent / "validation", folder / "validation")
    return folder / "microseg.duckdb"


def test_report_shows_the_published_marts_numbers(
    report: tuple[Path, ReportSummary], published: Path
) -> None:
    path, summary = report
    text = path.read_text()
    page = Elements(text)
    assert summary.path == path and "Segment sizes over time" in summary.written

    cards = {
        e["attrs"]["data-total"]: e["attrs"]["data-value"]
        for e in page.found
        if "data-total" in e["attrs"]
    }
    assert int(cards["persons"]) == query(published, f"select count(*) from {P}.dim_persons")[0][0]
    assert (
        int(cards["memberships"])
        == query(published, f"select count(*) from {P}.fct_segment_memberships")[0][0]
    )
    assert (
        int(cards["segments"]) == query(published, f"select count(*) from {P}.dim_segments")[0][0]
    )
    published_id = query(
        published,
        f"select dbt_invocation_id from {P}.microseg_publications order by published_at desc",
    )[0][0]
    assert f'data-invocation="{published_id}"' in text

    # Sizes: members per segment at the latest clock, from the change feed.
    members = dict(
        query(
            published,
            "select segment_key, sum(case change_type when 'entered' then 1 "
            "when 'exited' then -1 else 0 end) "
            f"from {P}.fct_segment_membership_changes group by 1",
        )
    )
    assert {r["data-segment"]: int(r["data-members"]) for r in page.rows("sizes")} == members
    clocks = query(
        published, f"select count(distinct changed_at) from {P}.fct_segment_membership_changes"
    )[0][0]
    sizes_chart = next(c for c in page.charts() if c["data-chart"] == "sizes")
    assert int(sizes_chart["data-clocks"]) == clocks
    if clocks == 1:  # one build clock: a bar per segment, not an empty line chart
        bars = page.marks("sizes", "rect")
        assert {b["data-segment"]: int(b["data-members"]) for b in bars} == members

    # KPIs: dim_segments as it is.
    kpis = {r["data-segment"]: r for r in page.rows("kpis")}
    expected = query(
        published,
        "select segment_key, member_count, share_of_persons, conversion_rate_30d, "
        f"revenue_per_person_90d, status, is_activatable from {P}.dim_segments",
    )
    assert set(kpis) == {row[0] for row in expected}
    for key, count, share, conversion, revenue, status, activatable in expected:
        row = kpis[key]
        assert int(row["data-member-count"]) == count
        assert _float(row["data-share"]) == _same(share)
        assert _float(row["data-conversion-rate-30d"]) == _same(conversion)
        assert _float(row["data-revenue-per-person-90d"]) == _same(revenue)
        assert row["data-status"] == status
        assert row["data-is-activatable"] == ("true" if activatable else "false")

    # Overlaps: one heatmap cell per row of fct_segment_overlaps.
    cells = {(c["data-segment"], c["data-other"]): c for c in page.marks("overlaps", "rect")}
    overlaps = query(
        published,
        f"select segment_key, other_segment_key, shared_members, jaccard_index "
        f"from {P}.fct_segment_overlaps",
    )
    assert set(cells) == {(a, b) for a, b, _, _ in overlaps}
    for a, b, shared, jaccard in overlaps:
        assert int(cells[(a, b)]["data-shared"]) == shared
        assert float(cells[(a, b)]["data-jaccard"]) == _same(jaccard)

    # Clusters: sizes and mean profiles.
    clusters = dict(query(published, f"select cluster_id, persons from {P}.dim_clusters"))
    bars = page.marks("clusters", "rect")
    assert {int(b["data-cluster-id"]): int(b["data-persons"]) for b in bars} == clusters
    profile = query(published, f"select cluster_id, avg_purchases from {P}.dim_clusters")
    cells_by_cluster = {
        int(e["attrs"]["data-cluster-id"]): e["attrs"]["data-value"]
        for e in page.found
        if e["tag"] == "td"
        and "data-cluster-id" in e["attrs"]
        and e["row"].get("data-feature") == "avg_purchases"
    }
    for cluster_id, purchases in profile:
        assert _float(cells_by_cluster[cluster_id]) == _same(purchases)

    # Models: held-out ROC-AUC, calibration per decile and ROC curves where stored.
    models = {r["data-model"]: r for r in page.rows("models")}
    for name, auc in query(
        published,
        f"select model_name, value from {P}.fct_ml_model_quality "
        "where metric_group = 'summary' and metric = 'roc_auc'",
    ):
        assert _float(models[name]["data-roc-auc"]) == _same(auc)
    deciles = dict(
        query(
            published,
            f"select model_name, count(distinct item) from {P}.fct_ml_model_quality "
            "where metric_group = 'calibration' group by 1",
        )
    )
    calibration = {c["data-model"]: int(c["data-points"]) for c in page.charts()
                   if c["data-chart"] == "calibration"}  # fmt: skip
    assert calibration == deciles and deciles
    with_roc = {
        name
        for name, metrics in query(
            published, f"select model_name, metrics_json from {P}.dim_ml_models"
        )
        if json.loads(metrics).get("roc_curve")
    }
    roc = {c["data-model"] for c in page.charts() if c["data-chart"] == "roc"}
    assert roc == with_roc & set(deciles) and roc, "training stores ROC points for the report"

    # Lift and withheld memberships: the marts when published, else a sentence why not.
    if (
        has_table(published, "fct_segment_lift")
        and query(published, f"select count(*) from {P}.fct_segment_lift")[0][0]
    ):
        lift_rows = {(r["data-segment"], r["data-channel"], r["data-window"]): r
                     for r in page.rows("lift")}  # fmt: skip
        for key, channel, window, lift, low, high in query(
            published,
            "select segment_key, channel, window_days, absolute_lift, lift_low, lift_high "
            f"from {P}.fct_segment_lift",
        ):
            row = lift_rows[(key, channel, str(window))]
            assert _float(row["data-absolute-lift"]) == _same(lift)
            assert _float(row["data-lift-low"]) == _same(low)
            assert _float(row["data-lift-high"]) == _same(high)
    else:
        assert page.section("lift")["data-state"] == "empty"
        assert "make demo" in summary.empty["Lift against the holdout"]
    if has_table(published, "fct_activation_withheld"):
        withheld = dict(
            query(
                published,
                f"select segment_key, count(*) from {P}.fct_activation_withheld group by 1",
            )
        )
        shown = {r["data-segment"]: int(r["data-memberships"]) for r in page.rows("withheld")}
        assert shown == withheld
    else:
        assert page.section("activation")["data-state"] == "empty"

    # The gate: every expectation once, grouped by suite, failures first.
    results = json.loads((published.parent / "validation" / "results.json").read_text())
    gate_rows = page.rows("gate")
    assert len(gate_rows) == len(results["outcomes"])
    for state in STATUS_ORDER:
        assert sum(r["data-status"] == state for r in gate_rows) == sum(
            o["status"] == state for o in results["outcomes"]
        )
    assert 'data-belongs="true"' in text


def test_report_needs_no_network_and_is_deterministic(
    report: tuple[Path, ReportSummary], published: Path, tmp_path: Path
) -> None:
    text = report[0].read_text()
    assert re.findall(r"https?://[^\"' )]+", text) == ["http://www.w3.org/2000/svg"] * len(
        re.findall(r"<svg ", text)
    )
    for fetching in ("<link", " src=", "url(", "@import", "<iframe", "<object"):
        assert fetching not in text
    assert "default-src 'none'" in text
    assert text.count("<script>") == 1  # the size stamp, allowed by its hash only

    again = tmp_path / "again.html"
    write_report(published, again)

    def stable(page: str) -> str:
        return re.sub(r"<p class=\"generated\"[^<]*</p>", "", page)

    assert stable(again.read_text()) == stable(text)


@NEEDS_CHROMIUM
def test_every_chart_renders_with_marks_in_chromium(report: tuple[Path, ReportSummary]) -> None:
    path, _ = report
    drawn = Elements(dump_dom(path)).charts()
    assert len(drawn) == len(Elements(path.read_text()).charts()) >= 5
    for chart in drawn:
        name = chart["data-chart"]
        assert int(chart.get("data-rendered-width", "0")) > 0, name
        assert int(chart.get("data-rendered-height", "0")) > 0, name
        assert int(chart.get("data-rendered-marks", "0")) > 0, name


def test_hostile_segment_names_are_escaped(published: Path, tmp_path: Path) -> None:
    db_path = copy_of(published, tmp_path / "hostile")
    with duckdb.connect(str(db_path)) as con:
        keys = [k for (k,) in con.execute(f"select segment_key from {P}.dim_segments").fetchall()]
        for key, name in zip(keys, HOSTILE, strict=False):
            con.execute(
                f"update {P}.dim_segments set segment_name = ?, status_reason = ?, channels = ? "
                "where segment_key = ?",
                [name, name, name, key],
            )
    out = tmp_path / "hostile.html"
    write_report(db_path, out)
    text = out.read_text()
    for name in HOSTILE:
        assert name not in text
        assert html.escape(name, quote=True) in text
    page = Elements(text)
    assert [e["tag"] for e in page.found].count("script") == 1  # the size stamp only
    assert not [e for e in page.found if e["tag"] in ("img", "b")]
    if chromium() is not None:
        dom = dump_dom(out)
        assert "<title>microseg report</title>" in dom
        assert not [e for e in Elements(dom).found if e["tag"] in ("img", "b")]


def test_an_older_publication_renders_and_says_what_is_absent(
    published: Path, tmp_path: Path
) -> None:
    db_path = copy_of(published, tmp_path / "older")
    with duckdb.connect(str(db_path)) as con:
        for table in (
            "fct_segment_lift",
            "fct_activation_withheld",
            "fct_ml_model_quality",
            "dim_ml_models",
            "dim_clusters",
        ):
            con.execute(f"drop table if exists {P}.{table}")
    out = tmp_path / "older.html"
    summary = write_report(db_path, out, validation_json=tmp_path / "no-such-results.json")
    assert set(summary.empty) == {
        "Lift against the holdout",
        "Withheld from activation",
        "Cluster profiles",
        "Propensity models",
        "Quality gate",
    }
    assert "make demo" in summary.empty["Lift against the holdout"]
    assert "microseg validate" in summary.empty["Quality gate"]
    page = Elements(out.read_text())
    for key in ("lift", "activation", "clusters", "models", "gate"):
        assert page.section(key)["data-state"] == "empty"
    assert {c["data-chart"] for c in page.charts()} == {"sizes", "overlaps"}
    if chromium() is not None:
        for chart in Elements(dump_dom(out)).charts():
            assert int(chart["data-rendered-marks"]) > 0, chart["data-chart"]


def _synthetic_lift(keys: list[str], names: dict[str, str]) -> pd.DataFrame:
    """A few lift rows the way fct_segment_lift has them: a clear lift, an interval holding
    zero, a holdout too small to tell (no interval), and a negative lift."""
    rows = [
        (keys[0], "all", 30, 900, 100, 0.12, 0.08, 0.04, 0.5, 0.21, -0.02, 0.10, False, "none"),
        (keys[0], "email", 30, 500, 60, 0.15, 0.05, 0.10, 2.0, 0.03, 0.03, 0.17, False, "lift"),
        (keys[1], "all", 30, 40, 3, 0.10, 0.0, 0.10, None, None, None, None, True, "too small"),
        (keys[1], "ads", 7, 300, 40, 0.02, 0.06, -0.04, -0.66, 0.04, -0.079, -0.001, False, "harm"),
    ]  # fmt: skip
    columns = [
        "segment_key", "channel", "window_days", "treated_persons", "holdout_persons",
        "treated_conversion_rate", "holdout_conversion_rate", "absolute_lift", "relative_lift",
        "p_value", "lift_low", "lift_high", "is_holdout_too_small", "verdict",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(
        0, "lift_id", frame.segment_key + "|" + frame.channel + "|" + frame.window_days.astype(str)
    )
    frame.insert(2, "segment_name", frame.segment_key.map(names))
    frame["treated_converted"] = (frame.treated_persons * frame.treated_conversion_rate).round()
    frame["holdout_converted"] = (frame.holdout_persons * frame.holdout_conversion_rate).round()
    frame["treated_revenue_per_person"] = 12.5
    frame["holdout_revenue_per_person"] = 10.0
    frame["confidence_level"] = 0.95
    frame["persons_needed_per_group"] = 1200
    return frame


def test_lift_withheld_history_and_a_stale_gate_are_drawn(published: Path, tmp_path: Path) -> None:
    db_path = copy_of(published, tmp_path / "later")
    with duckdb.connect(str(db_path)) as con:
        segments = con.execute(
            f"select segment_key, segment_name from {P}.dim_segments order by priority"
        ).fetchall()
        keys, names = [k for k, _ in segments], dict(segments)
        lift = _synthetic_lift(keys, names)
        con.register("lift", lift)
        con.execute(f"create or replace table {P}.fct_segment_lift as select * from lift")
        con.execute(
            f"create or replace table {P}.fct_activation_withheld as select "
            "membership_id || '|email' as withheld_id, membership_id, person_key, segment_key, "
            "'email' as channel, case when is_holdout then 'holdout' else 'no_consent' end "
            f"as withheld_reason from {P}.fct_segment_memberships where hash(membership_id) % 4 = 0"
        )
        # A second build clock: ten members of the largest segment leave, one is updated.
        (largest,) = con.execute(
            f"select segment_key from {P}.dim_segments order by member_count desc limit 1"
        ).fetchone()
        con.execute(
            f"insert into {P}.fct_segment_membership_changes by name "
            "select change_id || '+1' as change_id, membership_id, person_key, segment_key, "
            "case when row_number() over (order by membership_id) <= 10 then 'exited' "
            "else 'updated' end as change_type, changed_at + interval 1 day as changed_at, "
            f"false as is_primary from {P}.fct_segment_membership_changes "
            "where segment_key = ? and change_type = 'entered' order by membership_id limit 11",
            [largest],
        )
    results = json.loads((db_path.parent / "validation" / "results.json").read_text())
    results["dbt_invocation_id"] = "another-build"
    results["outcomes"][-1] |= {"status": "fail", "blocking": True}
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(results))

    out = tmp_path / "later.html"
    summary = write_report(db_path, out, validation_json=stale)
    assert not summary.empty
    text = out.read_text()
    page = Elements(text)

    forests = [c for c in page.charts() if c["data-chart"] == "lift"]
    assert sorted(int(c["data-window"]) for c in forests) == [7, 30]
    shown = {(r["data-segment"], r["data-channel"]): r for r in page.rows("lift")}
    assert len(shown) == len(lift)
    for row in lift.itertuples():
        got = shown[(row.segment_key, row.channel)]
        assert _float(got["data-absolute-lift"]) == _same(row.absolute_lift)
        assert _float(got["data-lift-low"]) == _same(row.lift_low)
        assert _float(got["data-lift-high"]) == _same(row.lift_high)
        assert got["data-holdout-too-small"] == ("true" if row.is_holdout_too_small else "false")
    # A whisker for each interval, a point for each estimate.
    whiskers = [m for m in page.marks("lift", "line") if "whisker" in m.get("class", "")]
    assert len(whiskers) == lift.lift_low.notna().sum()
    assert len(page.marks("lift", "circle")) == len(lift)

    withheld = dict(
        query(db_path, f"select segment_key, count(*) from {P}.fct_activation_withheld group by 1")
    )
    assert {
        r["data-segment"]: int(r["data-memberships"]) for r in page.rows("withheld")
    } == withheld

    sizes = next(c for c in page.charts() if c["data-chart"] == "sizes")
    assert sizes["data-clocks"] == "2"
    members = {r["data-segment"]: int(r["data-members"]) for r in page.rows("sizes")}
    before = query(
        db_path,
        f"select count(*) from {P}.fct_segment_memberships where segment_key = ?",
        [largest],
    )[0][0]
    assert members[largest] == before - 10

    assert 'data-belongs="false"' in text and "another-build" in text
    gate_rows = page.rows("gate")
    assert gate_rows[0]["data-status"] == "fail" and gate_rows[0]["data-blocking"] == "true"
    assert gate_rows[0]["data-suite"] == results["outcomes"][-1]["suite"]
    if chromium() is not None:
        for chart in Elements(dump_dom(out)).charts():
            assert int(chart["data-rendered-marks"]) > 0, chart["data-chart"]


def test_the_gate_page_lists_every_expectation_offline_even_when_the_gate_fails(
    published: Path, tmp_path: Path
) -> None:
    """`microseg validate` writes it beside results.json; a failed gate publishes nothing,
    so its page cannot come from the published schema."""
    from microseg.report import write_gate_page

    results = json.loads((published.parent / "validation" / "results.json").read_text())
    failing = dict(results["outcomes"][0], status="fail", blocking=True, observed="<b>42</b>")
    results["outcomes"].append(failing)
    results["passed"] = False
    source = tmp_path / "results.json"
    source.write_text(json.dumps(results))
    page = write_gate_page(source, tmp_path / "gate.html")
    text = page.read_text()
    assert "http://" not in text and "https://" not in text
    rows = re.findall(r'<tr data-suite="[^"]*" data-expectation="[^"]*" data-status="(\w+)"', text)
    assert len(rows) == len(results["outcomes"])
    assert rows[0] == "fail"  # failures first
    assert "&lt;b&gt;42&lt;/b&gt;" in text and "<b>42</b>" not in text
    if chromium() is None:
        pytest.skip("no chromium binary: the page was checked as text only")
    rendered = dump_dom(page)
    assert 'data-verdict="failed"' in rendered
    assert len(re.findall(r"<tr data-suite=", rendered)) == len(results["outcomes"])
