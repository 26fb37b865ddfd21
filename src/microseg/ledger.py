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
from typing import Any

from microseg.db import one_row, scalar
from microseg.dbt_project import ML_PHASE_SELECTOR

LEDGER_SCHEMA = "main_ledger"
# Commands that can change what the models hold; `dbt test` and friends cannot.
BUILDING_COMMANDS = ("build", "run", "seed", "snapshot", "clone", "retry")


# What the ledger records for `dbt build --exclude-resource-type unit_test`.
WITHOUT_UNIT_TESTS = "exclude_resource_types=unit_test"
# `microseg build` builds in two phases around `microseg train` (microseg.project.run_dbt):
# everything but the model registry's descendants, then those. The two consecutive phases
# together are one complete build.
ML_PHASES = (f"exclude={ML_PHASE_SELECTOR}", f"select={ML_PHASE_SELECTOR}")
# `--select fqn:*` is dbt's name for every node but the sources, which a build does not
# build: the same as no --select. dagster-dbt passes it (microseg.orchestration.dagster).
EVERY_NODE = "select=fqn:*"


def _selection_parts(selection: str | None) -> list[str]:
    """A recorded selection's parts, `select=fqn:*` left out (it selects everything)."""
    return [part for part in (selection or "").split("; ") if part and part != EVERY_NODE]


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
    # The invocations that make up the build: one, or the two ML phases.
    phases: tuple[str, ...] = ()

    @property
    def invocation_ids(self) -> tuple[str, ...]:
        return self.phases or (self.invocation_id,)

    @property
    def is_complete(self) -> bool:
        """Every model and data test ran. Unit tests may be left out: they check the SQL
        on fixtures, not the data (dbt's advice for scheduled builds; CI runs them)."""
        rest = "; ".join(_selection_parts(self.selection)) or None
        return self.command == "build" and rest in (None, WITHOUT_UNIT_TESTS)


def latest_build(con: Any) -> Build:
    """The newest invocation that could have changed the models."""
    if not _has_ledger(con):
        raise NotPublishable("this database has no build ledger: run `microseg build`")
    placeholders = ", ".join("?" for _ in BUILDING_COMMANDS)
    rows = con.execute(
        "select invocation_id, command, selection, status, failed_nodes, started_at "
        f"from {ledger_schema(con)}.builds where command in ({placeholders}) "
        "order by started_at desc limit 2",
        list(BUILDING_COMMANDS),
    ).fetchall()
    if not rows:
        raise NotPublishable("no build is recorded in this database: run `microseg build`")
    latest = Build(*rows[0])
    if len(rows) == 2:
        return _phases_joined(Build(*rows[1]), latest) or latest
    return latest


def _phase(build: Build) -> tuple[int, str | None] | None:
    """Which ML phase a build is (0 or 1) and the rest of its selection; None if neither."""
    parts = _selection_parts(build.selection)
    for index, phase in enumerate(ML_PHASES):
        if build.command == "build" and phase in parts:
            rest = [part for part in parts if part != phase]
            return index, "; ".join(rest) or None
    return None


def _phases_joined(first: Build, second: Build) -> Build | None:
    """The two phases of one `microseg build` as one build, if that is what they are."""
    first_phase, second_phase = _phase(first), _phase(second)
    if first_phase is None or second_phase is None:
        return None
    (first_index, first_rest), (second_index, second_rest) = first_phase, second_phase
    if (first_index, second_index) != (0, 1) or first_rest != second_rest:
        return None
    if first.status != "succeeded":
        return None  # the second phase of a failed first one: partial, as it stands
    return Build(
        second.invocation_id,
        "build",
        second_rest,
        second.status,
        second.failed_nodes,
        first.started_at,
        (first.invocation_id, second.invocation_id),
    )


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


def relations(con: Any, build: Build, public_only: bool = False) -> dict:
    """Model name -> `schema.relation` as the build recorded them."""
    rows = con.execute(
        f"select model_name, schema_name, relation_name from {ledger_schema(con)}.build_relations "
        "where invocation_id = ? and (is_public or not ?) order by model_name",
        [build.invocation_id, public_only],
    ).fetchall()
    return {name: f"{schema}.{relation}" for name, schema, relation in rows}


