"""Checks the raw events file against the input contract before dbt starts.

The same rules run inside dbt (macros/staging/contract_events.sql), so a plain
`dbt build` and the warehouse stop too; here they come first, in words, with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

CONTRACT = [
    "event_id",
    "anonymous_id",
    "user_id",
    "event_type",
    "occurred_at",
    "received_at",
    "page_url",
    "page_category",
    "product_id",
    "product_category",
    "price",
    "quantity",
    "revenue",
    "currency",
    "discount_code",
    "search_query",
    "campaign_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "device_type",
    "user_agent",
    "country",
    "city",
]
REQUIRED = ("event_id", "event_type", "occurred_at")
UNUSABLE = ("BOOLEAN", "BLOB", "STRUCT", "MAP", "LIST", "UNION", "BIT")


@dataclass
class Preflight:
    problems: list[str] = field(default_factory=list)  # each stops the build
    notes: list[str] = field(default_factory=list)  # said, then the build goes on

    def lines(self) -> list[str]:
        return [f"preflight: {line}" for line in self.notes + self.problems]


def check_events(data_dir: Path) -> Preflight:
    """Required columns present and usable; optional and extra columns named."""
    result = Preflight()
    path = data_dir / "events.parquet"
    if not path.exists():
        result.problems.append(
            f"{path} is missing: put the events there (README, Input contract) "
            "or point --data-dir at the folder that has them"
        )
        return result
    con = duckdb.connect()
    try:
        described = con.execute(
            "select column_name, column_type from (describe select * from read_parquet(?))",
            [str(path)],
        ).fetchall()
    except duckdb.Error as unreadable:
        result.problems.append(f"{path} is not a readable Parquet file: {unreadable}")
        return result
    finally:
        con.close()
    types = {name.lower(): str(kind).upper() for name, kind in described}
    missing = [name for name in REQUIRED if name not in types]
    if "anonymous_id" not in types and "user_id" not in types:
        missing.append("anonymous_id or user_id")
    if missing:
        result.problems.append(
            f"events.parquet has no column {', '.join(missing)}: rename or add "
            "(required: event_id, event_type, occurred_at and anonymous_id or user_id), or "
            "choose --event-source segment, snowplow or ga4 for those trackers' tables"
        )
    for name in CONTRACT:
        kind = types.get(name, "")
        if kind.startswith(UNUSABLE) or kind.endswith("[]"):
            result.problems.append(
                f"column {name} is {kind}: the contract needs text, a number or a timestamp"
            )
    absent = [name for name in CONTRACT if name not in types and name not in REQUIRED]
    if absent:
        received = " (received_at taken from occurred_at)" if "received_at" in absent else ""
        result.notes.append(
            f"optional columns absent, null for every event: {', '.join(absent)}{received}"
        )
    extra = sorted(name for name in types if name not in CONTRACT)
    if extra:
        result.notes.append(
            f"ignoring {len(extra)} columns not in the input contract: {', '.join(extra)}"
        )
    return result
