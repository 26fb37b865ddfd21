"""The pipeline on real data nobody on the team wrote (skipped without ../shared)."""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD, connect_built, project_var, shared_csv
from microseg.project import run_dbt
from microseg.rules import catalogue_entries, segments_of
from support.datasets import CDNOW_VARS, RETAIL_VARS, cdnow_to_contract, online_retail_to_contract

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    csv_path = shared_csv("uci_online_retail_head50k.csv")
    root = tmp_path_factory.mktemp("retail")
    counts = online_retail_to_contract(csv_path, root / "data")
    result = run_dbt(
        BUILD,
        data_dir=root / "data",
        db_path=root / "retail.duckdb",
        as_of="2011-01-10 00:00:00",
        extra_vars=RETAIL_VARS,
    )
    assert result.success, result.failures
    return csv_path, root / "retail.duckdb", counts


def test_retail_slice_reconciles_and_sessionizes(retail: tuple[Path, Path, dict[str, int]]) -> None:
    csv_path, db_path, counts = retail
    with connect_built(db_path) as con:
        staged = dict(
            con.execute(
                "select row_status, count(*) from base_tracking__events group by 1"
            ).fetchall()
        )
        reasons = dict(
            con.execute(
                "select quarantine_reason, count(*) from stg_tracking__events_quarantined "
                "group by 1"
            ).fetchall()
        )
        customers = con.execute("select count(*) from stg_crm__customers").fetchone()[0]
        # All lines of an invoice share one timestamp: each invoice is one session.
        sessions, invoices = con.execute(
            "select (select count(*) from fct_sessions), "
            "(select count(distinct anonymous_id) from stg_tracking__events)"
        ).fetchone()

    # The same rules, computed independently from the CSV.
    max_quantity = project_var("microseg__max_event_quantity")
    max_revenue = project_var("microseg__max_event_revenue")
    expected = (
        duckdb.connect()
        .execute(
            f"""
        with lines as (
            select
                InvoiceNo || ':' || StockCode || ':' || Quantity || ':' || UnitPrice as event_id,
                Quantity::integer as quantity, UnitPrice::double as price
            from read_csv('{csv_path}', header = true, all_varchar = true)
        ),
        events as (select distinct event_id, quantity, price from lines)
        select
            (select count(*) from lines) as raw_rows,
            (select count(*) from lines) - (select count(*) from events) as duplicates,
            (select count(*) from events
                where quantity * price < 0 or quantity * price > {max_revenue} or price < 0)
                as bad_revenue,
            (select count(*) from events
                where (quantity <= 0 or quantity > {max_quantity})
                and quantity * price between 0 and {max_revenue}
                and price >= 0) as bad_quantity,
            (select count(*) from events where event_id like 'C%') as cancellations
        """
        )
        .fetchone()
    )
    raw_rows, duplicates, bad_revenue, bad_quantity, cancellations = expected

    assert raw_rows == counts["events"] == 49_999
    assert sum(staged.values()) == raw_rows
    assert staged["duplicate"] == duplicates
    assert reasons.get("invalid_revenue", 0) == bad_revenue
    assert reasons.get("invalid_quantity", 0) == bad_quantity
    assert staged["clean"] == raw_rows - duplicates - bad_revenue - bad_quantity
    assert 0 < cancellations <= bad_revenue, "cancellations are quarantined as invalid_revenue"
    assert customers == counts["customers"] == 1_039
    assert sessions == invoices > 0


def _quintile(values: dict[str, object], higher_is_better: bool = True) -> dict[str, int]:
    """1 + floor(5 * (2 * customers strictly worse + customers tied) / (2 * customers)):
    a tied block scores its middle position."""
    ordered = sorted(values.values())
    count = len(ordered)
    scores = {}
    for key, value in values.items():
        below, above = bisect.bisect_left(ordered, value), bisect.bisect_right(ordered, value)
        worse = below if higher_is_better else count - above
        scores[key] = 1 + (5 * (2 * worse + above - below)) // (2 * count)
    return scores


def test_cdnow_rfm_scores_match_an_independent_computation(tmp_path: Path) -> None:
    csv_path = shared_csv("cdnow_master.csv")
    counts = cdnow_to_contract(csv_path, tmp_path / "data")
    as_of = "1998-06-30 23:59:59"
    result = run_dbt(
        BUILD,
        data_dir=tmp_path / "data",
        db_path=tmp_path / "cdnow.duckdb",
        as_of=as_of,
        extra_vars=CDNOW_VARS,
    )
    assert result.success, result.failures

    # Plain Python from the CSV: orders, revenue and days since the last order per customer.
    orders: dict[str, int] = defaultdict(int)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    last_day: dict[str, date] = {}
    with csv_path.open() as lines:
        for line in csv.DictReader(lines):
            customer = line["customer_id"]
            day = datetime.strptime(line["date"], "%Y%m%d").date()
            orders[customer] += 1
            revenue[customer] += Decimal(line["dollar_value"])
            last_day[customer] = max(day, last_day.get(customer, day))
    recency = {customer: (date(1998, 6, 30) - day).days for customer, day in last_day.items()}
    # A purchase within the recent-buyer window floors the recency score.
    recent_days, recent_score = (
        project_var("microseg__recent_buyer_days"),
        project_var("microseg__recent_buyer_recency_score"),
    )
    expected = {
        f"user:{customer}": (r, f, m)
        for customer, r, f, m in zip(
            orders,
            [
                max(score, recent_score) if recency[customer] <= recent_days else score
                for customer, score in _quintile(recency, higher_is_better=False).items()
            ],
            _quintile(dict(orders)).values(),
            _quintile(dict(revenue)).values(),
            strict=True,
        )
    }

    with connect_built(tmp_path / "cdnow.duckdb") as con:
        rows = con.execute(
            "select person_key, recency_score, frequency_score, monetary_score, purchases, "
            "monetary_value from dim_persons where purchases > 0"
        ).fetchall()
        classes = dict(
            con.execute("select rfm_class, count(*) from dim_persons group by 1").fetchall()
        )
    actual = {key: (r, f, m) for key, r, f, m, _, _ in rows}

    assert counts["events"] == 69_659
    assert len(actual) == 23_570
    assert sum(row[4] for row in rows) == 69_659
    assert sum(row[5] for row in rows) == sum(revenue.values())
    mismatches = [key for key in expected if actual.get(key) != expected[key]]
    assert not mismatches, f"{len(mismatches)} differ, e.g. {mismatches[:3]}"
    # Half of CDNOW's customers bought once: one tied block at the bottom, scored at its
    # middle (the 25th percentile), F = 2 for all of them.
    single = [row for row in rows if row[4] == 1]
    assert len(single) > len(rows) / 3
    assert {row[2] for row in single} == {2}
    # CDNOW is one acquisition cohort (Q1 1997): whoever bought recently had mostly bought
    # before, so new customers are few; every class is populated.
    known = {rfm["rfm_class"] for rfm in segments_of(catalogue_entries({}), "rfm")}
    assert set(classes) == known
    assert classes["new_customers"] < classes["potential_loyalists"] / 10