def fingerprint(con: Any, tables: dict[str, str]) -> str:
    """One digest of the row counts and contents of the given relations (order-free)."""
    parts = {}
    for name, relation in sorted(tables.items()):
        rows, digest = one_row(con, _row_digest(con, relation))
        parts[name] = [rows, str(digest)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _signature(invocation_id: str, passed: bool, failed: str, tables: str, digest: str) -> str:
    salt = _salt()
    if len(salt) < 16:
        raise NotPublishable("MICROSEG_HASH_SALT is not set: the gate's verdict cannot be signed")
    message = f"{invocation_id}|{passed}|{failed}|{tables}|{digest}".encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()


def record_verdict(
    con: Any,
    build: Build,
    passed: bool,
    failed: str,
    tables: dict[str, str],
    digest: str,
) -> None:
    """The gate's verdict on `build`, over `tables` whose fingerprint was `digest`."""
    listed = json.dumps(tables, sort_keys=True)
    con.execute(
        f"insert into {ledger_schema(con)}.gate_verdicts values (?, ?, ?, ?, ?, ?, ?)",
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


def require_passed_verdict(con: Any, build: Build, instead: dict[str, str] | None = None) -> str:
    """The fingerprint of the build's latest verdict, if that verdict passed, is genuine
    and the tables it judged still match it (read from `instead`'s relations for the names
    it gives: copies about to be published); otherwise raise."""
    row = con.execute(
        "select passed, expectations_failed, tables, tables_fingerprint, signature "
        f"from {ledger_schema(con)}.gate_verdicts where invocation_id = ? "
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
    if fingerprint(con, json.loads(listed) | (instead or {})) != digest:
        raise NotPublishable(
            "the tables changed after they were validated (a dbt command or an edit since "
            "`microseg validate`): run `microseg build` and `microseg validate` again"
        )
    return digest


def record_export(con: Any, folder: Path, file_format: str, files: list[str]) -> None:
    """Remember which files an export wrote, so that an erasure can rewrite them."""
    if not _has_ledger(con):
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    resolved = str(folder.resolve())
    schema = ledger_schema(con)
    con.execute(f"delete from {schema}.exports where folder = ?", [resolved])
    for relative in files:
        con.execute(
            f"insert into {schema}.exports values (?, ?, ?, ?)",
            [now, resolved, file_format, relative],
        )


def exports_to_redo(con: Any) -> list[tuple[Path, str, list[str]]]:
    """Export folders written before the latest build erased someone: (folder, format,
    files), to be written again from the purged published schema."""
    if not _has_ledger(con):
        return []
    build = latest_build(con)
    schema = ledger_schema(con)
    placeholders = ", ".join("?" for _ in build.invocation_ids)
    erased = scalar(
        con,
        f"select count(*) from {schema}.erasure_log where invocation_id in ({placeholders})",
        list(build.invocation_ids),
    )
    if not erased:
        return []
    rows = con.execute(
        f"select folder, file_format, relative_path from {schema}.exports "
        "order by folder, relative_path"
    ).fetchall()
    folders: dict[str, tuple[str, list[str]]] = {}
    for folder, file_format, relative in rows:
        folders.setdefault(folder, (file_format, []))[1].append(relative)
    return [(Path(folder), fmt, files) for folder, (fmt, files) in folders.items()]


def _row_digest(con: Any, relation: str) -> str:
    """count(*) and an order-free digest of a relation's rows, in the connection's SQL."""
    if hasattr(con, "row_digest"):  # a microseg.warehouse.Warehouse
        return str(con.row_digest(relation))
    return f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {relation} as t"


def _salt() -> str:
    from microseg.project import ensure_hash_salt

    ensure_hash_salt()
    return os.environ.get("MICROSEG_HASH_SALT", "")


def ledger_schema(con: Any) -> str:
    """The ledger's schema: `<target schema>_ledger` of a Warehouse, else DuckDB's."""
    target = getattr(con, "target", None)
    return target.layer("ledger") if target is not None else LEDGER_SCHEMA


def _has_ledger(con: Any) -> bool:
    return bool(
        scalar(
            con,
            "select count(*) from information_schema.tables "
            "where lower(table_schema) = lower(?) and lower(table_name) = 'builds'",
            [ledger_schema(con)],
        )
    )
