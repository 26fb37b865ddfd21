"""Shapes of data the generator never writes, end to end through the CLI.

Each test builds, validates and publishes one shape with `microseg` as a user would and
checks that the run ends clearly (a result or one message saying what to do), never with
a traceback, and that the data came through right.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import connect_built
from microseg import preflight
from microseg.cli import main
from microseg.generate import GeneratorConfig, generate
from microseg.project import project_dir

WINDOW_START = datetime(2019, 10, 1, 9, 0)  # the shifted 3-hour window's first hour, UTC


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated shop over three days; shapes are cut from its files."""
    folder = tmp_path_factory.mktemp("foreign") / "shop"
    generate(GeneratorConfig(events=15_000, seed=11, days=3), folder)
    return folder


def write_events(shop: Path, target: Path, select: str, crm: bool = True) -> Path:
    """`target`/events.parquet from a query over the shop's events (as `events`)."""
    target.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"create view events as select * from read_parquet('{shop / 'events.parquet'}')")
    con.execute(f"copy ({select}) to '{target / 'events.parquet'}' (format parquet)")
    con.close()
    if crm:
        for table in ("customers", "consents"):
            (target / f"{table}.parquet").write_bytes((shop / f"{table}.parquet").read_bytes())
    return target


def run(capsys: pytest.CaptureFixture[str], command: str, data_dir: Path) -> tuple[int, str]:
    """One CLI command on the shape's folder; its exit code and what it printed.

    Builds leave out dbt's unit tests (the shared demo build runs them); such a build is
    validated and published like any complete one."""
    db = data_dir.parent / "microseg.duckdb"
    lean = ["--skip-unit-tests"] if command == "build" else []
    code = main([command, "--data-dir", str(data_dir), "--db", str(db), *lean])
    out = capsys.readouterr().out
    assert "Traceback" not in out, out
    return code, out


