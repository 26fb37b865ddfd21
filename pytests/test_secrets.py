"""The hash salt never reaches a file the build writes; the ids leaving the warehouse are salted.

One small build with a distinctive salt in MICROSEG_HASH_SALT, the quality gate on it, and a
few re-runs of the sync tables (another salt, the same salt again, no salt, a short salt).
Then every file the build wrote (data, database and its WAL, target/ with the compiled and run
SQL, manifest, run_results and partial_parse.msgpack, the GX output, dbt's logs/ beside it)
and any target/ in the project are searched for both salts' bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD, connect_built
from microseg import project
from microseg.cli import main
from microseg.generate import GeneratorConfig, generate
from microseg.project import DbtResult, dev_salt_path, ensure_hash_salt, project_dir, run_dbt

pytestmark = [
    pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning"),
    pytest.mark.filterwarnings("ignore:urllib3 .* doesn.t match a supported version"),
]

# Distinctive, so that a match can only be a leak of this test's salts.
SALT = f"salt-under-test-{secrets.token_hex(12)}"
OTHER_SALT = f"other-salt-under-test-{secrets.token_hex(12)}"
SYNC_TABLES = ("sync_email_audiences", "sync_ad_audiences")
SYNC_SELECTION = ["--select", " ".join(SYNC_TABLES)]
GUARD_MESSAGES = {
    "without_salt": "MICROSEG_HASH_SALT is not set: export MICROSEG_HASH_SALT=",
    "short_salt": "MICROSEG_HASH_SALT is shorter than 16 characters",
}


@dataclass
class SaltedBuild:
    root: Path
    db_path: Path
    started: float
    ids: dict[str, dict[str, set[str]]]  # run -> sync table -> audience_member_id
    without_salt: str  # what dbt said when asked to run sync_ad_audiences
    short_salt: str


def _member_ids(db_path: Path) -> dict[str, set[str]]:
    with connect_built(db_path) as con:
        return {
            table: {
                row[0] for row in con.execute(f"select audience_member_id from {table}").fetchall()
            }
            for table in SYNC_TABLES
        }


def _failure(result: DbtResult) -> str:
    """What dbt said: the run stops at its start (on-run-start require_hash_salt), before
    any model runs."""
    assert not result.success
    assert result.counts == {}
    assert result.failures[0][0] == "dbt"
    return result.failures[0][2]


@pytest.fixture(scope="module")
def salted_build(tmp_path_factory: pytest.TempPathFactory) -> SaltedBuild:
    root = tmp_path_factory.mktemp("secrets")
    config_home = tmp_path_factory.mktemp("config")  # outside `root`: not scanned
    started = time.time()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(config_home))
        patch.setenv("MICROSEG_HASH_SALT", SALT)
        manifest = generate(GeneratorConfig(events=3000, seed=5), root / "data")
        db_path = root / "microseg.duckdb"

        def dbt(args: list[str]) -> DbtResult:
            return run_dbt(
                args, data_dir=root / "data", db_path=db_path, as_of=str(manifest["last_event_at"])
            )

        built = dbt(BUILD)
        assert built.success, built.failures
        main(["validate", "--db", str(db_path)])  # its verdict does not matter here
        ids = {"salt": _member_ids(db_path)}

        patch.setenv("MICROSEG_HASH_SALT", OTHER_SALT)
        assert dbt(["run", *SYNC_SELECTION]).success
        ids["other salt"] = _member_ids(db_path)

        # No dev salt either: a plain dbt run without the variable.
        patch.setattr(project, "ensure_hash_salt", lambda *_: None)
        patch.delenv("MICROSEG_HASH_SALT")
        without_salt = _failure(dbt(["run", "--select", "sync_ad_audiences"]))
        patch.setenv("MICROSEG_HASH_SALT", "too-short")
        short_salt = _failure(dbt(["run", "--select", "sync_ad_audiences"]))

        patch.setenv("MICROSEG_HASH_SALT", SALT)
        assert dbt(["run", *SYNC_SELECTION]).success
        ids["salt again"] = _member_ids(db_path)
    return SaltedBuild(root, db_path, started, ids, without_salt, short_salt)


def _files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            content = path.read_bytes()
            found += [f"{path}: {needle.decode()}" for needle in needles if needle in content]
    return found


def test_the_salt_is_in_no_file_the_build_writes(salted_build: SaltedBuild) -> None:
    needles = [SALT.encode(), OTHER_SALT.encode()]
    logs = salted_build.root / "logs"  # dbt's log beside the database (microseg.project)
    # The search covers what dbt wrote: its log, and the SQL it compiled and ran.
    assert (logs / "dbt.log").stat().st_mtime >= salted_build.started
    target = salted_build.root / "target"
    for kind in ("compiled", "run"):
        compiled = next((target / kind).rglob("sync_ad_audiences.sql")).read_text()
        assert "getvariable('microseg_hash_salt')" in compiled, kind
    for name in ("manifest.json", "run_results.json", "partial_parse.msgpack"):
        assert (target / name).is_file(), name
    assert (salted_build.root / "gx").is_dir()

    leaks = _files_holding(salted_build.root, needles) + _files_holding(logs, needles)
    parse_cache = Path(os.environ["MICROSEG_PARSE_CACHE"])  # every test's parsed project
    assert any(parse_cache.glob("*.msgpack"))
    for other_target in [project_dir() / "target", project_dir() / "build" / "target", parse_cache]:
        if other_target.is_dir():
            leaks += _files_holding(other_target, needles)
    with duckdb.connect(str(salted_build.db_path)) as con:
        con.execute("checkpoint")
    leaks += _files_holding(salted_build.root, needles)
    assert leaks == []


def test_audience_member_ids_are_salted_hashes_of_the_membership(salted_build: SaltedBuild) -> None:
    with connect_built(salted_build.db_path) as con:
        memberships = [
            row[0]
            for row in con.execute("select membership_id from fct_segment_memberships").fetchall()
        ]
        raw_ids = {
            row[0]
            for query in (
                "select person_key from fct_segment_memberships",
                "select user_id from stg_crm__customers",
                "select anonymous_id from stg_tracking__events",
                "select user_id from stg_tracking__events",
            )
            for row in con.execute(query).fetchall()
            if row[0]
        }
    expected = {
        hashlib.sha256((SALT + membership).encode()).hexdigest() for membership in memberships
    }
    # The small build's e-mail audiences may be empty (no segment big enough); its ad lists not.
    assert salted_build.ids["salt"]["sync_ad_audiences"]
    for table, ids in salted_build.ids["salt"].items():
        assert all(re.fullmatch("[0-9a-f]{64}", member) for member in ids), table
        assert ids <= expected, table
        carrying = [(member, raw) for member in ids for raw in raw_ids if raw in member]
        assert carrying == [], table


def test_audience_member_ids_are_stable_and_change_with_the_salt(salted_build: SaltedBuild) -> None:
    ids = salted_build.ids
    assert ids["salt again"] == ids["salt"]
    for table in SYNC_TABLES:
        assert len(ids["other salt"][table]) == len(ids["salt"][table])
        assert ids["other salt"][table].isdisjoint(ids["salt"][table]), table


@pytest.mark.parametrize("case", ["without_salt", "short_salt"])
def test_a_run_without_a_proper_salt_fails_with_a_clear_message(
    salted_build: SaltedBuild, case: str
) -> None:
    assert GUARD_MESSAGES[case] in getattr(salted_build, case)


def test_the_dev_salt_is_kept_outside_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not dev_salt_path().resolve().is_relative_to(project_dir().resolve())
    # setenv first, so that teardown restores the variables whatever ensure_hash_salt sets.
    for name in ("MICROSEG_HASH_SALT", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dev_salt_path() == tmp_path / "home" / ".config" / "microseg" / "hash_salt"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = tmp_path / "config" / "microseg" / "hash_salt"
    assert dev_salt_path() == path

    ensure_hash_salt()
    salt = os.environ["MICROSEG_HASH_SALT"]
    assert len(salt) >= 32
    assert path.read_text().strip() == salt
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not path.resolve().is_relative_to(project_dir())

    monkeypatch.delenv("MICROSEG_HASH_SALT")
    ensure_hash_salt()
    assert os.environ["MICROSEG_HASH_SALT"] == salt  # stable: ids and holdouts keep

    monkeypatch.delenv("MICROSEG_HASH_SALT")
    inside = project_dir() / "build" / f"config-{secrets.token_hex(4)}"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(inside))
    with pytest.raises(RuntimeError, match="inside the project"):
        ensure_hash_salt()
    assert not inside.exists()


def test_emulated_snowflake_reads_the_salt_from_its_secure_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.fakesnow_shim import compile_inline, emulated_snowflake

    monkeypatch.setenv("MICROSEG_HASH_SALT", SALT)
    with emulated_snowflake() as connection:
        compiled = compile_inline(
            "select {{ microseg.salted_hash(\"'x'\") }}", target_path=tmp_path / "target"
        )
        assert SALT not in compiled
        assert "microseg.microseg_secrets.hash_salt()" in compiled.lower()
        value = connection.cursor().execute(compiled).fetchone()[0]
    assert value == hashlib.sha256((SALT + "x").encode()).hexdigest()
    assert _files_holding(tmp_path, [SALT.encode()]) == []
