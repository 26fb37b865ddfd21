"""Public datasets mapped into microseg's input contract.

UCI Online Retail (one line per invoice line) becomes purchase events:
- event_id: InvoiceNo:StockCode:Quantity:UnitPrice, so a line repeated verbatim in
  the export is the same event sent twice (staging counts it as a duplicate);
- anonymous_id: `invoice-<InvoiceNo>` (the shop had no cookies; an invoice is the
  only device-like key guests have); user_id: CustomerID, null for guest checkouts;
- occurred_at = received_at = InvoiceDate (read as UTC); revenue = Quantity * UnitPrice
  in GBP. Cancellations (InvoiceNo `C…`) carry negative quantities, hence negative
  revenue, and are quarantined as `invalid_revenue`; zero-priced stock write-offs with
  negative quantities are quarantined as `invalid_quantity`;
- customers: one row per CustomerID with its first invoice as sign-up and no e-mail;
  consents: none (an empty table with the contract's columns).
Builds on it use RETAIL_VARS: the data starts in December 2010, and an invoice's
lines share one timestamp, so the events-per-minute bot rule must not apply.

CDNOW (one line per customer and purchase day) becomes purchase events too: each line is
one order (lines repeated verbatim are separate orders in the RFM literature, so the
line number is part of event_id); occurred_at is noon of the day plus the line's rank
within the customer's day in seconds; anonymous_id `cdnow-<customer_id>`; revenue =
dollar_value in USD, quantity = number_of_cds. Builds use CDNOW_VARS.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

RETAIL_VARS = {
    "microseg__data_start_date": "2010-01-01",
    "microseg__bot_max_events_per_minute": 1_000_000,
}
CDNOW_VARS = {
    "microseg__data_start_date": "1997-01-01",
    "microseg__bot_max_events_per_minute": 1_000_000,
}
# Contract columns that purchase-only datasets do not have.
NO_WEB_CONTEXT = ", ".join(
    f"null::varchar as {column}"
    for column in (
        "discount_code", "search_query", "campaign_id", "utm_source", "utm_medium",
        "utm_campaign", "device_type", "user_agent",
    )
)  # fmt: skip
NO_DEMOGRAPHICS = (
    "null::integer as birth_year, null::varchar as gender, "
    "null::varchar as preferred_channel, null::varchar as subscription_status"
)
EMPTY_CONSENTS = """
    select
        null::varchar as user_id, null::varchar as purpose, null::boolean as is_granted,
        null::timestamp as recorded_at, null::varchar as source
    where false
"""


def online_retail_to_contract(csv_path: Path, out_dir: Path) -> dict[str, int]:
    """Write events, customers and consents Parquet files; return raw row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"""
        create view lines as
        select *
        from read_csv('{csv_path}', header = true, all_varchar = true)
        """
    )
    con.execute(
        f"""
        copy (
            select
                InvoiceNo || ':' || StockCode || ':' || Quantity || ':' || UnitPrice as event_id,
                'invoice-' || InvoiceNo as anonymous_id,
                nullif(split_part(CustomerID, '.', 1), '') as user_id,
                'Order Completed' as event_type,
                strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S') as occurred_at,
                strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S') as received_at,
                null::varchar as page_url, 'checkout' as page_category,
                StockCode as product_id, null::varchar as product_category,
                UnitPrice::double as price, Quantity::integer as quantity,
                round(Quantity::integer * UnitPrice::double, 2) as revenue,
                'GBP' as currency, {NO_WEB_CONTEXT}, Country as country, null::varchar as city
            from lines
        ) to '{out_dir / "events.parquet"}' (format parquet)
        """
    )
    con.execute(
        f"""
        copy (
            select
                split_part(CustomerID, '.', 1) as user_id,
                null::varchar as email,
                min(strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S')) as signed_up_at,
                any_value(Country) as country,
                {NO_DEMOGRAPHICS}
            from lines
            where nullif(CustomerID, '') is not null
            group by 1
        ) to '{out_dir / "customers.parquet"}' (format parquet)
        """
    )
    return _finish(con, out_dir)


def cdnow_to_contract(csv_path: Path, out_dir: Path) -> dict[str, int]:
    """Write CDNOW as events, customers and (empty) consents Parquet; return raw row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"""
        create view lines as
        select
            *,
            row_number() over (order by customer_id, date, number_of_cds, dollar_value)
                as line_no,
            strptime(date, '%Y%m%d') + interval 12 hour
                + to_seconds(
                    row_number() over (
                        partition by customer_id, date order by number_of_cds, dollar_value
                    ) - 1
                ) as purchased_at
        from read_csv('{csv_path}', header = true, all_varchar = true)
        """
    )
    con.execute(
        f"""
        copy (
            select
                'cdnow:' || line_no as event_id,
                'cdnow-' || customer_id as anonymous_id,
                customer_id as user_id,
                'purchase' as event_type,
                purchased_at as occurred_at,
                purchased_at as received_at,
                null::varchar as page_url, 'checkout' as page_category,
                null::varchar as product_id, null::varchar as product_category,
                dollar_value::double / nullif(number_of_cds::integer, 0) as price,
                number_of_cds::integer as quantity,
                dollar_value::decimal(18, 2) as revenue,
                'USD' as currency, {NO_WEB_CONTEXT}, 'US' as country, null::varchar as city
            from lines
        ) to '{out_dir / "events.parquet"}' (format parquet)
        """
    )
    con.execute(
        f"""
        copy (
            select
                customer_id as user_id, null::varchar as email,
                min(purchased_at) as signed_up_at, 'US' as country,
                {NO_DEMOGRAPHICS}
            from lines
            group by 1
        ) to '{out_dir / "customers.parquet"}' (format parquet)
        """
    )
    return _finish(con, out_dir)


def _finish(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict[str, int]:
    """Write the empty consents table, close, and count what was written."""
    con.execute(f"copy ({EMPTY_CONSENTS}) to '{out_dir / 'consents.parquet'}' (format parquet)")
    counts = {
        table: con.execute(f"select count(*) from '{out_dir / table}.parquet'").fetchone()[0]
        for table in ("events", "customers", "consents")
    }
    con.close()
    return counts