def build_validate_publish(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> dict[str, tuple[int, str]]:
    outcome = {"build": run(capsys, "build", data_dir)}
    if outcome["build"][0] == 0:
        outcome["validate"] = run(capsys, "validate", data_dir)
        outcome["publish"] = run(capsys, "publish", data_dir)
    return outcome


def window_2019(columns: str = "*") -> str:
    """The shop's busiest 3 hours, moved to 2019-10-01 09:00-12:00 UTC."""
    return f"""
        with hours as (
            select date_trunc('hour', occurred_at) as hour, count(*) as n
            from events where occurred_at is not null group by 1 order by n desc, 1 limit 1
        ),
        shifted as (
            select * replace (
                occurred_at - (select hour from hours) + timestamp '{WINDOW_START}' as occurred_at,
                received_at - (select hour from hours) + timestamp '{WINDOW_START}' as received_at
            )
            from events
            where occurred_at >= (select hour from hours)
                and occurred_at < (select hour from hours) + interval 3 hour
        )
        select {columns} from shifted
    """


def clean_events(data_dir: Path, query: str) -> list[tuple]:
    with connect_built(data_dir.parent / "microseg.duckdb") as con:
        return con.execute(query).fetchall()


def test_zero_events_stop_with_one_clear_message(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = write_events(shop, tmp_path / "data", "select * from events where false")
    outcome = build_validate_publish(capsys, data_dir)
    code, out = outcome["build"]
    assert code == 0, out
    assert "no clean events, so the time of the build" in out
    code, out = outcome["validate"]
    assert code == 1 and "table is empty" in out, out
    code, out = outcome["publish"]
    assert code == 1 and "NOT published" in out, out


def test_no_crm_and_no_consents(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = write_events(shop, tmp_path / "data", "select * from events", crm=False)
    outcome = build_validate_publish(capsys, data_dir)
    assert outcome["build"][0] == 0, outcome["build"][1]
    assert outcome["validate"][0] == 0, outcome["validate"][1]
    assert outcome["publish"][0] == 0, outcome["publish"][1]
    # Without consent records nobody may be e-mailed or targeted (consent fails closed).
    with connect_built(data_dir.parent / "microseg.duckdb") as con:
        assert con.execute("select count(*) from sync_email_audiences").fetchone()[0] == 0
        assert con.execute("select count(*) from sync_ad_audiences").fetchone()[0] == 0
        assert con.execute("select count(*) from dim_persons").fetchone()[0] > 0


def test_a_three_hour_window_in_2019(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = write_events(shop, tmp_path / "data", window_2019(), crm=False)
    outcome = build_validate_publish(capsys, data_dir)
    code, out = outcome["build"]
    assert code == 0, out
    clock = clean_events(
        data_dir, "select max(received_at) from base_tracking__events where row_status = 'clean'"
    )[0][0]
    assert WINDOW_START < clock < WINDOW_START + timedelta(hours=4)  # late receipts: minutes
    assert f"clock: {clock}" in out and "latest clean receipt" in out
    (features_clock,) = clean_events(data_dir, "select max(features_as_of) from dim_persons")[0]
    assert features_clock == clock
    # Everyone was seen within the last hours of the clock, not thousands of days ago.
    (oldest,) = clean_events(data_dir, "select max(days_since_last_seen) from dim_persons")[0]
    assert oldest == 0
    assert outcome["validate"][0] == 0, outcome["validate"][1]
    assert outcome["publish"][0] == 0, outcome["publish"][1]


def test_only_the_required_columns_with_offsets_and_dirty_ids(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text timestamps with a +02:00 offset, ids with tabs and newlines, nothing optional."""
    data_dir = write_events(
        shop,
        tmp_path / "data",
        """
        select
            event_id || chr(9) as event_id,
            chr(10) || anonymous_id || ' ' as anonymous_id,
            event_type,
            strftime(occurred_at + interval 2 hour, '%Y-%m-%dT%H:%M:%S.%g') || '+02:00'
                as occurred_at
        from events
        """,
    )
    code, out = run(capsys, "build", data_dir)
    assert code == 0, out
    assert "optional columns absent" in out and "received_at taken from occurred_at" in out
    shop_events = f"read_parquet('{shop / 'events.parquet'}')"
    wrong = clean_events(
        data_dir,
        f"""
        select count(*) from stg_tracking__events as staged
        where not exists (
            select 1 from {shop_events} as truth
            where truth.event_id = staged.event_id and truth.occurred_at = staged.occurred_at
        )
        """,
    )[0][0]
    assert wrong == 0, "occurred_at must be the UTC time the offset stands for"
    staged_devices, raw_devices = clean_events(
        data_dir,
        f"""
        select
            (select count(distinct anonymous_id) from stg_tracking__events),
            (select count(distinct trim(anonymous_id)) from {shop_events}
             where event_id in (select event_id from stg_tracking__events))
        """,
    )[0]
    assert staged_devices == raw_devices  # no phantom persons from whitespace
    assert (
        clean_events(
            data_dir,
            "select count(*) from stg_tracking__events where received_at != occurred_at",
        )[0][0]
        == 0
    )


def test_epoch_timestamps(shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """occurred_at in epoch seconds (an integer), received_at in epoch milliseconds."""
    data_dir = write_events(
        shop,
        tmp_path / "data",
        """
        select * replace (
            floor(epoch(occurred_at))::bigint as occurred_at,
            epoch_ms(received_at) as received_at
        )
        from events
        """,
    )
    code, out = run(capsys, "build", data_dir)
    assert code == 0, out
    shop_events = f"read_parquet('{shop / 'events.parquet'}')"
    wrong = clean_events(
        data_dir,
        f"""
        select count(*) from stg_tracking__events as staged
        where not exists (
            select 1 from {shop_events} as truth
            where truth.event_id = staged.event_id
                and date_trunc('second', truth.occurred_at) = staged.occurred_at
                and date_trunc('millisecond', truth.received_at) = staged.received_at
        )
        """,
    )[0][0]
    assert wrong == 0
    assert clean_events(data_dir, "select count(*) from stg_tracking__events")[0][0] > 12_000


def test_foreign_event_names_are_loud(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = write_events(
        shop,
        tmp_path / "data",
        """
        select * replace (
            case event_type
                when 'page_view' then 'view' when 'product_view' then 'detail'
                when 'add_to_cart' then 'cart' else event_type
            end as event_type
        )
        from events
        """,
    )
    outcome = build_validate_publish(capsys, data_dir)
    code, out = outcome["build"]
    assert code == 0, out
    summary = out.split("unknown event names", 1)[1]
    for name in ("view", "detail", "cart"):
        assert f"\n  {name} " in summary, summary
    assert "seeds/event_type_mapping.csv" in summary
    code, out = outcome["validate"]
    assert code == 1 and "min_clean_share" in out and "view" in out, out
    assert outcome["publish"][0] == 1


def test_the_preflight_checks_the_contract_dbt_checks() -> None:
    """preflight.py restates the contract of macros/staging/raw_columns.sql: they agree."""
    macros = (project_dir() / "macros" / "staging" / "raw_columns.sql").read_text()
    events = macros.split("'events': [", 1)[1].split("],", 1)[0]
    assert re.findall(r"\('(\w+)',", events) == preflight.CONTRACT
    required = macros.split("macro required_event_columns", 1)[1].split("endmacro", 1)[0]
    assert list(preflight.REQUIRED) == re.findall(r"'(\w+)'", required)
