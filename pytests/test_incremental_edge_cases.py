"""Hand-made batches for the incremental cases generated data rarely produces.

Each case arrives over several loads (raw tables only grow) and the incremental result
must equal a full refresh of the final data:
- a re-sent copy of an event with an absurd receipt time, followed by normal traffic;
- devices that turn out to be bots after their human-looking start (one by a burst of
  rejected events, one by a burst of valid ones);
- an earlier-received copy of an event that arrives after the later copy was loaded;
- two users logging in on one device at the same instant, after anonymous browsing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD, connect_built
from microseg.project import run_dbt
from test_incremental import COMPARED

AS_OF = "2024-01-10 00:00:00"
EVENT_COLUMNS = (
    "event_id varchar, anonymous_id varchar, user_id varchar, event_type varchar, "
    "occurred_at timestamp, received_at timestamp, page_url varchar, page_category varchar, "
    "product_id varchar, product_category varchar, price double, quantity integer, "
    "revenue double, currency varchar, discount_code varchar, search_query varchar, "
    "campaign_id varchar, utm_source varchar, utm_medium varchar, utm_campaign varchar, "
    "device_type varchar, user_agent varchar, country varchar, city varchar"
)
FIELDS = [column.split()[0] for column in EVENT_COLUMNS.split(", ")]


def event(event_id: str, device: str, at: datetime, received: datetime | None = None, **extra):
    row = dict.fromkeys(FIELDS)
    row.update(
        event_id=event_id,
        anonymous_id=device,
        event_type="page_view",
        occurred_at=at,
        received_at=received or at + timedelta(seconds=1),
        page_url="https://shop.example.com/home",
        user_agent="Mozilla/5.0",
    )
    row.update(extra)
    return row


def burst(prefix: str, device: str, at: datetime, event_type: str) -> list[dict]:
    return [
        event(f"{prefix}{n}", device, at + timedelta(seconds=n), event_type=event_type)
        for n in range(45)
    ]


day = lambda n, hour=10: datetime(2024, 1, n, hour)  # noqa: E731

BATCHES = [
    [
        event("f1", "dev-f", day(1)),
        event("q1", "dev-q", day(1, 9)),
        *[event(f"a{n}", "dev-a", day(n)) for n in range(1, 5)],
        event("s1", "dev-s", day(5), received=day(5) + timedelta(seconds=10), page_url="/a"),
        event("k0", "dev-k", day(5, 9)),
        event("k1", "dev-k", day(6), user_id="u1", event_type="login"),
        event("k2", "dev-k", day(6), user_id="u2", event_type="login"),
    ],
    [
        event("f1", "dev-f", day(1), received=datetime(2999, 1, 1)),
        event("n1", "dev-n", day(6, 12)),
        *burst("qq", "dev-q", day(6, 12), "debug_ping"),
        *burst("aa", "dev-a", day(6, 13), "page_view"),
        event("s1", "dev-s", day(5), received=day(5) + timedelta(seconds=5), page_url="/b"),
    ],
    [
        event("n2", "dev-n", day(7, 12)),
    ],
]


def _write(rows: list[dict], data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"create table events ({EVENT_COLUMNS})")
    con.executemany(
        f"insert into events values ({', '.join('?' for _ in FIELDS)})",
        [[row[field] for field in FIELDS] for row in rows],
    )
    con.execute(f"copy events to '{data_dir / 'events.parquet'}' (format parquet)")
    con.execute(
        f"copy (select 'u1' as user_id, 'u1@example.com' as email, "
        f"timestamp '2023-01-01' as signed_up_at, 'DE' as country, 1980 as birth_year, "
        f"'f' as gender, 'email' as preferred_channel, 'active' as subscription_status) "
        f"to '{data_dir / 'customers.parquet'}' (format parquet)"
    )
    con.execute(
        f"copy (select 'u1' as user_id, 'analytics' as purpose, true as is_granted, "
        f"timestamp '2023-01-01' as recorded_at, 'signup_form' as source) "
        f"to '{data_dir / 'consents.parquet'}' (format parquet)"
    )


def _build(data_dir: Path, db_path: Path, *, unit_tests: bool = False) -> None:
    # Unit tests do not depend on the data: only the module's first build runs them.
    args = ["build"] if unit_tests else BUILD
    result = run_dbt(args, data_dir=data_dir, db_path=db_path, as_of=AS_OF)
    assert result.success, result.failures


def _rows(db_path: Path, table: str) -> list[tuple]:
    with connect_built(db_path) as con:
        return sorted(con.execute(f"select * from {table}").fetchall(), key=repr)


@pytest.fixture(scope="module")
def edge_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("edge_cases")
    incremental_db = root / "incremental.duckdb"
    loaded: list[dict] = []
    for number, batch in enumerate(BATCHES, start=1):
        loaded += batch
        _write(loaded, root / f"batch_{number}")
        _build(root / f"batch_{number}", incremental_db, unit_tests=number == 1)
        if number == 2:
            before = {table: _rows(incremental_db, table) for table in COMPARED}
            _build(root / f"batch_{number}", incremental_db)
            assert before == {table: _rows(incremental_db, table) for table in COMPARED}
    full_db = root / "full.duckdb"
    _build(root / f"batch_{len(BATCHES)}", full_db)
    return {"incremental": incremental_db, "full": full_db}


@pytest.mark.parametrize("table", COMPARED)
def test_edge_cases_incremental_equals_full_refresh(edge_builds: dict, table: str) -> None:
    assert _rows(edge_builds["incremental"], table) == _rows(edge_builds["full"], table)


def test_edge_cases_come_out_as_documented(edge_builds: dict) -> None:
    with connect_built(edge_builds["incremental"]) as con:
        sessionized = dict(
            con.execute("select event_id, page_url from int_sessionized_events").fetchall()
        )
        persons = dict(
            con.execute(
                "select first_event_id, person_key from fct_sessions where anonymous_id = 'dev-k'"
            ).fetchall()
        )
    assert "n2" in sessionized, "traffic after a future-dated duplicate is still loaded"
    assert not {"q1", "a1", "a2", "a3", "a4"} & set(sessionized), "bot devices leave sessions"
    assert sessionized["s1"] == "/b", "the earlier-received copy wins"
    assert persons == {"k0": "user:u1", "k1": "user:u1", "k2": "user:u2"}
