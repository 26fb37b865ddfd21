"""dbt on an emulated Snowflake, for tests only.

`fakesnow` replaces `snowflake.connector.connect` with an in-process DuckDB that translates
Snowflake SQL through sqlglot, so dbt-snowflake runs the project's Snowflake SQL without a
warehouse. Where fakesnow's translation differs from Snowflake, this module patches
fakesnow's translation (never the project's SQL), and only while `emulated_snowflake()` is
active, so a real Snowflake connection never sees a shim:

- temporary tables: DuckDB keeps them in its own `temp` catalog and rejects the
  database-qualified names dbt-snowflake gives them, so they become ordinary tables;
- `try_cast(<text> as timestamp_ntz)`: fakesnow turns it into a plain cast that fails on
  bad text, so it stays a `try_cast`;
- `as_timestamp_ntz(to_variant(x))`: not translated; emulated as "x if x is a timestamp";
- `hash()`: DuckDB's is unsigned 64-bit, Snowflake's signed; shifted into the signed range;
- MERGE value lists (dbt's snapshot merge): unqualified columns in `insert ... values`
  get the source's alias, which is what Snowflake reads them as;
- persist_docs: `comment on` texts get their quotes escaped (fakesnow stores them in a
  quoted literal as they are), and the multi-column `alter table ... alter "c" comment`,
  which sqlglot cannot parse, is answered without being run: column comments are not kept;
- `alter schema a swap with b` and `alter schema a rename to b` (publication): DuckDB
  cannot alter schemas, so the shim moves the tables' contents between the schemas in one
  DuckDB transaction, which has the statement's all-or-nothing effect, not its mechanism;
- `grant ...` (publication's grants): answered without being run (fakesnow has no roles)
  and kept in `ISSUED_GRANTS`, so tests can check what was granted, on which schema, when;
- the hash salt: the project reads it from the secure function
  `<database>.microseg_secrets.hash_salt()` that production creates outside dbt. Each
  connection gets it as a DuckDB macro returning a DuckDB variable, which is set from
  MICROSEG_HASH_SALT (read at connect time) with a parameterised statement, so the salt is
  in no SQL text, as on DuckDB (microseg.dbt_salt_plugin).

Anything else fakesnow cannot run is reported by the tests, not hidden here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
from sqlglot import exp

from microseg.dbt_salt_plugin import SALT_ENV, VARIABLE, set_salt_variable
from microseg.project import DbtResult, parse_cache, project_dir, run_dbt
from microseg.warehouse import Target

TARGET = "fakesnow"
DATABASE = "microseg"  # the fakesnow target's database in profiles.yml
RAW_TABLES = ("events", "customers", "consents")
# Loaded when the data folder has them (the build makes them empty otherwise).
OPTIONAL_RAW_TABLES = ("suppression_list", "send_log")

# DuckDB column types of the generated Parquet, as Snowflake declares them.
_SNOWFLAKE_TYPES = {
    "VARCHAR": "varchar",
    "TIMESTAMP": "timestamp_ntz",
    "DOUBLE": "float",
    "INTEGER": "number(38, 0)",
    "BIGINT": "number(38, 0)",
    "BOOLEAN": "boolean",
}
# Statements fakesnow cannot parse and that change no data: answered "success", not run.
_NOT_RUN = [
    # persist_docs column comments, `alter table t alter "c1" comment $$...$$, "c2" comment ...`
    r'\s*alter\s+table\s+\S+\s+alter\s+"[^"]+"\s+comment\s',
]
_TIMESTAMP_TYPES = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)
_SWAP = re.compile(r"\s*alter\s+schema\s+(\w+)\s+swap\s+with\s+(\w+)\s*;?\s*$", re.I)
_RENAME = re.compile(r"\s*alter\s+schema\s+(\w+)\s+rename\s+to\s+(\w+)\s*;?\s*$", re.I)
_GRANT = re.compile(r"\s*grant\s", re.I)
# Every grant statement the emulator was sent, in order (cleared by emulated_snowflake()).
ISSUED_GRANTS: list[str] = []
# Where macros/privacy/hash_salt.sql (snowflake__hash_salt_sql) reads the salt, per database.
SALT_SCHEMA, SALT_FUNCTION = "microseg_secrets", "hash_salt"


def _permanent_temporary_tables(node: exp.Expr) -> exp.Expr:
    """`create temporary table db.schema.t` -> `create table db.schema.t`."""
    if isinstance(node, exp.Create) and (properties := node.args.get("properties")):
        for prop in list(properties.expressions):
            if isinstance(prop, exp.TemporaryProperty):
                prop.pop()
        if not properties.expressions:
            properties.pop()
    return node


def _as_timestamp_ntz(node: exp.Expr) -> exp.Expr:
    """`as_timestamp_ntz(to_variant(x))`: x when it is a timestamp, else null (Snowflake's rule)."""
    if (
        isinstance(node, exp.Anonymous)
        and node.name.lower() == "as_timestamp_ntz"
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.ToVariant)
    ):
        value = node.expressions[0].this
        type_name = exp.func("typeof", value.copy())
        is_timestamp = exp.func("starts_with", type_name, exp.Literal.string("TIMESTAMP"))
        timestamp = exp.TryCast(this=value, to=exp.DataType.build("timestamp"))
        return exp.Case(ifs=[exp.If(this=is_timestamp, true=timestamp)])
    return node


