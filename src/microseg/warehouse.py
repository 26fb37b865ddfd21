"""The warehouse a dbt target names, for the commands that run after dbt (train, validate,
publish, export, summary): its schemas and one connection to it.

Targets are those of profiles.yml: `dev` (the DuckDB file, the default), `snowflake`
(credentials from the same environment variables profiles.yml reads, nothing else) and
`fakesnow` (Snowflake emulated in-process, for the tests only: it refuses to connect unless
fakesnow has replaced the Snowflake connector). The connection mimics a DuckDB one
(`execute(sql, parameters)` then `fetchone`, `fetchall`, `description`), with `?`
placeholders on every warehouse.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from microseg.db import held_elsewhere
from microseg.dbt_project import build_dir

TARGETS = ("dev", "snowflake", "fakesnow")
# The emulator's database and schema (profiles.yml, target fakesnow).
EMULATED_DATABASE = "microseg"


def _database_errors() -> tuple[type[Exception], ...]:
    import duckdb

    errors: list[type[Exception]] = [duckdb.Error]
    try:
        with warnings.catch_warnings():
            # Its vendored requests warns of urllib3 and chardet releases newer than it knows.
            warnings.filterwarnings("ignore", message=r"urllib3 .* doesn't match a supported")
            from snowflake.connector.errors import Error as SnowflakeError

        errors.append(SnowflakeError)
    except ImportError:  # the connector is optional for DuckDB users
        pass
    return tuple(errors)


# What a query can raise on any warehouse (a missing table, a type error, ...).
DB_ERRORS = _database_errors()


class WarehouseError(Exception):
    """A target cannot be connected to; the message says what to set."""


@dataclass(frozen=True)
class Target:
    name: str  # a profiles.yml output
    db_path: Path | None = None  # the DuckDB file of `dev`
    folder: Path | None = None  # where its files go, when not beside the DuckDB file

    @property
    def kind(self) -> Literal["duckdb", "snowflake"]:
        return "duckdb" if self.name == "dev" else "snowflake"

    @property
    def schema(self) -> str:
        """target.schema: every schema dbt writes is `<schema>_<layer>`."""
        if self.name == "dev":
            return "main"
        if self.name == "fakesnow":
            return EMULATED_DATABASE
        return os.environ.get("SNOWFLAKE_SCHEMA", "microseg").lower()

    def layer(self, name: str) -> str:
        """The schema of a layer: marts (the audit area), published, ledger, ml."""
        return f"{self.schema}_{name}"

    @property
    def work_dir(self) -> Path:
        """Where dbt's target folder, the gate's files and reports go for this target."""
        if self.folder is not None:
            return self.folder
        if self.db_path is not None:
            return self.db_path.resolve().parent
        return build_dir() / self.name

    @property
    def label(self) -> str:
        if self.db_path is not None:
            return f"DuckDB file {self.db_path}"
        database = (
            EMULATED_DATABASE
            if self.name == "fakesnow"
            else os.environ.get("SNOWFLAKE_DATABASE", "?")
        )
        return f"{self.name} database {database}"


def target(name: str | None, db_path: Path | None = None) -> Target:
    """The target of a command: `--target`, else MICROSEG_TARGET, else dev (DuckDB)."""
    chosen = name or os.environ.get("MICROSEG_TARGET") or "dev"
    if chosen not in TARGETS:
        raise WarehouseError(f"unknown target {chosen!r}: choose one of {', '.join(TARGETS)}")
    if chosen == "dev":
        return Target("dev", (db_path or build_dir() / "microseg.duckdb").resolve())
    return Target(chosen)


class Warehouse:
    """One connection; `execute` returns what `fetchone`, `fetchall` and `description` read."""

    def __init__(self, target: Target, connection: Any) -> None:
        self.target = target
        self._connection = connection
        self._cursor = connection if target.kind == "duckdb" else connection.cursor()

    @property
    def dialect(self) -> str:
        return self.target.kind

    def execute(self, sql: str, parameters: Any = None) -> Any:
        if self.dialect == "duckdb":
            return self._connection.execute(sql, parameters)
        if parameters:
            # The connector binds pyformat (%s) client-side, escaping each value.
            sql = sql.replace("%", "%%").replace("?", "%s")
            return self._cursor.execute(sql, list(parameters))
        return self._cursor.execute(sql)

    def frame(self, sql: str, parameters: Any = None) -> pd.DataFrame:
        """A query's rows as pandas, column names in lowercase."""
        result = self.execute(sql, parameters)
        frame = result.df() if self.dialect == "duckdb" else result.fetch_pandas_all()
        frame.columns = [str(column).lower() for column in frame.columns]
        for column in frame.select_dtypes(include="object").columns:
            values = frame[column].dropna()
            if len(values) and isinstance(values.iloc[0], Decimal):
                # Fixed-point numbers as floats, as DuckDB's and the connector's frames give them.
                frame[column] = frame[column].astype(float)
        return frame

    def columns(self, relation: str) -> list[str]:
        description = self.execute(f"select * from {relation} limit 0").description
        return [str(column[0]).lower() for column in description]

    def has_table(self, schema: str, table: str) -> bool:
        row = self.execute(
            "select count(*) from information_schema.tables "
            "where lower(table_schema) = lower(?) and lower(table_name) = lower(?)",
            [schema, table],
        ).fetchone()
        return bool(row and row[0])

    def has_schema(self, schema: str) -> bool:
        row = self.execute(
            "select count(*) from information_schema.schemata where lower(schema_name) = lower(?)",
            [schema],
        ).fetchone()
        return bool(row and row[0])

    def row_digest(self, relation: str) -> str:
        """count(*) and an order-free digest of every row's content, as one query."""
        if self.dialect == "duckdb":
            return f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {relation} as t"
        columns = ", ".join(self.columns(relation))
        return f"select count(*), coalesce(sum(hash({columns})), 0) from {relation}"

    def begin(self) -> None:
        self.execute("begin")

    def commit(self) -> None:
        self.execute("commit")

    def rollback(self) -> None:
        self.execute("rollback")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def connect(target: Target, read_only: bool = False) -> Warehouse:
    """A connection to the target's warehouse (read_only applies to DuckDB)."""
    if target.kind == "duckdb":
        import duckdb

        assert target.db_path is not None
        if read_only and not target.db_path.exists():
            raise WarehouseError(f"{target.db_path} does not exist: run `microseg build` first")
        try:
            return Warehouse(target, duckdb.connect(str(target.db_path), read_only=read_only))
        except duckdb.IOException as error:
            if said := held_elsewhere(str(target.db_path), error):
                raise WarehouseError(said) from None
            raise
    import snowflake.connector

    if target.name == "fakesnow":
        from unittest import mock

        if not isinstance(snowflake.connector.connect, mock.Mock):
            raise WarehouseError(
                "the fakesnow target is Snowflake emulated for the tests only: use "
                "--target snowflake for your account"
            )
        return Warehouse(
            target, snowflake.connector.connect(database=EMULATED_DATABASE, schema=target.schema)
        )
    return Warehouse(target, snowflake.connector.connect(**snowflake_credentials()))


