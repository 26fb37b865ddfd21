"""The build ledger inside the warehouse: the one authority on what may be published.

dbt's hooks (macros/ledger/build_ledger.sql) record every invocation in `main_ledger`:
its id, command and selection, the fingerprint of each source it read, whether every
node and test succeeded, and the relations of its models. `microseg validate` adds the
gate's verdict for the latest build with a fingerprint of the tables it judged, signed
with the secret salt. `microseg publish` trusts nothing else: not `target/`, not the
report in `validation/results.json`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from microseg.db import one_row, scalar

LEDGER_SCHEMA = "main_ledger"
# Commands that can change what the models hold; `dbt test` and friends cannot.
BUILDING_COMMANDS = ("build", "run", "seed", "snapshot", "clone", "retry")


# What the ledger records for `dbt build --exclude-resource-type unit_test`.
WITHOUT_UNIT_TESTS = "exclude_resource_types=unit_test"


class NotPublishable(Exception):
    """The latest build may not be published; the message says why and what to do."""


@dataclass(frozen=True)
class Build:
    invocation_id: str
    command: str
    selection: str | None
    status: str
    failed_nodes: str | None
    started_at: datetime

    @property
    def is_complete(self) -> bool:
        """Every model and data test ran. Unit tests may be left out: they check the SQL
        on fixtures, not the data (dbt's advice for scheduled builds; CI runs them)."""
        return self.command == "build" and self.selection in (None, WITHOUT_UNIT_TESTS)


def latest_build(con: duckdb.DuckDBPyConnection) -> Build:
    """The newest invocation that could have changed the models."""
    if not _has_ledger(con):
        raise NotPublishable("this database has no build ledger: run `microseg build`")
    placeholders = ", ".join("?" for _ in BUILDING_COMMANDS)
    row = con.execute(
        "select invocation_id, command, selection, status, failed_nodes, started_at "
        f"from {LEDGER_SCHEMA}.builds where command in ({placeholders}) "
        "order by started_at desc limit 1",
        list(BUILDING_COMMANDS),
    ).fetchone()
    if row is None:
        raise NotPublishable("no build is recorded in this database: run `microseg build`")
    return Build(*row)


def require_successful(build: Build) -> None:
    """Raise unless the build ran everything and everything succeeded."""
    if build.status == "running":
        raise NotPublishable(
            f"the latest build {build.invocation_id} never finished (killed, or still "
            "running): run `microseg build` again"
        )
    if build.status != "succeeded":
        failures = (build.failed_nodes or "").split(", ")
        shown = ", ".join(failures[:5]) + (f" and {len(failures) - 5} more" if failures[5:] else "")
        raise NotPublishable(
            f"the latest build {build.invocation_id} failed ({shown}): "
            "fix what failed and run `microseg build`"
        )
    if not build.is_complete:
        what = f"dbt {build.command}" + (f" {build.selection}" if build.selection else "")
        raise NotPublishable(
            f"the latest build {build.invocation_id} was partial ({what}): run a complete "
            "`microseg build` (every model and test) before validating and publishing"
        )


def relations(con: duckdb.DuckDBPyConnection, build: Build, public_only: bool = False) -> dict:
    """Model name -> `schema.relation` as the build recorded them."""
    rows = con.execute(
        f"select model_name, schema_name, relation_name from {LEDGER_SCHEMA}.build_relations "
        "where invocation_id = ? and (is_public or not ?) order by model_name",
        [build.invocation_id, public_only],
    ).fetchall()
    return {name: f"{schema}.{relation}" for name, schema, relation in rows}


def fingerprint(con: duckdb.DuckDBPyConnection, tables: dict[str, str]) -> str:
    """One digest of the row counts and contents of the given relations (order-free)."""
    parts = {}
    for name, relation in sorted(tables.items()):
        rows, digest = one_row(
            con, f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {relation} as t"
        )
        parts[name] = [rows, str(digest)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _signature(invocation_id: str, passed: bool, failed: str, tables: str, digest: str) -> str:
    salt = _salt()
    if len(salt) < 16:
        raise NotPublishable("MICROSEG_HASH_SALT is not set: the gate's verdict cannot be signed")
    message = f"{invocation_id}|{passed}|{failed}|{tables}|{digest}".encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()


def record_verdict(
    con: duckdb.DuckDBPyConnection,
    build: Build,
    passed: bool,
    failed: str,
    tables: dict[str, str],
    digest: str,
) -> None:
    """The gate's verdict on `build`, over `tables` whose fingerprint was `digest`."""
    listed = json.dumps(tables, sort_keys=True)
    con.execute(
        f"insert into {LEDGER_SCHEMA}.gate_verdicts values (?, ?, ?, ?, ?, ?, ?)",
        [
            build.invocation_id,
            datetime.now(UTC).replace(tzinfo=None),
            passed,
            failed,
            listed,
            digest,
            _signature(build.invocation_id, passed, failed, listed, digest),
        ],
    )


def require_passed_verdict(con: duckdb.DuckDBPyConnection, build: Build) -> str:
    """The fingerprint of the build's latest verdict, if that verdict passed, is genuine
    and the tables it judged still match it; otherwise raise."""
    row = con.execute(
        "select passed, expectations_failed, tables, tables_fingerprint, signature "
        f"from {LEDGER_SCHEMA}.gate_verdicts where invocation_id = ? "
        "order by validated_at desc limit 1",
        [build.invocation_id],
    ).fetchone()
    if row is None:
        raise NotPublishable(
            f"the latest build {build.invocation_id} has not been validated: "
            "run `microseg validate`"
        )
    passed, failed, listed, digest, signature = row
    expected = _signature(build.invocation_id, passed, failed, listed, digest)
    if not hmac.compare_digest(expected, signature or ""):
        raise NotPublishable(
            "the gate's verdict in the ledger is not signed with this installation's salt "
            "(edited by hand, or validated with another MICROSEG_HASH_SALT): run "
            "`microseg validate`"
        )
    if not passed:
        raise NotPublishable(
            f"the quality gate failed on build {build.invocation_id}: {failed} "
            "(see `microseg validate`)"
        )
    if fingerprint(con, json.loads(listed)) != digest:
        raise NotPublishable(
            "the tables changed after they were validated (a dbt command or an edit since "
            "`microseg validate`): run `microseg build` and `microseg validate` again"
        )
    return digest


def record_export(db_path: Path, folder: Path, file_format: str, files: list[str]) -> None:
    """Remember which files an export wrote, so that an erasure can rewrite them."""
    with duckdb.connect(str(db_path)) as con:
        if not _has_ledger(con):
            return
        now = datetime.now(UTC).replace(tzinfo=None)
        resolved = str(folder.resolve())
        con.execute(f"delete from {LEDGER_SCHEMA}.exports where folder = ?", [resolved])
        con.executemany(
            f"insert into {LEDGER_SCHEMA}.exports values (?, ?, ?, ?)",
            [[now, resolved, file_format, relative] for relative in files],
        )


def exports_to_redo(db_path: Path) -> list[tuple[Path, str, list[str]]]:
    """Export folders written before the latest build erased someone: (folder, format,
    files), to be written again from the purged published schema."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        if not _has_ledger(con):
            return []
        build = latest_build(con)
        erased = scalar(
            con,
            f"select count(*) from {LEDGER_SCHEMA}.erasure_log where invocation_id = ?",
            [build.invocation_id],
        )
        if not erased:
            return []
        rows = con.execute(
            f"select folder, any_value(file_format), list(relative_path order by relative_path) "
            f"from {LEDGER_SCHEMA}.exports group by folder order by folder"
        ).fetchall()
    return [(Path(folder), file_format, files) for folder, file_format, files in rows]


def _salt() -> str:
    from microseg.project import ensure_hash_salt

    ensure_hash_salt()
    return os.environ.get("MICROSEG_HASH_SALT", "")


def _has_ledger(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        scalar(
            con,
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = 'builds'",
            [LEDGER_SCHEMA],
        )
    )
