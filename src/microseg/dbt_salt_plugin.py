"""dbt-duckdb plugin: the hash salt reaches DuckDB without passing through dbt.

profiles.yml loads it (`plugins: [{module: microseg.dbt_salt_plugin}]`). On every DuckDB
connection and cursor dbt-duckdb opens (one per thread, and the one its Python models get
as `session`), it sets the DuckDB variable `microseg_hash_salt` from MICROSEG_HASH_SALT with
a parameterised statement. The SQL reads `getvariable('microseg_hash_salt')`
(macros/privacy/hash_salt.sql), so the salt is in no SQL text, log line or artifact dbt
writes, and DuckDB variables are never stored in the database file. Without the variable
nothing is set, and the models that need the salt fail with the guard's message.
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

SALT_ENV = "MICROSEG_HASH_SALT"
VARIABLE = "microseg_hash_salt"


def set_salt_variable(connection: Any) -> None:
    """`microseg_hash_salt` on this DuckDB connection, from the environment (read each time)."""
    salt = os.environ.get(SALT_ENV)
    if salt:
        connection.execute(f"set variable {VARIABLE} = ?", [salt])


class Plugin(BasePlugin):
    def configure_connection(self, conn: Any) -> None:
        set_salt_variable(conn)

    def configure_cursor(self, cursor: Any) -> None:
        # A DuckDB cursor is a connection of its own: variables are not inherited.
        set_salt_variable(cursor)