def _escaped_comment(node: exp.Expr) -> exp.Expr:
    """fakesnow stores a `comment on` text inside a quoted literal without escaping its quotes."""
    text = node.args.get("expression") if isinstance(node, exp.Comment) else None
    if isinstance(text, exp.RawString | exp.Literal):
        node.set("expression", exp.RawString(this=text.name.replace("'", "''")))
    return node


def _signed_hash(node: exp.Expr) -> exp.Expr:
    """Snowflake's hash() is a signed 64-bit number; DuckDB's is unsigned (UBIGINT), a type
    Snowflake does not have. Shifted into the signed range, one to one."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
        wide = exp.cast(exp.Anonymous(this="hash", expressions=node.expressions), "int128")
        return exp.cast(exp.Sub(this=wide, expression=exp.Literal.number(2**63)), "bigint")
    return node


def _qualified_merge_values(node: exp.Expr) -> exp.Expr:
    """`merge ... when not matched then insert (c) values (c)`: Snowflake reads the values
    from the source; fakesnow's rewrite finds `c` on both sides and calls it ambiguous
    (dbt's snapshot merge), so the values get the source's alias."""
    if isinstance(node, exp.Merge) and (alias := node.args["using"].alias):
        for when in node.args["whens"].expressions:
            values = when.args.get("then")
            if isinstance(values, exp.Insert) and isinstance(values.expression, exp.Tuple):
                for column in values.expression.expressions:
                    if isinstance(column, exp.Column) and not column.table:
                        column.set("table", exp.to_identifier(alias))
    return node


_BEFORE_FAKESNOW = (
    _permanent_temporary_tables,
    _as_timestamp_ntz,
    _escaped_comment,
    _signed_hash,
)


def _keep_try_cast(to_timestamp: Callable[[exp.Expr], exp.Expr]) -> Callable[[exp.Expr], exp.Expr]:
    """fakesnow's to_timestamp transform, minus its rewrite of try_cast into a failing cast."""

    def transform(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.TryCast) and node.to.this in _TIMESTAMP_TYPES:
            return node
        return to_timestamp(node)

    return transform


def _provide_hash_salt(connection: Any) -> None:
    """The secure salt function in the connection's database, returning the salt of now.

    All fakesnow connections share one DuckDB connection, so its variable serves them all;
    without MICROSEG_HASH_SALT the function returns null, as a missing secret would.
    """
    if not connection.database_set:
        return
    duck = connection._duck_conn
    duck.execute(f"create schema if not exists {connection.database}.{SALT_SCHEMA}")
    duck.execute(
        f"create macro if not exists {connection.database}.{SALT_SCHEMA}.{SALT_FUNCTION}() "
        f"as cast(getvariable('{VARIABLE}') as varchar)"
    )
    if os.environ.get(SALT_ENV):
        set_salt_variable(duck)
    else:
        duck.execute(f"reset variable {VARIABLE}")


def _move_tables(duck: Any, database: str, moves: list[tuple[str, str]]) -> None:
    """Each (source, destination) schema's tables become the destination's, in one DuckDB
    transaction; a destination's own tables go first (they were moved out before). The
    emptied source schemas are dropped by the caller."""
    duck.execute("begin")
    try:
        for source, destination in moves:
            tables = [
                row[0]
                for row in duck.execute(
                    "select table_name from duckdb_tables() where lower(database_name) = ? "
                    "and lower(schema_name) = lower(?)",
                    [database, source],
                ).fetchall()
            ]
            duck.execute(f"create schema if not exists {database}.{destination}")
            for table in tables:
                duck.execute(
                    f"create or replace table {database}.{destination}.{table} as "
                    f"select * from {database}.{source}.{table}"
                )
                duck.execute(f"drop table {database}.{source}.{table}")
        duck.execute("commit")
    except Exception:
        duck.execute("rollback")
        raise


def _schema_statement(cursor: Any, command: str) -> str | None:
    """Run a schema swap or rename the emulator's way; the schema it leaves empty, to be
    dropped, or None for any other statement."""
    database = cursor._conn.database.lower()
    if match := _SWAP.match(command):
        first, second = match.groups()
        parked = f"{first}__swapping"
        _move_tables(
            cursor._duck_conn, database, [(first, parked), (second, first), (parked, second)]
        )
        return parked
    if match := _RENAME.match(command):
        _move_tables(cursor._duck_conn, database, [match.groups()])
        return str(match.group(1))
    return None


@contextlib.contextmanager
def _shims() -> Iterator[None]:
    import fakesnow.transforms
    from fakesnow.conn import FakeSnowflakeConnection
    from fakesnow.cursor import FakeSnowflakeCursor

    original = FakeSnowflakeCursor._transform
    connect = FakeSnowflakeConnection.__init__
    execute = FakeSnowflakeCursor.execute

    def execute_statement(
        self: FakeSnowflakeCursor, command: str, *args: Any, **kwargs: Any
    ) -> FakeSnowflakeCursor:
        if _GRANT.match(command):
            ISSUED_GRANTS.append(" ".join(command.split()))
            return execute(self, "select 'Statement executed successfully.' as status")
        if emptied := _schema_statement(self, command):
            return execute(self, f"drop schema if exists {emptied} cascade")
        return execute(self, command, *args, **kwargs)

    def init(self: FakeSnowflakeConnection, *args: Any, **kwargs: Any) -> None:
        connect(self, *args, **kwargs)
        _provide_hash_salt(self)

    def transform(self: FakeSnowflakeCursor, expression: exp.Expr, params: Any) -> exp.Expr:
        for shim in _BEFORE_FAKESNOW:
            expression = expression.transform(shim, copy=False)
        return original(self, expression, params)

    split_merge = fakesnow.transforms.merge

    def merge(expression: exp.Expr) -> list[exp.Expr]:
        return split_merge(expression.transform(_qualified_merge_values, copy=False))

    with (
        mock.patch.object(FakeSnowflakeConnection, "__init__", init),
        mock.patch.object(FakeSnowflakeCursor, "_transform", transform),
        mock.patch.object(FakeSnowflakeCursor, "execute", execute_statement),
        mock.patch.object(fakesnow.transforms, "merge", merge),
        mock.patch.object(
            fakesnow.transforms, "to_timestamp", _keep_try_cast(fakesnow.transforms.to_timestamp)
        ),
    ):
        yield


@contextlib.contextmanager
def emulated_snowflake() -> Iterator[Any]:
    """An in-memory emulated Snowflake for the duration of the block.

    Yields a fakesnow connection to database `microseg`; dbt runs started with
    `run_dbt_emulated` inside the block see the same data.
    """
    import fakesnow
    import snowflake.connector

    ISSUED_GRANTS.clear()
    with fakesnow.patch(nop_regexes=_NOT_RUN), _shims():
        connection = snowflake.connector.connect(database=DATABASE, schema="raw")
        try:
            yield connection
        finally:
            connection.close()


def load_raw_tables(connection: Any, data_dir: Path, schema: str = "raw") -> dict[str, int]:
    """(Re)create the raw source tables from the generator's Parquet files; row counts.

    Emulator only: fakesnow reads the files with DuckDB's read_parquet. A real Snowflake
    would load them through a stage (PUT, then COPY INTO ... MATCH_BY_COLUMN_NAME).
    """
    counts = {}
    cursor = connection.cursor()
    cursor.execute(f"create schema if not exists {schema}")
    present = [t for t in OPTIONAL_RAW_TABLES if (data_dir / f"{t}.parquet").exists()]
    for table in (*RAW_TABLES, *present):
        path = (data_dir / f"{table}.parquet").resolve()
        columns = duckdb.sql(f"describe select * from '{path}'").fetchall()
        definition = ", ".join(f"{name} {_SNOWFLAKE_TYPES[kind]}" for name, kind, *_ in columns)
        cursor.execute(f"create or replace table {schema}.{table} ({definition})")
        cursor.execute(f"insert into {schema}.{table} select * from read_parquet('{path}')")
        counts[table] = cursor.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    return counts


def _invoke(args: list[str], target: str, target_path: Path, variables: dict) -> Any:
    import snowflake.connector
    from dbt.cli.main import dbtRunner

    if not isinstance(snowflake.connector.connect, mock.Mock):
        raise RuntimeError("not inside emulated_snowflake(): dbt would connect to Snowflake")
    root = project_dir()
    with parse_cache(target_path, variables, target):
        return dbtRunner().invoke(
            [
                *args,
                "--target", target,
                "--project-dir", str(root),
                "--profiles-dir", str(root),
                "--target-path", str(target_path),
                "--vars", json.dumps(variables),
            ]
        )  # fmt: skip


def run_dbt_emulated(
    args: list[str],
    *,
    work_dir: Path,
    as_of: str = "now",
    target: str = TARGET,
    extra_vars: dict | None = None,
) -> DbtResult:
    """One dbt command against the emulated Snowflake (inside `emulated_snowflake`), as
    microseg runs it (a whole build in two phases around `microseg train`); dbt's files go
    to `work_dir/target`.

    `target` may be `snowflake`, the production target: fakesnow answers its connection too.
    """
    import snowflake.connector

    if not isinstance(snowflake.connector.connect, mock.Mock):
        raise RuntimeError("not inside emulated_snowflake(): dbt would connect to Snowflake")
    return run_dbt(args, as_of=as_of, extra_vars=extra_vars, target=Target(target, folder=work_dir))


def compile_inline(sql: str, *, target_path: Path, target: str = TARGET) -> str:
    """The SQL dbt compiles a Jinja snippet into for the target (inside `emulated_snowflake`)."""
    result = _invoke(["compile", "--quiet", "--inline", sql], target, target_path, {})
    if not result.success:
        raise RuntimeError(f"dbt could not compile {sql!r}: {result.exception}")
    return result.result.results[0].node.compiled_code
