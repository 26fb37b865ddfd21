"""The benchmark's plain-DuckDB baseline computes what the project computes."""

from __future__ import annotations

from pathlib import Path

from conftest import Build, project_var
from microseg.bench import (
    build_outputs,
    compare_outputs,
    rule_segments,
    run_baseline,
    segment_matches_sql,
)
from microseg.bench.baseline import rfm_segments
from microseg.rules import catalogue_entries, segments_of


def test_baseline_agrees_with_the_build(demo_build: Build, tmp_path: Path) -> None:
    stages = run_baseline(
        demo_build.data_dir, tmp_path / "baseline.duckdb", str(demo_build.manifest["last_event_at"])
    )
    assert list(stages) == ["staging", "sessions", "features", "segments"]
    agreement = compare_outputs(
        build_outputs(demo_build.db_path, microseg=True),
        build_outputs(tmp_path / "baseline.duckdb", microseg=False),
    )
    assert agreement["sessions"]["microseg"] > 0
    assert agreement["sessions_equal"], agreement["sessions"]
    assert agreement["segment_sizes_equal"], agreement["segment_differences"]


def test_baseline_rules_come_from_the_catalogue() -> None:
    # No catalogue var: the shipped catalogue (microseg.rules reads its file).
    variables = {"microseg__min_interactions": project_var("microseg__min_interactions")}
    sql = segment_matches_sql(variables)
    selects = sql.split("\nunion all\n")
    # Rules reading the ML columns (propensity percentiles) are not in the baseline.
    assert len(rule_segments(variables)) < len(segments_of(catalogue_entries(variables), "rule"))
    assert len(selects) == len(rule_segments(variables)) + len(rfm_segments(variables))
    champions = next(s for s in selects if "'rfm_champions'" in s)
    # Nested under customers: its own rule and the parent's, each with its minimum.
    assert "(rfm_class = 'champions') and interactions >= 3" in champions
    assert "(purchases > 0) and interactions >= 3" in champions
    abandoners = next(s for s in selects if "'cart_abandoners_24h'" in s)
    assert "interactions >= 1" in abandoners
