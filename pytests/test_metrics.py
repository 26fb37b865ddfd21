"""The semantic layer (models/marts/semantic) answers as the marts do: `mf query` runs on a
copy of the demo build and every metric is compared with SQL on the mart it reads.

A single build measures no lift (no window after entry has ended), so the copy's membership
history is moved 60 days back and the two marts built from it are run again: as if every
membership had been entered 60 days before the clock, with the purchases since then as
outcomes. `mf` reads the semantic manifest the build wrote (target/ beside the database),
so no extra dbt parse is needed.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import microseg
from conftest import Build, connect_built
from microseg.project import project_dir, run_dbt

MF = Path(sys.executable).with_name("mf")
if not MF.exists():
    MF = Path(shutil.which("mf") or MF)
pytestmark = pytest.mark.skipif(not MF.exists(), reason="mf (dbt-metricflow) is not installed")

SHIFT_DAYS = 60
LIFT_METRICS = [
    "treated_persons",
    "holdout_persons",
    "treated_conversion_rate",
    "holdout_conversion_rate",
    "conversion_lift",
    "revenue_per_person_lift",
]
# The queries, each `mf query` run once (in parallel: each starts dbt, about 8 CPU seconds).
QUERIES = {
    "segments": ["--metrics", "segment_members,segment_share", "--group-by", "segment"],
    "persons": [
        "--metrics", "persons,conversion_rate_30d,revenue_per_person_90d",
        "--group-by", "person__primary_segment_key",
    ],
    "behaviour": ["--metrics", "events,sessions", "--group-by", "metric_time__day"],
    "lift": [
        "--metrics", ",".join(LIFT_METRICS),
        "--group-by", "segment,lift__channel,lift__window_days",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def semantic(demo_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo build with lift (the module docstring)."""
    assert demo_build.result.success, demo_build.result.failures
    root = tmp_path_factory.mktemp("metrics")
    shutil.copytree(demo_build.db_path.parent, root, dirs_exist_ok=True)
    with duckdb.connect(str(root / "microseg.duckdb")) as con:
        con.execute(
            f"update main_snapshots.snap_segment_memberships set "
            f"dbt_valid_from = dbt_valid_from - interval {SHIFT_DAYS} day, "
            f"dbt_valid_to = dbt_valid_to - interval {SHIFT_DAYS} day"
        )
    result = run_dbt(
        ["run", "--select", "fct_segment_membership_changes fct_segment_lift"],
        data_dir=root / "data",
        db_path=root / "microseg.duckdb",
        as_of=str(demo_build.manifest["last_event_at"]),
    )
    assert result.success, result.failures
    return root


@pytest.fixture(scope="module")
def answers(semantic: Path) -> dict[str, tuple[int, str, Path]]:
    """Each query's exit code, output and CSV. Every query runs in a folder of its own
    (`mf` reads dbt_project.yml and target/ in DBT_PROJECT_DIR) on its own copy of the
    database, since DuckDB lets one process at a time open a file for writing."""
    # The profile's salt plugin imports microseg: the same one as here.
    python_path = [str(Path(microseg.__file__).parents[1]), os.environ.get("PYTHONPATH")]
    running = {}
    for name, args in QUERIES.items():
        folder = semantic / "mf" / name
        folder.mkdir(parents=True)
        (folder / "dbt_project.yml").symlink_to(project_dir() / "dbt_project.yml")
        (folder / "target").symlink_to(semantic / "target")
        shutil.copy(semantic / "microseg.duckdb", folder / "microseg.duckdb")
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(project_dir()),
            "DBT_PROJECT_DIR": str(folder),
            "MICROSEG_DUCKDB_PATH": str(folder / "microseg.duckdb"),
            "PYTHONPATH": os.pathsep.join(filter(None, python_path)),
        }
        command = [str(MF), "query", *args, "--csv", str(folder / "out.csv"), "--quiet"]
        running[name] = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    finished = {}
    for name, process in running.items():
        output, _ = process.communicate(timeout=300)
        finished[name] = (process.returncode, output, semantic / "mf" / name / "out.csv")
    return finished


def query_rows(answers: dict[str, tuple[int, str, Path]], name: str) -> list[dict[str, str]]:
    """The rows `mf` wrote for a query; an error or an empty result fails the test."""
    code, output, out = answers[name]
    assert code == 0 and out.exists(), output
    with out.open() as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float | None:
    return None if text == "" else float(text)


