"""DuckDB helpers shared by the modules that query a built database."""

from __future__ import annotations

from typing import Any

import duckdb


def one_row(
    con: duckdb.DuckDBPyConnection, query: str, parameters: object = None
) -> tuple[Any, ...]:
    """The single row of a query that always returns one (an aggregate, say)."""
    row = con.execute(query, parameters).fetchone()
    if row is None:
        raise LookupError(f"no row from: {' '.join(query.split())[:200]}")
    return row


def scalar(con: duckdb.DuckDBPyConnection, query: str, parameters: object = None) -> Any:
    """The first value of one_row."""
    return one_row(con, query, parameters)[0]
