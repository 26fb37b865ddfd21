"""Write-audit-publish: make the public marts of the latest build visible to consumers,
atomically, only when that build succeeded completely, its own gate passed and the tables
still match what the gate judged (all three read from the build ledger).

dbt builds every mart in `<schema>_marts` (the audit area). BI tools, reverse-ETL syncs and
`microseg export` read `<schema>_published`, which changes only here:

- DuckDB: one transaction replaces every public mart, or none;
- Snowflake: the marts are cloned (zero-copy) into `<schema>_published__next`, the clones
  are fingerprinted against the gate's verdict (so what is published is what was judged),
  the reading roles (var microseg__publish_reader_roles) are granted usage and select on it,
  and `alter schema ... swap with` exchanges it with the published schema in one
  statement. The previous version is then dropped. A refusal at any step leaves the
  published schema as it was.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from microseg import ledger
from microseg.ledger import NotPublishable as NotPublished
from microseg.warehouse import Target, Warehouse, connect, target

PUBLISHED_SCHEMA = "main_published"  # DuckDB's; Target.layer("published") on any target
LOG_NAME = "microseg_publications"
LOG_TABLE = f"{PUBLISHED_SCHEMA}.{LOG_NAME}"
READER_ROLES_VAR = "microseg__publish_reader_roles"
_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")

__all__ = ["LOG_TABLE", "PUBLISHED_SCHEMA", "NotPublished", "publish", "reader_roles"]


def publish(where: Path | Target) -> list[str]:
    """Publish the latest build's public marts; raise NotPublished when it may not be."""
    chosen = where if isinstance(where, Target) else target("dev", where)
    with connect(chosen) as warehouse:
        if warehouse.dialect == "duckdb":
            return _publish_in_one_transaction(warehouse)
        return _publish_by_swap(warehouse, reader_roles())


def reader_roles() -> list[str]:
    """The roles granted read access to the published schema (Snowflake), validated."""
    from microseg.project import project_vars

    roles = project_vars().get(READER_ROLES_VAR) or []
    if not isinstance(roles, list) or not all(isinstance(r, str) and _ROLE.match(r) for r in roles):
        raise NotPublished(
            f"{READER_ROLES_VAR} must be a list of role names (letters, digits, _ and $), "
            f"not {roles!r}: fix it in dbt_project.yml"
        )
    return roles


def _log_row(build: ledger.Build, models: dict[str, str], digest: str) -> list[object]:
    now = datetime.now(UTC).replace(tzinfo=None)
    return [now, build.invocation_id, ",".join(models), digest]


_LOG_COLUMNS = (
    "(published_at timestamp, dbt_invocation_id varchar, tables varchar, "
    "tables_fingerprint varchar)"
)
_LOG_DESCRIPTIONS = {
    None: "One row per publication of the public marts to this schema, newest last.",
    "published_at": "When the publication was made (UTC).",
    "dbt_invocation_id": "The dbt build that was published (its row in the build ledger).",
    "tables": "The tables published, comma-separated.",
    "tables_fingerprint": "Fingerprint of the tables as the quality gate judged them.",
}


def _comment(warehouse: Warehouse, table: str, column: str | None, text: str) -> None:
    # Quoted on DuckDB (names as written); Snowflake's unquoted names are its upper case.
    name = f'"{column}"' if warehouse.dialect == "duckdb" else column
    what = f"column {table}.{name}" if column else f"table {table}"
    warehouse.execute(f"comment on {what} is '" + text.replace("'", "''") + "'")


def _publish_in_one_transaction(warehouse: Warehouse) -> list[str]:
    published = warehouse.target.layer("published")
    try:
        warehouse.begin()
        build = ledger.latest_build(warehouse)
        ledger.require_successful(build)
        digest = ledger.require_passed_verdict(warehouse, build)
        models = ledger.relations(warehouse, build, public_only=True)
        warehouse.execute(f"create schema if not exists {published}")
        for name, relation in models.items():
            warehouse.execute(
                f"create or replace table {published}.{name} as select * from {relation}"
            )
            _copy_descriptions(warehouse, relation, f"{published}.{name}")
        warehouse.execute(f"create table if not exists {published}.{LOG_NAME} {_LOG_COLUMNS}")
        for column, text in _LOG_DESCRIPTIONS.items():
            _comment(warehouse, f"{published}.{LOG_NAME}", column, text)
        warehouse.execute(
            f"insert into {published}.{LOG_NAME} values (?, ?, ?, ?)",
            _log_row(build, models, digest),
        )
        warehouse.commit()
    except Exception:
        warehouse.rollback()
        raise
    return list(models)


def _copy_descriptions(warehouse: Warehouse, source: str, copy: str) -> None:
    """The table's and its columns' descriptions (persist_docs), onto the published copy.

    DuckDB's `create table as` keeps no comments: without them a BI tool reading the
    published schema would see bare columns. (Snowflake's clones keep theirs.)
    """
    schema, table = source.replace('"', "").split(".")[-2:]
    rows = warehouse.execute(
        "select null, comment from duckdb_tables() where schema_name = ? and table_name = ? "
        "union all select column_name, comment from duckdb_columns() "
        "where schema_name = ? and table_name = ?",
        [schema, table, schema, table],
    ).fetchall()
    for column, comment in rows:
        if comment:
            _comment(warehouse, copy, column, str(comment))


def _publish_by_swap(warehouse: Warehouse, roles: list[str]) -> list[str]:
    published = warehouse.target.layer("published")
    staging = f"{published}__next"
    build = ledger.latest_build(warehouse)
    ledger.require_successful(build)
    models = ledger.relations(warehouse, build, public_only=True)
    warehouse.execute(f"drop schema if exists {staging} cascade")
    warehouse.execute(f"create schema {staging}")
    try:
        for name, relation in models.items():
            warehouse.execute(f"create table {staging}.{name} clone {relation}")
        # The clones are what gets published: they must be what the gate judged.
        clones = {name: f"{staging}.{name}" for name in models}
        digest = ledger.require_passed_verdict(warehouse, build, instead=clones)
        if warehouse.has_table(published, LOG_NAME):
            warehouse.execute(f"create table {staging}.{LOG_NAME} clone {published}.{LOG_NAME}")
        else:
            warehouse.execute(f"create table {staging}.{LOG_NAME} {_LOG_COLUMNS}")
            for column, text in _LOG_DESCRIPTIONS.items():
                _comment(warehouse, f"{staging}.{LOG_NAME}", column, text)
        warehouse.execute(
            f"insert into {staging}.{LOG_NAME} values (?, ?, ?, ?)",
            _log_row(build, models, digest),
        )
        for role in roles:
            warehouse.execute(f"grant usage on schema {staging} to role {role}")
            warehouse.execute(f"grant select on all tables in schema {staging} to role {role}")
    except Exception:
        warehouse.execute(f"drop schema if exists {staging} cascade")
        raise
    if warehouse.has_schema(published):
        warehouse.execute(f"alter schema {published} swap with {staging}")
        warehouse.execute(f"drop schema if exists {staging} cascade")  # the previous version
    else:
        warehouse.execute(f"alter schema {staging} rename to {published}")
    return list(models)
