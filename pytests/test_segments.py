"""Segments, consent and privacy on generated data, checked from outside dbt."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from pathlib import Path

import duckdb

from conftest import BUILD, Build, connect_built, project_var
from microseg.export import export
from microseg.project import run_dbt
from microseg.rules import catalogue_entries


def test_segment_sizes_and_primary_segments_add_up(demo_build: Build) -> None:
    assert demo_build.result.success, demo_build.result.failures
    with demo_build.connect() as con:
        mismatched = con.execute(
            """
            select
                dim_segments.segment_key, dim_segments.member_count, count(memberships.person_key)
            from dim_segments
            left join fct_segment_memberships as memberships using (segment_key)
            group by 1, 2
            having dim_segments.member_count != count(memberships.person_key)
            """
        ).fetchall()
        persons, primaries, placed = con.execute(
            "select (select count(*) from dim_persons), "
            "(select sum(primary_member_count) from dim_segments), "
            "(select count(*) from dim_persons)"
        ).fetchone()
    assert mismatched == []
    assert persons == primaries == placed


def test_sync_tables_carry_only_activatable_segments_on_their_channel(demo_build: Build) -> None:
    with demo_build.connect() as con:
        for table, channel in [("sync_email_audiences", "email"), ("sync_ad_audiences", "ads")]:
            wrong = con.execute(
                f"""
                select distinct synced.segment_key
                from {table} as synced
                inner join dim_segments using (segment_key)
                where not is_activatable or ',' || channels || ',' not like '%,{channel},%'
                """
            ).fetchall()
            assert wrong == [], table


def test_hashed_identifiers_are_normalised_sha256(demo_build: Build) -> None:
    salt = os.environ["MICROSEG_HASH_SALT"]
    with demo_build.connect() as con:
        rows = con.execute(
            """
            select customers.email, ads.email_sha256_unsalted, emails.email_sha256_salted
            from sync_ad_audiences as ads
            inner join fct_segment_memberships as memberships
                on ads.audience_member_id = sha256($salt || memberships.membership_id)
            inner join dim_persons as features using (person_key)
            inner join stg_crm__customers as customers using (user_id)
            left join sync_email_audiences as emails using (user_id)
            """,
            {"salt": salt},
        ).fetchall()
    assert rows
    for email, unsalted, salted in rows:
        normalised = email.strip().lower()
        assert unsalted == hashlib.sha256(normalised.encode()).hexdigest()
        if salted is not None:
            assert salted == hashlib.sha256((salt + normalised).encode()).hexdigest()


def test_holdout_is_the_md5_bucket_and_near_the_configured_share(demo_build: Build) -> None:
    percent = project_var("microseg__holdout_percent")
    with demo_build.connect() as con:
        rows = con.execute(
            "select membership_id, is_holdout from fct_segment_memberships where not is_fallback"
        ).fetchall()
    for membership_id, is_holdout in rows:
        bucket = int(hashlib.md5(membership_id.encode()).hexdigest()[:8], 16) % 100
        assert is_holdout == (bucket < percent), membership_id
    share, n = sum(h for _, h in rows) / len(rows), len(rows)
    sigma = (percent / 100 * (1 - percent / 100) / n) ** 0.5
    assert abs(share - percent / 100) < 4 * sigma


def test_export_writes_upload_lists_without_raw_emails_or_holdouts(
    demo_build: Build, tmp_path: Path
) -> None:
    # This build is too small to pass the gate, so it was never published: export the audit copy.
    written = export(demo_build.db_path, tmp_path, "csv", schema="main_marts")
    with demo_build.connect() as con:
        expected = dict(
            con.execute("select segment_key, count(*) from sync_ad_audiences group by 1").fetchall()
        )
    assert expected
    for segment, rows in expected.items():
        assert written[f"meta_custom_audiences/{segment}.csv"] == rows
        with (tmp_path / "meta_custom_audiences" / f"{segment}.csv").open() as handle:
            reader = csv.reader(handle)
            assert next(reader) == ["email", "country"]
            assert all(len(row[0]) == 64 for row in reader)
    for path in tmp_path.rglob("*.csv"):
        assert "@" not in path.read_text(), path


def test_withdrawn_consent_removes_the_person_from_email_audiences(
    demo_build: Build, tmp_path: Path
) -> None:
    """A consent withdrawal arriving after the last build takes the user out of every e-mail
    audience on the next build, and the snapshot records the exit."""
    with demo_build.connect() as con:
        user_id, as_of = con.execute(
            "select user_id, (select max(evaluated_at) from fct_segment_memberships) "
            "from sync_email_audiences order by user_id limit 1"
        ).fetchone()
    data_dir, db_path = tmp_path / "data", tmp_path / "microseg.duckdb"
    shutil.copytree(demo_build.data_dir, data_dir)
    shutil.copy(demo_build.db_path, db_path)
    consents = data_dir / "consents.parquet"
    duckdb.connect().execute(
        f"""
        copy (
            select * from '{consents}'
            union all by name
            select '{user_id}' as user_id, 'email_marketing' as purpose, false as is_granted,
                timestamp '{as_of}' as recorded_at, 'preference_center' as source
        ) to '{tmp_path / "consents.parquet"}' (format parquet)
        """
    )
    shutil.move(tmp_path / "consents.parquet", consents)
    result = run_dbt(BUILD, data_dir=data_dir, db_path=db_path, as_of=str(as_of))
    assert result.success, result.failures
    with connect_built(db_path) as con:
        still_synced = con.execute(
            f"select count(*) from sync_email_audiences where user_id = '{user_id}'"
        ).fetchone()[0]
        has_consent = con.execute(
            f"select has_consent_email_marketing from dim_persons where user_id = '{user_id}'"
        ).fetchone()[0]
    assert not has_consent
    assert still_synced == 0


def test_every_shipped_segment_is_populated_and_activatable_on_demo_data(
    demo_sized_build: Build,
) -> None:
    assert demo_sized_build.result.success, demo_sized_build.result.failures
    with demo_sized_build.connect() as con:
        segments = con.execute(
            "select segment_key, member_count, is_activatable from dim_segments "
            "where not is_fallback"
        ).fetchall()
    shipped = {entry["key"] for entry in catalogue_entries({})}
    assert {key for key, _, _ in segments} == shipped
    assert [key for key, members, _ in segments if members == 0] == []
    assert [key for key, _, activatable in segments if not activatable] == []


def test_rebuild_at_a_recorded_clock_rewinds_the_membership_history(
    demo_build: Build, tmp_path: Path
) -> None:
    """A catalogue change rebuilt on the same data (the same as-of clock) replaces that
    clock's history instead of failing on two versions with one dbt_scd_id."""
    with demo_build.connect() as con:
        as_of, previous = con.execute(
            "select max(evaluated_at), count(*) from fct_segment_memberships"
        ).fetchone()
    db_path = tmp_path / "microseg.duckdb"
    shutil.copy(demo_build.db_path, db_path)
    result = run_dbt(
        ["build", "--select", "int_segment_memberships_evaluated+"],
        data_dir=demo_build.data_dir,
        db_path=db_path,
        as_of=str(as_of),
        extra_vars={"microseg__min_interactions": 1},
    )
    assert result.success, result.failures
    with connect_built(db_path) as con:
        current = con.execute("select count(*) from fct_segment_memberships").fetchone()[0]
        open_versions, changes_at_clock = con.execute(
            f"""
            select
                count(case when dbt_valid_to is null and dbt_is_deleted != 'True' then 1 end),
                count(case when dbt_valid_from = timestamp '{as_of}' then 1 end)
            from snap_segment_memberships
            """
        ).fetchone()
    assert current > previous, "fewer required interactions admit more members"
    assert open_versions == current
    assert changes_at_clock == current, "one version per membership at the rebuilt clock"
