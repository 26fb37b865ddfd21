"""The benchmark's plain-DuckDB baseline: baseline.sql run stage by stage on the raw Parquet,
with the default segment catalogue expanded into one select."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import duckdb

from microseg.project import project_dir, project_vars
from microseg.rules import catalogue_entries, segments_of

BASELINE_SQL = Path(__file__).with_name("baseline.sql")


def _literal(value: object) -> str:
    if isinstance(value, bool | int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


# Columns the ML models add (int_persons_scored): rules reading them are not in the baseline.
ML_COLUMNS = ("cluster_label", "purchase_propensity_percentile", "churn_risk_percentile")


def rule_segments(variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The catalogue's rule segments whose rules read only int_person_features (no ML
    column); the catalogue of microseg.rules (the shipped file unless the vars give one)."""
    return [
        entry
        for entry in segments_of(catalogue_entries(variables), "rule")
        if not any(column in entry["rule"] for column in ML_COLUMNS)
    ]


def rfm_segments(variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The catalogue's RFM segments (rfm_class, r and fm ranges, rule, parent, priority)."""
    return segments_of(catalogue_entries(variables), "rfm")


def segment_matches_sql(variables: dict[str, Any]) -> str:
    """The default catalogue's rules as one select (person_key, segment_key, priority).

    The same catalogue as macros/segments: its rule segments (no ML column) and RFM
    segments; a segment needs its rule, its minimum interactions and its parent's full
    condition.
    """
    entries = rule_segments(variables) + rfm_segments(variables)
    by_key = {entry["key"]: entry for entry in entries}

    def condition(entry: dict[str, Any]) -> str:
        minimum = entry.get("min_interactions")
        minimum = variables["microseg__min_interactions"] if minimum is None else minimum
        own = f"({entry['rule']}) and interactions >= {minimum}"
        return f"{own} and {condition(by_key[entry['parent']])}" if entry.get("parent") else own

    return "\nunion all\n".join(
        f"select person_key, '{entry['key']}' as segment_key, {entry['priority']} as priority "
        f"from bl_person_features where {condition(entry)}"
        for entry in entries
    )


def _baseline_stages() -> list[tuple[str, str]]:
    parts = re.split(r"^-- stage: (\w+)\s*$", BASELINE_SQL.read_text(), flags=re.MULTILINE)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def duckdb_settings() -> dict[str, str]:
    """The profile's DuckDB settings (profiles.yml), so the baseline runs on the same terms."""
    settings = {
        "threads": os.environ.get("MICROSEG_THREADS", "2"),
        "memory_limit": os.environ.get("MICROSEG_DUCKDB_MEMORY_LIMIT", "8GB"),
        "preserve_insertion_order": "false",
    }
    if temp := os.environ.get("MICROSEG_DUCKDB_TEMP_DIRECTORY"):
        settings["temp_directory"] = temp
    return settings


def run_baseline(data_dir: Path, db_path: Path, as_of: str) -> dict[str, float]:
    """Run baseline.sql on the raw Parquet in data_dir; seconds per stage."""
    variables = project_vars()
    db_path.unlink(missing_ok=True)
    con = duckdb.connect(str(db_path))
    for name, value in duckdb_settings().items():
        con.execute(f"set {name} = {_literal(value)}")
    inputs: dict[str, object] = {
        "events_path": str(data_dir / "events.parquet"),
        "customers_path": str(data_dir / "customers.parquet"),
        "seeds_dir": str(project_dir() / "seeds"),
        "email_pattern": variables["microseg__email_pattern"],
    }
    for name, given in inputs.items():
        con.execute(f"set variable {name} = {_literal(given)}")
    con.execute(f"set variable as_of = cast({_literal(as_of)} as timestamp)")
    con.execute(
        "set variable data_start_date = "
        f"cast({_literal(variables['microseg__data_start_date'])} as timestamp)"
    )
    for name in (
        "max_clock_skew_minutes", "max_event_revenue", "max_event_quantity",
        "bot_max_events_per_minute", "session_timeout_minutes", "max_session_hours",
        "cart_abandon_hours", "burst_product_views", "burst_minutes", "category_binge_views",
        "category_binge_minutes", "recent_buyer_days", "recent_buyer_recency_score",
    ):  # fmt: skip
        con.execute(f"set variable {name} = {_literal(variables['microseg__' + name])}")
    classes = rfm_segments(variables)
    con.execute(
        "create or replace table bl_rfm_classes as select * from (values "
        + ", ".join(f"('{c['rfm_class']}', {c['r'][0]}, {c['r'][1]}, {c['fm'][0]}, {c['fm'][1]})"
                    for c in classes)
        + ") as classes(key, r_min, r_max, fm_min, fm_max)"
    )  # fmt: skip
    seconds: dict[str, float] = {}
    for stage, sql in _baseline_stages():
        started = time.perf_counter()
        if stage == "segments":
            con.execute(
                f"create or replace view bl_segment_matches as {segment_matches_sql(variables)}"
            )
        con.execute(sql)
        seconds[stage] = round(time.perf_counter() - started, 3)
    con.close()
    return seconds
