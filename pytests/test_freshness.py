"""`dbt source freshness` judges the raw events by their latest plausible receipt.

A receipt in the future (a tracker's broken clock: the generator's dirt puts some in 2999)
must not make a source look fresh, and the check must fail once data stops arriving,
whatever the column's type (timestamps or text with UTC offsets).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from microseg.generate import GeneratorConfig, generate
from microseg.project import project_dir, run_dbt


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("freshness") / "generated"
    generate(GeneratorConfig(events=3_000, seed=5), data)
    return data


def events_received(generated: Path, folder: Path, latest: datetime, as_text: bool) -> Path:
    """The generated events moved so the newest real receipt is `latest`, plus one in 2999."""
    folder.mkdir(parents=True)
    naive = latest.astimezone(UTC).replace(tzinfo=None)
    # The generator's own dirt has receipts in 2999 already: shift by the latest real one.
    moved = (
        "received_at + (cast(? as timestamp) "
        "- max(received_at) filter (where received_at < timestamp '2100-01-01') over ())"
    )
    received = moved if not as_text else f"strftime({moved}, '%Y-%m-%dT%H:%M:%S') || '+00:00'"
    future = "'2999-01-01T00:00:00+00:00'" if as_text else "timestamp '2999-01-01'"
    with duckdb.connect() as con:
        con.execute(
            f"""copy (
                select * replace ({received} as received_at)
                from read_parquet('{generated / "events.parquet"}')
                union all by name
                (
                    select * replace ({future} as received_at)
                    from read_parquet('{generated / "events.parquet"}') limit 1
                )
            ) to '{folder / "events.parquet"}' (format parquet)""",
            [naive],
        )
    return folder


def freshness(data_dir: Path, time_zone: str | None = None) -> dict:
    """`dbt source freshness` on the events; in a process of its own in `time_zone`."""
    selection = ["source", "freshness", "--select", "source:tracking.events"]
    target_path = data_dir.parent / "target"
    database = data_dir.parent / f"{data_dir.name}.duckdb"
    if time_zone is None:
        success = run_dbt(selection, data_dir=data_dir, db_path=database).success
    else:
        command = [
            str(Path(sys.executable).parent / "dbt"), *selection,
            "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir()),
            "--target-path", str(target_path), "--log-path", str(data_dir.parent / "logs"),
        ]  # fmt: skip
        environment = {
            **os.environ, "TZ": time_zone,
            "MICROSEG_DATA_DIR": str(data_dir), "MICROSEG_DUCKDB_PATH": str(database),
        }  # fmt: skip
        success = subprocess.run(command, env=environment, capture_output=True).returncode == 0
    (outcome,) = json.loads((target_path / "sources.json").read_text())["results"]
    assert success == (outcome["status"] != "error")
    return outcome


def test_fresh_data_passes_and_stale_data_fails_despite_future_dirt(
    generated: Path, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    hour_ago = now - timedelta(hours=1)
    # Fresh, as text with UTC offsets: the 2999 receipt is left out, the latest is an hour
    # old. Judged on a machine five hours behind UTC: the clock is UTC whatever the zone.
    fresh_data = events_received(generated, tmp_path / "fresh", hour_ago, as_text=True)
    fresh = freshness(fresh_data, time_zone="America/New_York")
    assert fresh["status"] == "pass", fresh
    latest = datetime.fromisoformat(fresh["max_loaded_at"]).replace(tzinfo=UTC)
    assert abs(latest - hour_ago) < timedelta(minutes=1)

    # Stale, as timestamps: nothing for 30 hours fails (error_after 24 hours), 2999 or not.
    stale_at = now - timedelta(hours=30)
    stale = freshness(events_received(generated, tmp_path / "stale", stale_at, as_text=False))
    assert stale["status"] == "error", stale
    assert stale["max_loaded_at_time_ago_in_s"] > 29 * 3600
