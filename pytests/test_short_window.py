"""A build on three hours of data: everyone bought within hours, no one has history.

Relative scores on such a window once put every buyer in the lowest recency quintile
(`rfm_lost` next to `recent_buyers`), labelled 0-days-idle clusters `churning`, and the
propensity models that could not train left an empty heading in the summary.
"""

from __future__ import annotations

import pytest

from conftest import BUILD, Build, connect_built, project_var, write_raw_tables
from microseg.generate import GeneratorConfig, generate
from microseg.project import run_dbt
from microseg.rules import catalogue_entries, segments_of
from microseg.summary import ml_lines

WINDOW_HOURS = 3


@pytest.fixture(scope="module")
def short_window_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """~20k generated events over one day (`microseg generate` spreads them over 180 days,
    too thin for 3 hours), of which the last three hours of receipts are kept."""
    root = tmp_path_factory.mktemp("short_window")
    manifest = generate(GeneratorConfig(events=20_000, seed=7, days=1), root / "full")
    clock = str(manifest["last_event_at"])
    write_raw_tables(
        root / "full",
        root / "data",
        f"occurred_at > timestamp '{clock}' - interval {WINDOW_HOURS} hour "
        f"and received_at <= timestamp '{clock}'",
    )
    result = run_dbt(BUILD, data_dir=root / "data", db_path=root / "microseg.duckdb", as_of=clock)
    return Build(root / "data", root / "microseg.duckdb", manifest, result)


def test_the_build_succeeds_with_its_contradiction_test(short_window_build: Build) -> None:
    assert short_window_build.result.success, short_window_build.result.failures
    with connect_built(short_window_build.db_path) as con:
        recent_buyers = con.execute(
            "select count(*) from fct_segment_memberships where segment_key = 'recent_buyers'"
        ).fetchone()[0]
    assert recent_buyers >= 10, "enough buyers in the window to have tied recency"


def test_recent_buyers_never_score_as_lapsed(short_window_build: Build) -> None:
    floor = project_var("microseg__recent_buyer_recency_score")
    rfm_segments = segments_of(catalogue_entries({}), "rfm")
    lapsed = [rfm["rfm_class"] for rfm in rfm_segments if rfm["r"][1] < floor]
    with connect_built(short_window_build.db_path) as con:
        buyers = con.execute(
            "select days_since_last_purchase, is_recent_buyer, recency_score, rfm_class "
            "from dim_persons where purchases > 0"
        ).df()
    assert (buyers["days_since_last_purchase"] <= 1).all(), "bought within hours"
    assert buyers["is_recent_buyer"].all()
    # One tied block (or two across midnight): mid-rank scores, floored at the recent score.
    assert buyers["recency_score"].between(floor, 5).all(), buyers["recency_score"].value_counts()
    assert not set(buyers["rfm_class"]) & set(lapsed), buyers["rfm_class"].value_counts()


def test_zero_days_idle_clusters_are_never_churning_or_inactive(
    short_window_build: Build,
) -> None:
    with connect_built(short_window_build.db_path) as con:
        clusters = con.execute(
            "select cluster_label, avg_days_since_last_seen from dim_clusters"
        ).df()
    assert not clusters.empty
    assert (clusters["avg_days_since_last_seen"] < 1).all()
    assert not {"churning", "inactive"} & set(clusters["cluster_label"])


def test_skipped_models_say_why_in_the_table_and_the_summary(short_window_build: Build) -> None:
    window = project_var("microseg__prediction_window_days")
    with connect_built(short_window_build.db_path) as con:
        statuses = con.execute(
            "select model_name, status, reason from fct_ml_model_quality "
            "where metric_group = 'status'"
        ).df()
    assert statuses["model_name"].is_unique
    skipped = statuses.set_index("model_name")
    for name in ("purchase_propensity", "churn_risk"):
        assert skipped.loc[name, "status"] == "skipped"
        reason = skipped.loc[name, "reason"]
        assert f"needs 2 windows of {window} days of history" in reason
        history = float(reason.rsplit("the data has ", 1)[1].split()[0])
        assert 0 < history <= round(WINDOW_HOURS / 24, 1), reason
    lines = "\n".join(ml_lines(short_window_build.db_path))
    assert "propensity on the held-out window" not in lines, "no heading without models"
    assert f"purchase_propensity  skipped: needs 2 windows of {window} days" in lines
