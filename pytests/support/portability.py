"""DuckDB-only SQL constructs, so that SQL meant for every warehouse can be checked for them.

Warehouse differences belong in dispatched macros (`macros/cross_db/`); models, tests and
whatever the project compiles for Snowflake should contain none of these.
"""

from __future__ import annotations

import re

# name -> pattern; matched case-insensitively on SQL without comments and string literals.
DUCKDB_ONLY: dict[str, str] = {
    ":: cast": r"::",
    "-> / ->> json or lambda": r"->",
    "read_parquet / read_csv / read_json": r"\bread_(parquet|csv|csv_auto|json|json_auto)\s*\(",
    "list_* function": r"\blist_\w+\s*\(",
    "struct_* function": r"\bstruct_\w+\s*\(",
    "epoch_ms / epoch": r"\bepoch(_ms|_us|_ns)?\s*\(",
    "strftime / strptime": r"\bstr[fp]time\s*\(",
    "regexp_full_match / regexp_matches": r"\bregexp_(full_match|matches)\s*\(",
    "json_object / json_extract": r"\bjson_(object|extract\w*)\s*\(",
    "ignore nulls inside the call": r"\bignore\s+nulls\s*\)",
    # Snowflake's try_cast takes text only; safe_cast writes try_cast(to_varchar(...) as ...).
    "try_cast of a value not made text": r"\btry_cast\s*\((?!\s*to_varchar\s*\()",
    "date_diff / date_add / date_sub": r"\bdate_(diff|add|sub)\s*\(",
    "unnest / generate_series / range": r"\b(unnest|generate_series|range)\s*\(",
    "printf / format": r"\b(printf|format)\s*\(",
    "using sample": r"\busing\s+sample\b",
    "// integer division": r"//",
    "unsigned or huge integer type": r"\b(ubigint|uinteger|usmallint|utinyint|hugeint|uhugeint)\b",
}
_COMPILED = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in DUCKDB_ONLY.items()}

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_COMMENTS_AND_STRINGS = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\$\$.*?\$\$", re.DOTALL)


def strip_jinja(text: str) -> str:
    """The SQL a template writes itself: every `{{ }}`, `{% %}` and `{# #}` block removed."""
    return _JINJA.sub(" ", text)


def duckdb_only_constructs(sql: str) -> list[str]:
    """Names of the DuckDB-only constructs in `sql` (comments and string literals ignored)."""
    code = _COMMENTS_AND_STRINGS.sub(" ", sql)
    return [name for name, pattern in _COMPILED.items() if pattern.search(code)]
