"""Consent fails closed, end to end: a consent record that cannot be read withdraws.

Small generated data is built once as it comes (the raw `is_granted` is a boolean), and the
persons then activated are picked. Their consent log is extended with withdrawals that the
pipeline must honour whatever their spelling or defect (`revoked`, `withdrawn`, an empty
string, unknown text, null, a withdrawal at the same instant as the grant, a record with an
unknown purpose, a record without a time), the whole `is_granted` column rewritten as text,
and everything is built again, validated, published (or, when the quality gate refuses small
data, read from the audit schema) and exported. None of those persons may be in a sync table
or an exported file, by user id or by e-mail hash; a person whose grant came after an
unreadable record stays activated.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import connect_built, project_var
from microseg.cli import main
from microseg.export import export
from microseg.generate import GeneratorConfig, generate
from microseg.project import DbtResult, run_dbt

SALT = "consent-fails-closed-test-salt"
CHANNEL_PURPOSES: dict[str, str] = project_var("microseg__channel_consent_purposes")
SYNC_TABLES = ("sync_email_audiences", "sync_ad_audiences", "sync_crm_traits")


@dataclass(frozen=True)
class Case:
    """Withdrawal records injected for one activated person, one per granted channel purpose
    (or one for every purpose, for an unknown purpose), and the fail-closed reason expected
    in stg_crm__consent_states for those purposes (None: a clean, explicit withdrawal)."""

    name: str
    value: str | None
    when: str  # after (the grant), same_instant, undated
    purpose: str | None = None  # None: the grant's own purpose
    reason: str | None = "invalid_value"


WITHDRAWALS = (
    Case("revoked", "revoked", "after", reason=None),
    Case("withdrawn", " Withdrawn ", "after", reason=None),
    Case("empty", "", "after"),
    Case("nonsense", "nonsense", "after"),
    Case("null", None, "after"),
    Case("same_instant_revoked", "revoked", "same_instant", reason=None),
    Case("same_instant_unreadable", "n/a", "same_instant"),
    Case("unknown_purpose", "true", "after", purpose="Newsletter", reason="unknown_purpose"),
    Case("missing_timestamp", "granted", "undated", reason="missing_timestamp"),
)
RESTORED = "restored"


@dataclass
class Person:
    user_id: str
    email: str
    channels: set[str]
    grants: dict[str, datetime]  # channel purpose -> time of the grant in force

    @property
    def salted(self) -> str:
        return hashlib.sha256((SALT + self.email.strip().lower()).encode()).hexdigest()

    @property
    def unsalted(self) -> str:
        return hashlib.sha256(self.email.strip().lower().encode()).hexdigest()


@dataclass
class Scenario:
    root: Path
    before_db: Path
    after_db: Path
    after: DbtResult
    raw_type: str
    persons: dict[str, Person]  # case name -> person
    published: bool
    export_dir: Path


def _activated(con: duckdb.DuckDBPyConnection) -> dict[str, Person]:
    """Persons in at least one sync table, with their channels and the grants in force."""
    rows = con.execute(
        """
        with activated as (
            select user_id, 'email' as channel from main_marts.sync_email_audiences
            union
            select user_id, 'crm' from main_marts.sync_crm_traits
            union
            select customers.user_id, 'ads'
            from main_marts.sync_ad_audiences as ads
            inner join main_staging.stg_crm__customers as customers
                on ads.email_sha256_unsalted = sha256(lower(trim(customers.email)))
        )
        select activated.user_id, customers.email, list(distinct activated.channel)
        from activated
        inner join main_staging.stg_crm__customers as customers using (user_id)
        group by 1, 2
        order by count(distinct activated.channel) desc, 1
        """
    ).fetchall()
    grants = con.execute(
        "select user_id, purpose, decided_at from main_staging.stg_crm__consent_states "
        "where is_granted"
    ).fetchall()
    persons = {
        user_id: Person(user_id, email, set(channels), {}) for user_id, email, channels in rows
    }
    for user_id, purpose, decided_at in grants:
        if user_id in persons and purpose in CHANNEL_PURPOSES.values():
            persons[user_id].grants[purpose] = decided_at
    return persons


def _between(start: datetime, end: datetime, fraction: float = 0.5) -> datetime:
    return start + (end - start) * fraction if end > start else start


def _injected_rows(persons: dict[str, Person], as_of: datetime) -> list[tuple]:
    """(user_id, purpose, is_granted as text, recorded_at, source) rows to add to the log."""
    rows = []

    def record(person: Person, purpose: str, value: str | None, at: datetime | None) -> None:
        rows.append((person.user_id, purpose, value, at, "preference_center"))

    for case in WITHDRAWALS:
        person = persons[case.name]
        if case.purpose is not None:
            record(person, case.purpose, case.value, _between(max(person.grants.values()), as_of))
            continue
        for purpose, granted_at in person.grants.items():
            at = {
                "after": _between(granted_at, as_of),
                "same_instant": granted_at,
                "undated": None,
            }
            record(person, purpose, case.value, at[case.when])
    restored = persons[RESTORED]
    for purpose, granted_at in restored.grants.items():
        record(restored, purpose, "nonsense", _between(granted_at, as_of, 1 / 3))
        record(restored, purpose, "Opt-In", _between(granted_at, as_of, 2 / 3))
    return rows


def _rewrite_consents(consents: Path, rows: list) -> None:
    """The consent log as text: every original row (its flag cast to VARCHAR) plus `rows`."""
    con = duckdb.connect()
    con.execute(
        "create table injected (user_id varchar, purpose varchar, is_granted varchar, "
        "recorded_at timestamp, source varchar)"
    )
    con.executemany("insert into injected values (?, ?, ?, ?, ?)", rows)
    rewritten = consents.with_name("consents_rewritten.parquet")
    con.execute(
        f"""
        copy (
            select user_id, purpose, cast(is_granted as varchar) as is_granted, recorded_at,
                source
            from read_parquet('{consents}')
            union all
            select * from injected
        ) to '{rewritten}' (format parquet)
        """
    )
    con.close()
    rewritten.replace(consents)


def _raw_type(consents: Path) -> str:
    con = duckdb.connect()
    try:
        columns = con.execute(f"describe select * from '{consents}'").fetchall()
        return {name: kind for name, kind, *_ in columns}["is_granted"]
    finally:
        con.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("consent_fails_closed")
    with pytest.MonkeyPatch.context() as env:
        # One known salt for both builds, so that salted e-mail hashes can be looked for.
        env.setenv("MICROSEG_HASH_SALT", SALT)
        data_dir = root / "data"
        manifest = generate(GeneratorConfig(events=20_000, seed=3), data_dir)
        as_of = str(manifest["last_event_at"])
        raw_type = _raw_type(data_dir / "consents.parquet")

        before_db = root / "before" / "microseg.duckdb"
        # Only a reference for who is activated: the build under test is the second one.
        before = run_dbt(
            ["build", "--exclude-resource-type", "test", "unit_test"],
            data_dir=data_dir,
            db_path=before_db,
            as_of=as_of,
        )
        assert before.success, before.failures
        with connect_built(before_db) as con:
            activated = _activated(con)
        # The persons active on the most channels, one per case.
        names = [case.name for case in WITHDRAWALS] + [RESTORED]
        candidates = [person for person in activated.values() if person.grants]
        assert len(candidates) >= len(names), "too few activated persons in the first build"
        persons = dict(zip(names, candidates, strict=False))

        _rewrite_consents(
            data_dir / "consents.parquet",
            _injected_rows(persons, datetime.fromisoformat(as_of)),
        )
        after_db = root / "after" / "microseg.duckdb"
        after = run_dbt(["build"], data_dir=data_dir, db_path=after_db, as_of=as_of)

        published = False
        export_dir = root / "export"
        if after.success:
            main(["validate", "--db", str(after_db)])
            published = main(["publish", "--db", str(after_db)]) == 0
            if published:
                assert main(["export", "--db", str(after_db), "--out", str(export_dir)]) == 0
            else:
                # Tiny data fails the segment minimum sizes: export the audit copies instead.
                export(after_db, export_dir, "csv", schema="main_marts")
        yield Scenario(root, before_db, after_db, after, raw_type, persons, published, export_dir)


def _withdrawn(scenario: Scenario) -> list[Person]:
    return [scenario.persons[case.name] for case in WITHDRAWALS]


def _synced_identifiers(db_path: Path) -> dict[str, set[str]]:
    """Every user id and e-mail hash in the sync tables of the audit schema."""
    with connect_built(db_path) as con:
        return {
            "user_id": {
                row[0]
                for table in ("sync_email_audiences", "sync_crm_traits")
                for row in con.execute(f"select user_id from main_marts.{table}").fetchall()
            },
            "salted": {
                row[0]
                for table in ("sync_email_audiences", "sync_crm_traits")
                for row in con.execute(
                    f"select email_sha256_salted from main_marts.{table}"
                ).fetchall()
            },
            "unsalted": {
                row[0]
                for row in con.execute(
                    "select email_sha256_unsalted from main_marts.sync_ad_audiences"
                ).fetchall()
            },
        }


def test_the_pipeline_reads_a_text_flag_and_builds_with_every_test(scenario: Scenario) -> None:
    assert scenario.raw_type in {"BOOLEAN", "VARCHAR"}  # the generator writes a boolean
    assert _raw_type(scenario.root / "data" / "consents.parquet") == "VARCHAR"
    assert scenario.after.success, scenario.after.failures
    assert not scenario.after.failures
    with connect_built(scenario.after_db) as con:
        raw, clean, quarantined, duplicates = con.execute(
            f"""
            select
                (select count(*) from '{scenario.root / "data" / "consents.parquet"}'),
                (select count(*) from main_staging.stg_crm__consents),
                (select count(*) from main_staging.stg_crm__consents_quarantined),
                (select count(*) from main_staging.base_crm__consents
                 where row_status = 'duplicate')
            """
        ).fetchone()
    assert raw == clean + quarantined + duplicates


def test_chosen_persons_were_activated_before(scenario: Scenario) -> None:
    before = _synced_identifiers(scenario.before_db)
    for person in [*_withdrawn(scenario), scenario.persons[RESTORED]]:
        assert person.grants, person
        # The hashes computed here are the ones the sync tables hold.
        assert (
            person.user_id in before["user_id"] and person.salted in before["salted"]
        ) or person.unsalted in before["unsalted"], person


@pytest.mark.parametrize("case", WITHDRAWALS, ids=lambda case: case.name)
def test_the_withdrawal_is_in_force(scenario: Scenario, case: Case) -> None:
    person = scenario.persons[case.name]
    with connect_built(scenario.after_db) as con:
        states = {
            purpose: (is_granted, reason)
            for purpose, is_granted, reason in con.execute(
                "select purpose, is_granted, fail_closed_reason "
                "from main_staging.stg_crm__consent_states where user_id = ?",
                [person.user_id],
            ).fetchall()
        }
        features = con.execute(
            "select "
            + ", ".join(f"has_consent_{purpose}" for purpose in CHANNEL_PURPOSES.values())
            + " from main_marts.dim_persons where user_id = ?",
            [person.user_id],
        ).fetchone()
    assert {purpose: states[purpose] for purpose in person.grants} == dict.fromkeys(
        person.grants, (False, case.reason)
    )
    if case.purpose is not None:  # an unknown purpose withdraws every purpose
        purposes = project_var("microseg__consent_purposes")
        assert {purpose: states[purpose][0] for purpose in purposes} == dict.fromkeys(
            purposes, False
        )
    assert features == tuple(False for _ in CHANNEL_PURPOSES)


def test_no_withdrawn_person_is_in_any_sync_table(scenario: Scenario) -> None:
    synced = _synced_identifiers(scenario.after_db)
    leaked = {
        person.user_id: case
        for case, person in zip(WITHDRAWALS, _withdrawn(scenario), strict=True)
        if person.user_id in synced["user_id"]
        or person.salted in synced["salted"]
        or person.unsalted in synced["unsalted"]
    }
    assert leaked == {}


def _exported_values(folder: Path) -> set[str]:
    files = sorted(folder.rglob("*.csv"))
    assert any(path.name == "sync_email_audiences.csv" for path in files), files
    values: set[str] = set()
    for path in files:
        with path.open(newline="") as handle:
            for row in csv.reader(handle):
                values.update(row)
    return values


def test_no_withdrawn_person_is_in_any_exported_file(scenario: Scenario) -> None:
    exported = _exported_values(scenario.export_dir)
    leaked = [
        (person.user_id, identifier)
        for person in _withdrawn(scenario)
        for identifier in (person.user_id, person.salted, person.unsalted)
        if identifier in exported
    ]
    assert leaked == []


def test_a_grant_after_an_unreadable_record_restores_consent(scenario: Scenario) -> None:
    person = scenario.persons[RESTORED]
    with connect_built(scenario.after_db) as con:
        states = dict(
            con.execute(
                "select purpose, is_granted from main_staging.stg_crm__consent_states "
                "where user_id = ?",
                [person.user_id],
            ).fetchall()
        )
        quarantined = con.execute(
            "select count(*) from main_staging.stg_crm__consents_quarantined "
            "where user_id = ? and quarantine_reason = 'invalid_value'",
            [person.user_id],
        ).fetchone()[0]
    assert quarantined == len(person.grants)
    assert {purpose: states[purpose] for purpose in person.grants} == dict.fromkeys(
        person.grants, True
    )
    after = _synced_identifiers(scenario.after_db)
    exported = _exported_values(scenario.export_dir)
    if "email" in person.channels or "crm" in person.channels:
        assert person.user_id in after["user_id"] and person.user_id in exported
        assert person.salted in after["salted"] and person.salted in exported
    if "ads" in person.channels:
        assert person.unsalted in after["unsalted"] and person.unsalted in exported
