"""The destination-shaped sync tables and upload files, on the demo build: each platform's
identifier recomputed here from staging with its documented normalisation (hashlib, not
the warehouse), consent signals that say GRANTED only over a current grant, semicolons for
CRM multi-selects, and upload headers exactly as the platforms' templates name them
(docs/destinations.md cites each)."""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import pytest
import yaml

from conftest import Build
from microseg.export import (
    GOOGLE_CUSTOMER_MATCH,
    HUBSPOT_CONTACTS,
    META_CUSTOM_AUDIENCES,
    export,
)
from microseg.project import ensure_hash_salt, project_dir
from microseg.rules import KEY_PATTERN

# The header names of each platform's customer-list template (docs/destinations.md).
GOOGLE_TEMPLATE_HEADERS = ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
META_IDENTIFIER_HEADERS = [
    "email", "phone", "madid", "fn", "ln", "zip", "ct", "st", "country",
    "dob", "doby", "gen", "age", "uid", "value",
]  # fmt: skip
HUBSPOT_HEADERS = [
    "microseg_user_id", "microseg_segments", "microseg_holdout_segments",
    "microseg_primary_segment", "microseg_rfm_class", "microseg_lifecycle_stage",
    "microseg_journey_stage", "microseg_top_interest", "microseg_offer_tier",
]  # fmt: skip
UNIT_TESTS = (
    "google_customer_match_normalises_emails_and_maps_consent",
    "google_customer_match_consent_follows_the_configured_purposes",
    "meta_custom_audiences_take_lowercase_two_letter_countries",
)


def google_email(email: str) -> str:
    """Google's normalisation (Data Manager API, "Format user data"): lowercase, no
    whitespace anywhere, no dots before the @ of a gmail.com or googlemail.com address."""
    cleaned = "".join(email.split()).lower()
    local, _, domain = cleaned.rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
    return f"{local}@{domain}"