def same(got: float | None, expected: object) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    return math.isclose(got, float(expected), rel_tol=1e-9, abs_tol=1e-9)


def pairs(con: duckdb.DuckDBPyConnection, query: str) -> dict:
    """A two-column query as a dict."""
    return dict(con.execute(query).fetchall())


def test_segment_members_and_share_equal_the_segment_marts(semantic: Path, answers: dict) -> None:
    rows = query_rows(answers, "segments")
    with connect_built(semantic / "microseg.duckdb") as con:
        members = pairs(con, "select segment_key, count(*) from fct_segment_memberships group by 1")
        shares = pairs(con, "select segment_key, share_of_persons from dim_segments")
    got = {row["segment"]: number(row["segment_members"]) for row in rows}
    assert {key: value for key, value in got.items() if value is not None} == members
    # Empty segments have no membership rows: no members, hence no share.
    assert {key for key, value in got.items() if value is None} == set(shares) - set(members)
    assert len(members) > 5
    for row in rows:
        expected = shares[row["segment"]] if row["segment"] in members else None
        assert same(number(row["segment_share"]), expected), row


def test_person_rates_by_primary_segment_equal_dim_persons(semantic: Path, answers: dict) -> None:
    with connect_built(semantic / "microseg.duckdb") as con:
        expected = {
            key: (persons, rate, revenue)
            for key, persons, rate, revenue in con.execute(
                "select primary_segment_key, count(*), "
                "avg(case when purchases_30d > 0 then 1.0 else 0.0 end), "
                "avg(coalesce(revenue_90d, 0)) from dim_persons group by 1"
            ).fetchall()
        }
    got = {row["person__primary_segment_key"]: row for row in query_rows(answers, "persons")}
    assert set(got) == set(expected)
    assert any(rate > 0 for _, rate, _ in expected.values())
    for key, (persons, rate, revenue) in expected.items():
        assert int(got[key]["persons"]) == persons, key
        assert same(number(got[key]["conversion_rate_30d"]), rate), got[key]
        assert same(number(got[key]["revenue_per_person_90d"]), revenue), got[key]


def test_events_and_sessions_per_day_equal_the_session_marts(semantic: Path, answers: dict) -> None:
    rows = query_rows(answers, "behaviour")
    with connect_built(semantic / "microseg.duckdb") as con:
        events = pairs(
            con,
            "select cast(cast(started_at as date) as varchar), sum(event_count) "
            "from fct_sessions group by 1",
        )
        sessions = pairs(
            con,
            "select cast(cast(started_at as date) as varchar), count(*) "
            "from fct_sessions group by 1",
        )
        # Every event in a session counted once (the marts agree with each other).
        assert (
            sum(events.values())
            == con.execute("select count(*) from fct_session_events").fetchone()[0]
        )
    got_events = {row["metric_time__day"][:10]: row["events"] for row in rows if row["events"]}
    got_sessions = {
        row["metric_time__day"][:10]: row["sessions"] for row in rows if row["sessions"]
    }
    assert {day: int(count) for day, count in got_events.items()} == events
    assert {day: int(count) for day, count in got_sessions.items()} == sessions
    assert len(events) > 30


def test_lift_per_segment_channel_and_window_equals_fct_segment_lift(
    semantic: Path, answers: dict
) -> None:
    columns = {
        "treated_persons": "treated_persons",
        "holdout_persons": "holdout_persons",
        "treated_conversion_rate": "treated_conversion_rate",
        "holdout_conversion_rate": "holdout_conversion_rate",
        "conversion_lift": "absolute_lift",
        "revenue_per_person_lift": "revenue_per_person_lift",
    }
    assert list(columns) == LIFT_METRICS
    with connect_built(semantic / "microseg.duckdb") as con:
        cursor = con.execute(
            f"select segment_key, channel, window_days, {', '.join(columns.values())} "
            "from fct_segment_lift"
        )
        expected = {(row[0], row[1], row[2]): row[3:] for row in cursor.fetchall()}
    got = {
        (row["segment"], row["lift__channel"], int(row["lift__window_days"])): row
        for row in query_rows(answers, "lift")
    }
    assert set(got) == set(expected)
    # Windows were measured, some with conversions in both groups: the comparison has teeth.
    assert {window for _, _, window in expected} == {7, 28}
    assert any(values[2] and values[3] for values in expected.values())
    for key, values in expected.items():
        for metric, value in zip(LIFT_METRICS, values, strict=True):
            assert same(number(got[key][metric]), value), (key, metric, got[key][metric], value)
