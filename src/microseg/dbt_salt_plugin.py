"""dbt-duckdb plugin: the hash salt reaches DuckDB without passing through dbt.

profiles.yml loads it (`plugins: [{module: microseg.dbt_salt_plugin}]`). On every DuckDB
connection and cursor dbt-duckdb opens (one per thread, and the one its Python models get
as `session`), it sets the DuckDB variable `microseg_hash_salt` with a parameterised
statement. The SQL reads `getvariable('microseg_hash_salt')` (macros/privacy/hash_salt.sql),
so the salt is in no SQL text, log line or artifact dbt writes, and DuckDB variables are
never stored in the database file. The salt is MICROSEG_HASH_SALT, or else the dev salt the
microseg CLI keeps for this user (microseg.project.ensure_hash_salt); without either nothing
is set, and the run stops at its start (macro require_hash_salt) with what to do.

It also creates the database file's folder, so that a plain `dbt build` on a fresh clone
opens `build/microseg.duckdb` instead of failing in DuckDB, and says in one line when
another process holds the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from microseg.db import held_elsewhere

SALT_ENV = "MICROSEG_HASH_SALT"
VARIABLE = "microseg_hash_salt"


def dev_salt_path() -> Path:
    """This user's dev salt: `$XDG_CONFIG_HOME/microseg/hash_salt` (`~/.config/...`)."""
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or "~/.config").expanduser()
    if not config_home.is_absolute():  # the XDG spec: a relative value is ignored
        config_home = Path("~/.config").expanduser()
    return config_home / "microseg" / "hash_salt"


def current_salt() -> str | None:
    """MICROSEG_HASH_SALT, else the dev salt when this user has one (read each time)."""
    salt = os.environ.get(SALT_ENV)
    if salt:
        return salt
    path = dev_salt_path()
    return path.read_text().strip() or None if path.is_file() else None


def set_salt_variable(connection: Any) -> None:
    """`microseg_hash_salt` on this DuckDB connection (nothing when there is no salt)."""
    salt = current_salt()
    if salt:
        connection.execute(f"set variable {VARIABLE} = ?", [salt])


def _is_local_file(path: str) -> bool:
    return bool(path) and path != ":memory:" and ":" not in path.split("/")[0]


def _refuse_when_locked(path: str) -> None:
    """One line instead of dbt's traceback when another process holds the file: a BI tool
    or a DuckDB shell, even one that opened it read-only, keeps a build from writing."""
    if not Path(path).exists():
        return
    try:
        duckdb.connect(path).close()
    except duckdb.Error as error:  # anything else is dbt-duckdb's to report
        if said := held_elsewhere(path, error):
            raise RuntimeError(said) from None


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # Runs before dbt-duckdb opens the database: its folder (and the spill folder's)
        # must exist, or DuckDB refuses to create the file.
        paths = [getattr(self.creds, "path", "")]
        paths.append((getattr(self.creds, "config_options", None) or {}).get("temp_directory"))
        for path in paths:
            if isinstance(path, str) and _is_local_file(path):
                Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        if _is_local_file(paths[0]):
            _refuse_when_locked(paths[0])

    def configure_connection(self, conn: Any) -> None:
        set_salt_variable(conn)

    def configure_cursor(self, cursor: Any) -> None:
        # A DuckDB cursor is a connection of its own: variables are not inherited.
        set_salt_variable(cursor)
