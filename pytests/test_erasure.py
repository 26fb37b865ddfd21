"""Right to erasure within one build: a person named in `erasure_requests` (by user id,
e-mail or device) leaves every table microseg writes, the published copies and the
exported files on the next build, stays out after a full refresh and after the request
is removed, and the erasure log keeps only salted hashes."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import Build
from microseg import ledger
from microseg.cli import main
from microseg.publish import PUBLISHED_SCHEMA


def _identifiers(con: duckdb.DuckDBPyConnection, user_id: str) -> list[str]:
    (email,) = con.execute(
        "select email from main_staging.stg_crm__customers where user_id = ?", [user_id]
    ).fetchone()
    devices = [
        row[0]
        for row in con.execute(
            "select distinct anonymous_id from main_staging.stg_tracking__events "
            "where user_id = ? and anonymous_id is not null",
            [user_id],
        ).fetchall()
    ]
    salt = os.environ["MICROSEG_HASH_SALT"]
    return [
        user_id,
        email,
        hashlib.sha256(email.encode()).hexdigest(),
        hashlib.sha256((salt + email).encode()).hexdigest(),
        *devices,
    ]


def _hits(db_path: Path, needles: list[str]) -> dict[str, int]:
    """Rows of every table and view (the raw inputs aside) that contain any needle."""
    found = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        relations = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name != 'raw' "
            "union all select schema_name, view_name from duckdb_views() "
            "where not internal and schema_name != 'raw'"
        ).fetchall()
        condition = " or ".join("contains(row_text, ?)" for _ in needles)
        for schema, table in relations:
            rows = con.execute(
                "select count(*) from (select lower(t::varchar) as row_text "
                f'from "{schema}"."{table}" t) where {condition}',
                [needle.lower() for needle in needles],
            ).fetchone()[0]
            if rows:
                found[f"{schema}.{table}"] = rows
    return found


def _file_hits(folder: Path, needles: list[str]) -> list[str]:
    return [
        str(path.relative_to(folder))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and any(n.lower() in path.read_text().lower() for n in needles)
    ]


def _publish_copy(db_path: Path) -> None:
    """A publication made before the request (the 60k-event shop cannot pass the
    segment minimums, so the public marts are copied as `microseg publish` would)."""
    with duckdb.connect(str(db_path)) as con:
        con.execute(f"create schema if not exists {PUBLISHED_SCHEMA}")
        for name, relation in ledger.relations(con, ledger.latest_build(con), True).items():
            con.execute(f"create table {PUBLISHED_SCHEMA}.{name} as select * from {relation}")


@pytest.fixture(scope="module")
def erased(demo_build: Build, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("erasure")
    shutil.copytree(demo_build.data_dir, root / "data")
    shutil.copytree(demo_build.db_path.parent / "target", root / "target")
    db_path = root / "microseg.duckdb"
    shutil.copy(demo_build.db_path, db_path)
    with duckdb.connect(str(db_path), read_only=True) as con:
        by_user, by_email = (
            row[0]
            for row in con.execute(
                "select user_id from main_marts.sync_email_audiences "
                "where user_id in (select user_id from main_staging.stg_crm__customers "
                "where email is not null) group by 1 order by count(*) desc, 1 limit 2"
            ).fetchall()
        )
        (device,) = con.execute(
            "select anonymous_id from main_marts.dim_identity_map where user_id is null "
            "order by anonymous_id limit 1"
        ).fetchone()
        needles = [*_identifiers(con, by_user), *_identifiers(con, by_email), device]
        email = needles[len(_identifiers(con, by_user)) + 1]
    _publish_copy(db_path)
    out = root / "export"
    assert main(["export", "--db", str(db_path), "--out", str(out)]) == 0
    before = (_hits(db_path, needles), _file_hits(out, needles))
    duckdb.connect().execute(
        f"""
        copy (
            select * from (values
                ('{by_user}', null, null, timestamp '2024-01-01'),
                (null, upper(' {email} '), null, timestamp '2024-01-02'),
                (null, null, '{device}', null)
            ) as requests (user_id, email, anonymous_id, requested_at)
        ) to '{root / "data" / "erasure_requests.parquet"}' (format parquet)
        """
    )
    as_of = str(demo_build.manifest["last_event_at"])
    args = [
        "build", "--data-dir", str(root / "data"), "--db", str(db_path), "--as-of", as_of,
        "--skip-unit-tests",
    ]  # fmt: skip
    status = main(args)
    after = (_hits(db_path, needles), _file_hits(out, needles))
    return {
        "root": root, "db_path": db_path, "out": out, "args": args, "needles": needles,
        "before": before, "after": after, "status": status,
    }  # fmt: skip


def test_the_persons_were_everywhere_before(erased: dict) -> None:
    tables, files = erased["before"]
    for table in (
        "main_staging.base_tracking__events", "main_staging.stg_crm__customers",
        "main_intermediate.int_sessionized_events", "main_marts.fct_sessions",
        "main_snapshots.snap_segment_memberships", "main_marts.fct_segment_membership_changes",
        "main_intermediate.int_person_scores", "main_published.sync_email_audiences",
        "main_published.dim_persons",
    ):  # fmt: skip
        assert table in tables
    assert "sync_email_audiences.csv" in files


def test_one_build_erases_them_from_every_table_and_export(erased: dict) -> None:
    assert erased["status"] == 0
    tables, files = erased["after"]
    assert tables == {}
    assert files == []


def test_the_erasure_log_holds_hashes_times_and_purged_tables(erased: dict) -> None:
    with duckdb.connect(str(erased["db_path"]), read_only=True) as con:
        rows = con.execute(
            f"select identifier_type, identifier_hash, erased_at, tables_purged "
            f"from {ledger.LEDGER_SCHEMA}.erasure_log"
        ).fetchall()
    assert {"user_id", "email", "anonymous_id", "person_key"} <= {row[0] for row in rows}
    assert all(len(row[1]) == 64 and row[2] is not None for row in rows)
    assert all("main_published.sync_email_audiences" in row[3] for row in rows)


def test_they_stay_erased_after_a_full_refresh_without_the_request(erased: dict) -> None:
    (erased["root"] / "data" / "erasure_requests.parquet").unlink()
    assert main([*erased["args"], "--full-refresh"]) == 0
    assert _hits(erased["db_path"], erased["needles"]) == {}
