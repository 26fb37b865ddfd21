"""Helpers shared by the modules that query a built warehouse (a DuckDB connection or a
microseg.warehouse.Warehouse)."""

from __future__ import annotations

import re
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


def held_elsewhere(path: str, error: Exception) -> str | None:
    """What to say when DuckDB could not lock `path` because another process has it open
    (a BI tool or a DuckDB shell, even read-only, keeps a build from writing); else None."""
    held = re.search(r"Conflicting lock is held in (.*?\(PID \d+\))", str(error))
    if not held:
        return None
    return (
        f"{path} is open in another process ({held.group(1)}): close it there, then try "
        "again; BI tools should read a copy, or connect only between builds (docs/dbt.md)"
    )
