"""Write-audit-publish: the gate passes on demo data and publishes; bad data fails it,
names the failing expectations and leaves the published tables as they were; segments too
small for their minimum are withheld by name without blocking the rest."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD, Build
from microseg import ledger
from microseg.export import export
from microseg.project import run_dbt
from microseg.publish import PUBLISHED_SCHEMA, NotPublished, publish
from microseg.validate import validate, withheld_segments


def public_models(db_path: Path) -> dict[str, str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return ledger.relations(con, ledger.latest_build(con), public_only=True)


def _fingerprints(db_path: Path) -> dict[str, tuple]:
    names = public_models(db_path)
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {
            name: con.execute(
                f"select count(*), sum(hash(t::varchar)) from {PUBLISHED_SCHEMA}.{name} as t"
            ).fetchone()
            for name in names
        }
    finally:
        con.close()


def _failed(outcomes: list) -> list[str]:
    return [outcome.expectation for outcome in outcomes if outcome.status == "fail"]


@pytest.fixture(scope="module")
def published(demo_sized_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The demo-sized build, validated and published, in a copy of its own."""
    root = tmp_path_factory.mktemp("published")
    shutil.copytree(demo_sized_build.data_dir, root / "data")
    shutil.copytree(demo_sized_build.db_path.parent / "target", root / "target")
    shutil.copy(demo_sized_build.db_path, root / "microseg.duckdb")
    build = Build(root / "data", root / "microseg.duckdb", demo_sized_build.manifest, None)
    passed, outcomes, _ = validate(build.db_path, root)
    assert passed, _failed(outcomes)
    publish(build.db_path)
    return build


def test_gate_passes_on_demo_data_and_publishes_every_public_mart(
    published: Build, tmp_path: Path
) -> None:
    fingerprints = _fingerprints(published.db_path)
    con = duckdb.connect(str(published.db_path), read_only=True)
    for name, (rows, _) in fingerprints.items():
        source = public_models(published.db_path)[name]
        assert rows == con.execute(f"select count(*) from {source}").fetchone()[0], name
    con.close()
    assert "sync_email_audiences" in fingerprints
    assert (published.db_path.parent / "gx" / "uncommitted" / "data_docs").is_dir()
    written = export(published.db_path, tmp_path)  # reads main_published
    assert written["sync_email_audiences.csv"] == fingerprints["sync_email_audiences"][0]


def test_null_id_flood_fails_the_gate_and_leaves_published_tables_alone(
    published: Build,
) -> None:
    before = _fingerprints(published.db_path)
    events = published.data_dir / "events.parquet"
    flooded = published.data_dir / "flooded.parquet"
    last_receipt = published.manifest["last_event_at"]
    # A replayed backlog without event ids: the last ten days' traffic arrives again, just
    # after the last receipt, with its ids lost (a few percent of all rows).
    duckdb.connect().execute(
        f"""
        copy (
            select * from '{events}'
            union all
            select * replace (
                null as event_id, timestamp '{last_receipt}' + interval 1 minute as received_at
            )
            from '{events}'
            where received_at > timestamp '{last_receipt}' - interval 10 day
        ) to '{flooded}' (format parquet)
        """
    )
    shutil.move(flooded, events)
    result = run_dbt(
        BUILD,
        data_dir=published.data_dir,
        db_path=published.db_path,
        as_of=str(published.manifest["last_event_at"]),
    )
    assert result.success, result.failures  # dbt quarantines the rows: structure is fine
    passed, outcomes, _ = validate(published.db_path, published.db_path.parent)

    assert not passed
    assert "column_values_to_not_be_null(event_id)" in _failed(outcomes)
    assert {o.suite for o in outcomes if o.status == "fail"} == {"base_tracking__events"}
    with pytest.raises(NotPublished, match="event_id"):
        publish(published.db_path)
    assert _fingerprints(published.db_path) == before


def test_small_data_withholds_small_segments_by_name_and_still_publishes(
    demo_build: Build, tmp_path: Path
) -> None:
    """60k events are too few for some 50-member segments: the gate names each one as
    withheld, passes, and the published sync tables carry none of them."""
    shutil.copy(demo_build.db_path, tmp_path / "microseg.duckdb")
    passed, outcomes, _ = validate(tmp_path / "microseg.duckdb", tmp_path)
    with duckdb.connect(str(tmp_path / "microseg.duckdb"), read_only=True) as con:
        small = con.execute(
            "select segment_key from main_marts.dim_segments "
            "where not is_fallback and member_count < min_size order by priority"
        ).fetchall()
        out_of_bounds = con.execute(
            "select segment_key from main_marts.dim_segments where status in "
            "('withheld', 'empty') order by priority"
        ).fetchall()
    assert small
    assert passed, _failed(outcomes)
    withheld = [o for o in outcomes if o.status == "withheld"]
    assert [f"column_min_to_be_between(member_count, {key})" for (key,) in small] == [
        o.expectation for o in withheld if o.expectation.startswith("column_min_to_be_between")
    ]
    assert list(withheld_segments(outcomes)) == [key for (key,) in out_of_bounds]
    assert not any(o.blocking for o in withheld)

    publish(tmp_path / "microseg.duckdb")
    with duckdb.connect(str(tmp_path / "microseg.duckdb"), read_only=True) as con:
        synced = {
            key
            for table in ("sync_email_audiences", "sync_ad_audiences")
            for (key,) in con.execute(
                f"select distinct segment_key from {PUBLISHED_SCHEMA}.{table}"
            ).fetchall()
        }
    assert synced and not synced & {key for (key,) in small}
