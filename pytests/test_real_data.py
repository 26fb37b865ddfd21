"""Staging on real, dirty retail data nobody on the team wrote (skipped without ../shared)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import connect_built, project_var, shared_csv
from microseg.datasets import RETAIL_VARS, online_retail_to_contract
from microseg.project import run_dbt

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    csv_path = shared_csv("uci_online_retail_head50k.csv")
    root = tmp_path_factory.mktemp("retail")
    counts = online_retail_to_contract(csv_path, root / "data")
    result = run_dbt(
        ["build"],
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
