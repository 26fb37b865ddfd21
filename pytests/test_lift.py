"""Lift measured end to end: a shop built as it stood a month before its data ends, a
simulated campaign e-mailing its sync table (microseg.generate.campaign, with a seeded
effect for some segments and none for the others), then the whole data built again.
fct_segment_lift is checked against a recomputation in pandas and scipy from two public
marts, and against the seeded effects."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest
from scipy import stats

from conftest import BUILD, Build, connect_built
from microseg.generate import GeneratorConfig, campaign, generate
from microseg.project import run_dbt

# Half of every segment held out, so that 300k events have the power to see the effect.
VARS = {"microseg__holdout_percent": 50}


@pytest.fixture(scope="module")
def activated(tmp_path_factory: pytest.TempPathFactory) -> Build:
    root = tmp_path_factory.mktemp("activated")
    data, history, db_path = root / "data", root / "history", root / "microseg.duckdb"
    manifest = generate(GeneratorConfig(events=300_000, seed=5), data)
    cutoff = campaign.history_cutoff(manifest)
    campaign.write_history(data, history, cutoff)
    first = run_dbt(BUILD, data_dir=history, db_path=db_path, extra_vars=VARS)
    assert first.success, first.failures
    with connect_built(db_path) as con:
        audience = con.execute("select user_id, segment_key from sync_email_audiences").df()
    end = datetime.fromisoformat(str(manifest["generator"]["end"]))
    report = campaign.simulate(audience, data, cutoff, end, seed=5)
    assert report.conversions > 0
    result = run_dbt(BUILD, data_dir=data, db_path=db_path, extra_vars=VARS)
    return Build(data, db_path, manifest, result)


@pytest.fixture(scope="module")
def lift(activated: Build) -> pd.DataFrame:
    assert activated.result.success, activated.result.failures
    with activated.connect() as con:
        return con.execute("select * from fct_segment_lift").df()


def _recomputed(activated: Build) -> pd.DataFrame:
    """Channel `all` from fct_segment_membership_changes and fct_session_events alone."""
    with activated.connect() as con:
        changes = con.execute(
            "select membership_id, person_key, segment_key, changed_at, change_id, is_holdout "
            "from fct_segment_membership_changes where change_type = 'entered'"
        ).df()
        purchases = con.execute(
            "select person_key, occurred_at, coalesce(revenue, 0) as revenue "
            "from fct_session_events where event_type = 'purchase'"
        ).df()
        clock = con.execute("select max(measured_at) from fct_segment_lift").fetchone()[0]
        fallback = {
            row[0]
            for row in con.execute(
                "select segment_key from dim_segments where is_fallback"
            ).fetchall()
        }
    entries = changes.sort_values(["changed_at", "change_id"]).drop_duplicates("membership_id")
    entries = entries[~entries.segment_key.isin(fallback)]
    rows = []
    for days in (7, 28):
        ended = entries[entries.changed_at + pd.Timedelta(days=days) <= clock]
        joined = ended.merge(purchases, on="person_key", how="left")
        inside = (joined.occurred_at > joined.changed_at) & (
            joined.occurred_at <= joined.changed_at + pd.Timedelta(days=days)
        )
        joined["converted"] = inside
        joined["kept_revenue"] = joined.revenue.where(inside, 0.0).astype(float)
        per_member = joined.groupby(["membership_id", "segment_key", "is_holdout"]).agg(
            converted=("converted", "any"), revenue=("kept_revenue", "sum")
        )
        for (segment, holdout), group in per_member.reset_index().groupby(
            ["segment_key", "is_holdout"]
        ):
            rows.append(
                {"segment_key": segment, "window_days": days, "is_holdout": holdout,
                 "persons": len(group), "converted": int(group.converted.sum()),
                 "revenue": float(group.revenue.sum())}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_the_campaign_build_passes(activated: Build) -> None:
    assert activated.result.success, activated.result.failures


def test_lift_equals_a_recomputation_from_the_public_marts(
    activated: Build, lift: pd.DataFrame
) -> None:
    expected = _recomputed(activated)
    measured = lift[lift.channel == "all"].set_index(["segment_key", "window_days"])
    assert len(measured) > 10
    z_alpha = stats.norm.ppf(0.975)
    for (segment, days), row in measured.iterrows():
        groups = expected[(expected.segment_key == segment) & (expected.window_days == days)]
        treated = groups[~groups.is_holdout.astype(bool)]
        holdout = groups[groups.is_holdout.astype(bool)]
        nt = int(treated.persons.sum())
        nh = int(holdout.persons.sum())
        ct, ch = int(treated.converted.sum()), int(holdout.converted.sum())
        assert (row.treated_persons, row.holdout_persons) == (nt, nh), (segment, days)
        assert (row.treated_converted, row.holdout_converted) == (ct, ch), (segment, days)
        assert row.treated_revenue == pytest.approx(float(treated.revenue.sum()), abs=1e-6)
        assert row.holdout_revenue == pytest.approx(float(holdout.revenue.sum()), abs=1e-6)
        if min(nt, nh) == 0:
            continue
        pooled = (ct + ch) / (nt + nh)
        if 0 < pooled < 1:
            z = (ct / nt - ch / nh) / math.sqrt(pooled * (1 - pooled) * (1 / nt + 1 / nh))
            assert row.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), abs=5e-7)
        at, ah = (ct + 1) / (nt + 2), (ch + 1) / (nh + 2)
        se = math.sqrt(at * (1 - at) / (nt + 2) + ah * (1 - ah) / (nh + 2))
        assert row.lift_low == pytest.approx(at - ah - z_alpha * se, rel=1e-9, abs=1e-12)
        assert row.lift_high == pytest.approx(at - ah + z_alpha * se, rel=1e-9, abs=1e-12)
    missing = {
        (segment, days)
        for segment, days in expected[["segment_key", "window_days"]].itertuples(index=False)
    } - set(measured.index)
    assert not missing  # every segment with an ended window is measured


def test_the_seeded_effects_are_found_and_the_others_are_not(lift: pd.DataFrame) -> None:
    email = lift[(lift.channel == "email") & (lift.window_days == 28)].set_index("segment_key")
    seeded = [key for key in campaign.EFFECTS if key in email.index]
    assert seeded, "no seeded segment was measured"
    for key in seeded:
        row = email.loc[key]
        assert row.verdict == "lift" and row.lift_low > 0, (key, row.to_dict())
        assert 0 < row.treated_contacted <= row.treated_persons
    others = email.drop(index=seeded)
    significant = others[others.p_value < 0.05]
    # With no effect, a 5% test finds one about once in twenty segments.
    assert len(significant) <= max(1, round(0.1 * len(others))), significant[
        ["absolute_lift", "p_value", "verdict"]
    ]


def test_only_ended_windows_are_measured(lift: pd.DataFrame) -> None:
    ends = lift.last_entered_at + pd.to_timedelta(lift.window_days, unit="D")
    assert (ends <= lift.measured_at).all()
    assert set(lift.verdict) <= {
        "lift", "negative lift", "no detectable lift", "inconclusive: holdout too small",
        "too few persons to test", "no variance: every or no person converted",
    }  # fmt: skip


def test_a_single_build_measures_nothing(demo_build: Build) -> None:
    """Every member entered at the build's clock: no window has ended, no partial lift."""
    assert demo_build.scalar("select count(*) from fct_segment_lift") == 0