def meta_email(email: str) -> str:
    """Meta's normalisation (Customer File Custom Audiences): trimmed, lowercase."""
    return email.strip().lower()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def members(demo_build: Build) -> dict[str, list[dict]]:
    """The rows of each ad list with the member's e-mail, consent and holdout flag, found
    through the membership's salted id (recomputed here) and staging."""
    ensure_hash_salt()
    salt = os.environ["MICROSEG_HASH_SALT"]
    with demo_build.connect() as con:
        memberships = {
            sha256(salt + membership_id): (person_key, is_holdout)
            for membership_id, person_key, is_holdout in con.execute(
                "select membership_id, person_key, is_holdout from fct_segment_memberships"
            ).fetchall()
        }
        emails = dict(
            con.execute(
                "select persons.person_key, customers.email from dim_persons as persons "
                "inner join stg_crm__customers as customers on persons.user_id = customers.user_id"
            ).fetchall()
        )
        grants: dict[str, set[str]] = {}
        for person_key, purpose in con.execute(
            "select persons.person_key, consents.purpose from dim_persons as persons "
            "inner join stg_crm__consents as consents on persons.user_id = consents.user_id "
            "where consents.is_current and consents.is_granted"
        ).fetchall():
            grants.setdefault(person_key, set()).add(purpose)
        tables = {}
        for table in ("sync_google_customer_match", "sync_meta_custom_audiences"):
            cursor = con.execute(f"select * from {table}")
            names = [column[0] for column in cursor.description]
            tables[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for rows in tables.values():
        for row in rows:
            person_key, is_holdout = memberships[row["audience_member_id"]]
            row.update(
                person_key=person_key,
                is_holdout=is_holdout,
                email=emails[person_key],
                grants=grants.get(person_key, set()),
            )
    return tables


def test_google_hashes_follow_googles_normalisation(members: dict) -> None:
    rows = members["sync_google_customer_match"]
    assert rows
    for row in rows:
        assert row["email_sha256_google"] == sha256(google_email(row["email"])), row["email"]


def test_meta_hashes_and_countries_follow_metas_formats(members: dict, demo_build: Build) -> None:
    rows = members["sync_meta_custom_audiences"]
    assert rows
    for row in rows:
        assert row["email_sha256_unsalted"] == sha256(meta_email(row["email"]))
        assert row["country_code"] is None or (
            len(row["country_code"]) == 2 and row["country_code"] == row["country_code"].lower()
        )
    with demo_build.connect() as con:
        ads = {
            row[0]
            for row in con.execute("select audience_member_id from sync_ad_audiences").fetchall()
        }
    # The same members as sync_ad_audiences, so the contact policy holds for both.
    assert {row["audience_member_id"] for row in rows} == ads
    assert {row["audience_member_id"] for row in members["sync_google_customer_match"]} == ads


def test_the_gmail_rule_is_googles_alone() -> None:
    """Dots before the @ go for Gmail addresses only, and only at Google; the build's unit
    tests give the same inputs to the SQL, and their expected hashes are these."""
    assert google_email(" J.Doe+Ads@GMail.com ") == "jdoe+ads@gmail.com"
    assert google_email("j.doe@googlemail.com") == "jdoe@googlemail.com"
    assert google_email("J.Doe@example.com") == "j.doe@example.com"
    assert meta_email(" J.Doe@GMail.com ") == "j.doe@gmail.com"
    units = yaml.safe_load(
        (project_dir() / "models/activation/_activation__models.yml").read_text()
    )
    first = next(u for u in units["unit_tests"] if u["name"] == UNIT_TESTS[0])
    given = {entry["input"]: entry["rows"] for entry in first["given"]}
    emails = {row["user_id"]: row["email"] for row in given["ref('stg_crm__customers')"]}
    expected = {row["email_sha256_google"] for row in first["expect"]["rows"]}
    assert expected == {sha256(google_email(emails[user])) for user in ("1", "2", "3", "4")}


def test_the_build_ran_the_destination_unit_tests(demo_build: Build) -> None:
    ran = set(demo_build.result.timings)
    failed = {name for name, _, _ in demo_build.result.failures}
    for name in UNIT_TESTS:
        assert any(name in node for node in ran), name
        assert not any(name in node for node in failed), name


def test_google_consent_is_granted_only_over_a_current_grant(members: dict) -> None:
    """ad_user_data follows the ad-targeting grant, ad_personalization the personalisation
    grant (microseg__google_consent_purposes): GRANTED exactly when staging holds a current
    grant, DENIED otherwise; never UNSPECIFIED."""
    rows = members["sync_google_customer_match"]
    statuses = {(row["ad_user_data"], row["ad_personalization"]) for row in rows}
    assert statuses <= {("GRANTED", "GRANTED"), ("GRANTED", "DENIED")}
    assert len(statuses) == 2  # the demo has members of both kinds
    for row in rows:
        assert (row["ad_user_data"] == "GRANTED") == ("ad_targeting" in row["grants"])
        assert (row["ad_personalization"] == "GRANTED") == ("personalization" in row["grants"])


def test_no_holdout_member_is_on_an_ad_list(members: dict) -> None:
    for rows in members.values():
        assert not any(row["is_holdout"] for row in rows)


def test_crm_multi_selects_are_semicolon_separated(demo_build: Build) -> None:
    assert not KEY_PATTERN.fullmatch("a;b")  # no segment key can hold the separator
    with demo_build.connect() as con:
        rows = con.execute(
            "select segment_keys, holdout_segment_keys from sync_crm_traits"
        ).fetchall()
    assert any(";" in keys for keys, _ in rows)
    for keys, holdouts in rows:
        assert "," not in keys
        values = keys.split(";")
        assert values == sorted(values) and all(KEY_PATTERN.fullmatch(v) for v in values)
        assert set((holdouts or "").split(";")) - {""} <= set(values)


@pytest.fixture(scope="module")
def exported(demo_build: Build, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    # The demo build is too small to pass the gate: export the audit copies.
    out = tmp_path_factory.mktemp("destinations")
    return out, export(demo_build.db_path, out, "csv", schema="main_marts")


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def test_upload_headers_are_the_platforms_templates(exported: tuple[Path, dict]) -> None:
    out, _ = exported
    assert GOOGLE_CUSTOMER_MATCH.headers == ["Email"]
    assert set(GOOGLE_CUSTOMER_MATCH.headers) <= set(GOOGLE_TEMPLATE_HEADERS)
    assert META_CUSTOM_AUDIENCES.headers == ["email", "country"]
    assert set(META_CUSTOM_AUDIENCES.headers) <= set(META_IDENTIFIER_HEADERS)
    assert HUBSPOT_CONTACTS.headers == HUBSPOT_HEADERS
    folders = {"google_customer_match": ["Email"], "meta_custom_audiences": ["email", "country"]}
    for folder, headers in folders.items():
        files = sorted((out / folder).glob("*.csv"))
        assert files, folder
        for path in files:
            header, rows = _read(path)
            assert header == headers, path
            assert all(len(row[0]) == 64 and row[0] == row[0].lower() for row in rows)
    header, rows = _read(out / "hubspot" / "contacts.csv")
    assert header == HUBSPOT_HEADERS
    assert rows and all("," not in row[1] for row in rows)
    assert not (out / "ad_lists").exists()  # the old header matched no platform's template
    for path in out.rglob("*.csv"):
        assert "@" not in path.read_text(), path


def test_google_files_hold_only_members_with_both_signals_granted(
    exported: tuple[Path, dict], members: dict
) -> None:
    out, written = exported
    granted: dict[str, set[str]] = {}
    for row in members["sync_google_customer_match"]:
        granted.setdefault(row["segment_key"], set())
        if (row["ad_user_data"], row["ad_personalization"]) == ("GRANTED", "GRANTED"):
            granted[row["segment_key"]].add(row["email_sha256_google"])
    assert any(granted.values())
    for segment, hashes in granted.items():
        _, rows = _read(out / "google_customer_match" / f"{segment}.csv")
        assert {row[0] for row in rows} == hashes, segment
        assert written[f"google_customer_match/{segment}.csv"] == len(hashes)
