"""The generator: deterministic for a seed, roughly the asked size, realistic in shape."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import Build
from microseg.archetypes import ARCHETYPES
from microseg.generate import GeneratorConfig, generate


def _difference(left: Path, right: Path) -> int:
    return (
        duckdb.connect()
        .execute(
            f"""
        select count(*) from (
            (select * from '{left}' except all select * from '{right}')
            union all
            (select * from '{right}' except all select * from '{left}')
        )
        """
        )
        .fetchone()[0]
    )


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(GeneratorConfig(events=8_000, seed=seed), tmp_path / name)
    for table in ("events", "customers", "consents"):
        same = _difference(tmp_path / "a" / f"{table}.parquet", tmp_path / "b" / f"{table}.parquet")
        other = _difference(
            tmp_path / "a" / f"{table}.parquet", tmp_path / "c" / f"{table}.parquet"
        )
        assert same == 0, table
        assert other > 0, table


@pytest.mark.parametrize("events", [5_000, 60_000])
def test_about_the_asked_number_of_events(tmp_path: Path, events: int) -> None:
    manifest = generate(GeneratorConfig(events=events, seed=1), tmp_path)
    assert abs(manifest["expected"]["events"]["raw_rows"] - events) < 0.1 * events


def test_every_archetype_is_present(demo_build: Build) -> None:
    present = demo_build.manifest["injected"]["archetypes"]
    assert set(present) == {a.name for a in ARCHETYPES}
    assert min(present.values()) >= 20


def test_behaviour_has_the_shape_of_real_traffic(demo_build: Build) -> None:
    events = f"'{demo_build.data_dir}/events.parquet'"
    shape = (
        duckdb.connect()
        .execute(
            f"""
        with humans as (
            select * from {events}
            where anonymous_id is not null and user_agent not ilike '%bot%'
                and occurred_at between timestamp '2020-01-01' and received_at
        ),
        per_device as (
            select anonymous_id, count(*) as n from humans group by 1
        ),
        ranked as (
            select n, ntile(10) over (order by n desc) as decile from per_device
        ),
        identified as (
            select anonymous_id, min(occurred_at) as first_identified_at
            from humans where user_id is not null group by 1
        )
        select
            (select sum(n) filter (where decile = 1) / sum(n) from ranked) as top_decile_share,
            (select count(*) from humans inner join identified using (anonymous_id)
                where humans.user_id is null
                and humans.occurred_at < identified.first_identified_at) as pre_login_events,
            (select count(*) from (select user_id from humans where user_id is not null
                group by 1 having count(distinct anonymous_id) > 1)) as multi_device_users,
            (select count(*) filter (where hour(occurred_at) between 18 and 21)
                / count(*) filter (where hour(occurred_at) between 2 and 5) from humans)
                as evening_to_night_ratio
        """
        )
        .fetchone()
    )
    top_decile_share, pre_login_events, multi_device_users, evening_to_night = shape
    assert top_decile_share > 0.3, "activity should be heavy-tailed"
    assert pre_login_events > 0, "anonymous browsing before login"
    assert multi_device_users > 0, "several devices per user"
    assert evening_to_night > 3, "daily rhythm"
    assert demo_build.manifest["injected"]["devices_shared_by_several_users"] > 0
