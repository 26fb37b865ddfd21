"""Helpers shared by the modules that query a built warehouse (a DuckDB connection or a
microseg.warehouse.Warehouse)."""

from __future__ import annotations

from typing import Any


def one_row(con: Any, query: str, parameters: object = None) -> tuple[Any, ...]:
    """The single row of a query that always returns one (an aggregate, say)."""
    row = con.execute(query, parameters).fetchone()
    if row is None:
        raise LookupError(f"no row from: {' '.join(query.split())[:200]}")
    return tuple(row)


def scalar(con: Any, query: str, parameters: object = None) -> Any:
    """The first value of one_row."""
    return one_row(con, query, parameters)[0]
