"""Shared fixtures: one generated dataset built once per test session."""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from microseg.generate import GeneratorConfig, generate
from microseg.project import SKIP_UNIT_TESTS, DbtResult, project_dir, project_vars, run_dbt

SHARED_DATA = project_dir().parent / "shared" / "data"
# Unit tests do not depend on the data: the shared demo build (and the first build of a few
# modules) runs them; other modules build the data without them.
BUILD = ["build", *SKIP_UNIT_TESTS]
# Modules with the longest set-ups run first: pytest-xdist (--dist loadfile) hands out
# modules in collection order, so no worker is left with a long one at the end.
SLOW_FIRST = (
    "test_snowflake_emulated",
    "test_incremental",
    "test_incremental_edge_cases",
    "test_backfill",
    "test_foreign_shapes",
    "test_adapters",
    "test_dagster",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        stem = item.path.stem
        return SLOW_FIRST.index(stem) if stem in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session", autouse=True)
def shared_parse_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dbt parse cache for the run's workers (microseg.project.parse_cache)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    os.environ["MICROSEG_PARSE_CACHE"] = str(shared / "parse-cache")
    return shared / "parse-cache"


@contextlib.contextmanager
def connect_built(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to a built database, every layer's schema on the search path."""
    con = duckdb.connect(str(db_path), read_only=True)
    schemas = [row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()]
    con.execute(f"set search_path = '{','.join(schemas)}'")
    try:
        yield con
    finally:
        con.close()


def published_tables(db_path: Path) -> dict[str, tuple]:
    """Each published table's row count and content hash: what a publication changed."""
    from microseg.publish import PUBLISHED_SCHEMA

    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = ? order by 1",
            [PUBLISHED_SCHEMA],
        ).fetchall()
        return {
            name: con.execute(
                f"select count(*), sum(hash(t::varchar)) from {PUBLISHED_SCHEMA}.{name} as t"
            ).fetchone()
            for (name,) in tables
        }


@dataclass
class Build:
    data_dir: Path
    db_path: Path
    manifest: dict
    result: DbtResult

    def connect(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        return connect_built(self.db_path)

    def scalar(self, query: str) -> object:
        with self.connect() as con:
            return con.execute(query).fetchone()[0]


def shared_build(
    tmp_path_factory: pytest.TempPathFactory, name: str, events: int, seed: int
) -> Build:
    """A generated shop built with `dbt build` once per test run, and a copy of it.

    Under pytest-xdist the first worker that asks builds it in the run's shared folder;
    every worker gets its own copy (tests write to it)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    built = shared / f"{name}_shared"
    with FileLock(str(shared / f"{name}.lock")):
        if not (built / "result.pickle").exists():
            manifest = generate(GeneratorConfig(events=events, seed=seed), built / "data")
            result = run_dbt(
                ["build"],
                data_dir=built / "data",
                db_path=built / "microseg.duckdb",
                as_of=str(manifest["last_event_at"]),
            )
            (built / "result.pickle").write_bytes(pickle.dumps((manifest, result)))
    manifest, result = pickle.loads((built / "result.pickle").read_bytes())
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(built, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.pickle"))
    return Build(root / "data", root / "microseg.duckdb", manifest, result)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """About 60k dirty generated events, built with `dbt build` (unit and data tests included)."""
    return shared_build(tmp_path_factory, "demo", 60_000, 7)


@pytest.fixture(scope="session")
def demo_sized_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The data `make demo` builds: 1M events, seed 42."""
    return shared_build(tmp_path_factory, "demo_sized", 1_000_000, 42)


def write_raw_tables(source: Path, target: Path, events_where: str) -> None:
    """A data folder: every other raw table of `source` and those of its events that match."""
    target.mkdir(parents=True)
    for path in source.glob("*.parquet"):
        if path.name != "events.parquet":
            shutil.copy(path, target / path.name)
    duckdb.connect().execute(
        f"copy (select * from '{source / 'events.parquet'}' where {events_where}) "
        f"to '{target / 'events.parquet'}' (format parquet)"
    )


def project_var(name: str) -> object:
    """A threshold from dbt_project.yml, its one home."""
    return project_vars()[name]


def shared_csv(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the public datasets live in ../shared beside the project)")
    return path


def write_activation_inputs(data_dir: Path, clock: object) -> None:
    """A suppression list and a send log for generated data (the generator writes neither):
    two customers suppressed (by user id, by e-mail), two contacted by e-mail the day before
    `clock`, and one entry of each that cannot be applied."""
    con = duckdb.connect()
    customers = con.execute(
        f"select user_id, email from '{data_dir / 'customers.parquet'}' where user_id is not "
        "null and email like '%@%' order by user_id limit 4"
    ).fetchall()
    (first, _), (_, second_email), (third, _), (fourth, _) = customers
    con.execute(
        "create table suppressions (user_id varchar, email varchar, email_sha256 varchar, "
        "reason varchar, suppressed_at timestamp)"
    )
    con.execute(
        "insert into suppressions values (?, null, null, 'complaint', '2026-01-01'), "
        "(null, ?, null, 'legal hold', null), (null, null, 'xyz', 'typo', null)",
        [first, second_email],
    )
    con.execute(
        "create table sends (user_id varchar, channel varchar, sent_at timestamp, "
        "campaign_id varchar)"
    )
    con.execute(
        "insert into sends values (?, 'email', ?::timestamp - interval 1 day, 'sms-1'), "
        "(?, 'email', ?::timestamp - interval 1 day, 'sms-1'), (?, 'fax', ?, 'x')",
        [third, str(clock), fourth, str(clock), third, str(clock)],
    )
    con.execute(f"copy suppressions to '{data_dir / 'suppression_list.parquet'}' (format parquet)")
    con.execute(f"copy sends to '{data_dir / 'send_log.parquet'}' (format parquet)")
    con.close()
