"""Warehouse-specific SQL lives only in dispatched macros.

Models and data tests run on DuckDB and Snowflake alike, so the SQL they write themselves
(Jinja removed) must hold no DuckDB-only construct (`support.portability.DUCKDB_ONLY`). In
macros such SQL may only sit in a `duckdb__` variant, or in a `default__` one that Snowflake
never uses because a `snowflake__` variant exists. What Snowflake actually receives is
checked on the compiled SQL in `test_snowflake_emulated.py`.
"""

from __future__ import annotations

import re

import pytest

from microseg.project import project_dir
from support.portability import duckdb_only_constructs, strip_jinja

ROOT = project_dir()
SQL_FILES = sorted(
    path.relative_to(ROOT).as_posix()
    for folder in ("models", "tests", "analyses")
    for path in (ROOT / folder).rglob("*.sql")
)
MACRO = re.compile(
    r"\{%-?\s*macro\s+(\w+)\s*\(.*?\)\s*-?%\}(.*?)\{%-?\s*endmacro\s*-?%\}", re.DOTALL
)


def _macros() -> dict[str, str]:
    return {
        name: body
        for path in sorted((ROOT / "macros").rglob("*.sql"))
        for name, body in MACRO.findall(path.read_text())
    }


def _only_for_duckdb(name: str, macros: dict[str, str]) -> bool:
    """Snowflake never runs this macro: a DuckDB variant, or a default Snowflake overrides."""
    if name.startswith("duckdb__"):
        return True
    return name.startswith("default__") and f"snowflake__{name.removeprefix('default__')}" in macros


@pytest.mark.parametrize("path", SQL_FILES)
def test_sql_files_hold_no_duckdb_only_construct(path: str) -> None:
    assert duckdb_only_constructs(strip_jinja((ROOT / path).read_text())) == []


def test_macros_keep_duckdb_only_constructs_in_dispatched_variants() -> None:
    macros = _macros()
    assert "snowflake__safe_cast" in macros, "no macros found"
    misplaced = {
        name: found
        for name, body in macros.items()
        if not _only_for_duckdb(name, macros)
        and (found := duckdb_only_constructs(strip_jinja(body)))
    }
    assert misplaced == {}


def test_the_check_finds_duckdb_only_constructs() -> None:
    sql = """
        select
            raw_value::int as number,  -- a comment with :: is fine
            payload->>'key' as value,
            list_value(1, 2) as items,
            last_value(x ignore nulls) over (order by y) as last_x,
            try_cast(raw_value as int) as attempt,
            '::' as text
        from read_parquet('events.parquet')
    """
    assert duckdb_only_constructs(sql) == [
        ":: cast",
        "-> / ->> json or lambda",
        "read_parquet / read_csv / read_json",
        "list_* function",
        "ignore nulls inside the call",
        "try_cast of a value not made text",
    ]
    assert duckdb_only_constructs("select try_cast(to_varchar(x) as int), 'a // b'") == []