# profiles.yml's snowflake output reads these; so does every connection made here.
REQUIRED_SNOWFLAKE_ENV = (
    "SNOWFLAKE_ACCOUNT",
    "SNOWFLAKE_USER",
    "SNOWFLAKE_ROLE",
    "SNOWFLAKE_WAREHOUSE",
    "SNOWFLAKE_DATABASE",
)


def snowflake_credentials() -> dict[str, Any]:
    """Connector arguments from the environment, as profiles.yml's snowflake output."""
    missing = [name for name in REQUIRED_SNOWFLAKE_ENV if not os.environ.get(name)]
    if missing:
        raise WarehouseError(f"set {', '.join(missing)} to use the snowflake target")
    credentials: dict[str, Any] = {
        "account": os.environ["SNOWFLAKE_ACCOUNT"],
        "user": os.environ["SNOWFLAKE_USER"],
        "role": os.environ["SNOWFLAKE_ROLE"],
        "warehouse": os.environ["SNOWFLAKE_WAREHOUSE"],
        "database": os.environ["SNOWFLAKE_DATABASE"],
        "schema": os.environ.get("SNOWFLAKE_SCHEMA", "microseg"),
        "session_parameters": {"QUERY_TAG": "microseg"},
    }
    if key := os.environ.get("SNOWFLAKE_PRIVATE_KEY_PATH"):
        credentials["private_key_file"] = key
        if passphrase := os.environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"):
            credentials["private_key_file_pwd"] = passphrase
    elif password := os.environ.get("SNOWFLAKE_PASSWORD"):
        credentials["password"] = password
    else:
        raise WarehouseError("set SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH")
    return credentials
