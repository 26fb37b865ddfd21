"""`microseg bench`: a full build, a +1% incremental run, a +0.1% micro-batch, a baseline.

run.py times each step in its own process, baseline.py runs baseline.sql (the same
pipeline in plain DuckDB SQL) and report.py writes the results as Markdown.
"""

from microseg.bench.baseline import (
    duckdb_settings,
    rule_segments,
    run_baseline,
    segment_matches_sql,
)
from microseg.bench.report import render_markdown
from microseg.bench.run import build_outputs, compare_outputs, run_bench

__all__ = [
    "build_outputs",
    "compare_outputs",
    "duckdb_settings",
    "render_markdown",
    "rule_segments",
    "run_baseline",
    "run_bench",
    "segment_matches_sql",
]
