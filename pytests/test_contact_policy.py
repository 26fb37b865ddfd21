"""The contact policy on a copy of the demo build, with a suppression list and a send log
the generator never writes: suppressed people leave every activation table whichever
identifier names them, a recent send (or one whose time cannot be read) holds the person
back, entries that name nobody are quarantined, and every withheld member has a reason."""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest

from conftest import BUILD, Build, connect_built
from microseg.project import run_dbt

HOSTILE_REASON = "'); drop table main_marts.dim_persons; --"


@pytest.fixture(scope="module")
def policed(demo_build: Build, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("policy")
    shutil.copytree(demo_build.data_dir, root / "data")
    shutil.copy(demo_build.db_path, root / "microseg.duckdb")
    with connect_built(demo_build.db_path) as con:
        clock = con.execute("select max(evaluated_at) from fct_segment_memberships").fetchone()[0]
        email_users = [
            row[0]
            for row in con.execute(
                "select user_id from sync_email_audiences group by 1 order by 1 limit 5"
            ).fetchall()
        ]
        emails = dict(
            con.execute(
                "select user_id, email from stg_crm__customers where user_id in "
                f"({', '.join('?' * len(email_users))})",
                email_users,
            ).fetchall()
        )
    by_id, by_email, by_hash, capped, undated = email_users
    suppressions = pd.DataFrame(
        [
            {"user_id": by_id, "email": None, "email_sha256": None, "reason": "complaint"},
            {"user_id": None, "email": f"  {emails[by_email].upper()} ", "email_sha256": None,
             "reason": HOSTILE_REASON},
            {"user_id": None, "email": None,
             "email_sha256": " " + hashlib.sha256(emails[by_hash].encode()).hexdigest().upper(),
             "reason": None},
            {"user_id": None, "email": None, "email_sha256": None, "reason": "nobody"},
            {"user_id": None, "email": None, "email_sha256": "not-a-hash", "reason": "typo"},
        ]
    )  # fmt: skip
    suppressions["suppressed_at"] = pd.Timestamp("2026-01-01")
    sends = pd.DataFrame(
        [
            {"user_id": capped, "channel": "EMAIL", "sent_at": str(clock - timedelta(days=1)),
             "campaign_id": "newsletter"},
            {"user_id": undated, "channel": "email", "sent_at": "yesterday-ish",
             "campaign_id": "newsletter"},
            {"user_id": capped, "channel": "carrier_pigeon", "sent_at": str(clock),
             "campaign_id": "x"},
            {"user_id": None, "channel": "email", "sent_at": str(clock), "campaign_id": "x"},
        ]
    )  # fmt: skip
    with duckdb.connect() as con:
        for name, frame in (("suppression_list", suppressions), ("send_log", sends)):
            con.register("frame", frame)
            con.execute(f"copy frame to '{root / 'data' / name}.parquet' (format parquet)")
            con.unregister("frame")
    result = run_dbt(
        BUILD, data_dir=root / "data", db_path=root / "microseg.duckdb", as_of=str(clock)
    )
    return {
        "result": result,
        "db": root / "microseg.duckdb",
        "clock": clock,
        "suppressed": {by_id: "complaint", by_email: HOSTILE_REASON, by_hash: "unspecified"},
        "capped": capped,
        "undated": undated,
    }


def test_the_build_with_a_suppression_list_and_send_log_passes(policed: dict) -> None:
    assert policed["result"].success, policed["result"].failures


def test_suppressed_people_leave_every_activation_table(policed: dict) -> None:
    users = list(policed["suppressed"])
    marks = ", ".join("?" * len(users))
    with connect_built(policed["db"]) as con:
        for table in ("sync_email_audiences", "sync_crm_traits"):
            found = con.execute(
                f"select count(*) from {table} where user_id in ({marks})", users
            ).fetchone()[0]
            assert found == 0, table
        ads = con.execute(
            "select count(*) from fct_activation_withheld as w inner join dim_persons as p "
            f"on w.person_key = p.person_key where p.user_id in ({marks}) and w.channel = 'ads' "
            "and w.withheld_reason not in ('suppressed', 'segment_not_activatable', 'no_email', "
            "'no_consent')",
            users,
        ).fetchone()[0]
        assert ads == 0
        reasons = dict(
            con.execute(
                "select p.user_id, any_value(w.suppression_reason) from fct_activation_withheld "
                "as w inner join dim_persons as p on w.person_key = p.person_key "
                f"where w.withheld_reason = 'suppressed' and p.user_id in ({marks}) group by 1",
                users,
            ).fetchall()
        )
        assert reasons == policed["suppressed"]  # the hostile reason is data, nothing more
        assert con.execute("select count(*) from dim_persons").fetchone()[0] > 0


def test_entries_that_name_nobody_are_quarantined_and_counted(policed: dict) -> None:
    with connect_built(policed["db"]) as con:
        quarantined = dict(
            con.execute(
                "select quarantine_reason, count(*) from stg_privacy__suppressions_quarantined "
                "group by 1"
            ).fetchall()
        )
        assert quarantined == {"missing_id": 1, "invalid_email_sha256": 1}
        kept = con.execute("select count(*) from stg_privacy__suppressions").fetchone()[0]
        assert kept + sum(quarantined.values()) == 5  # raw = clean + quarantined
        sends = dict(
            con.execute(
                "select quarantine_reason, count(*) from stg_sends__contacts_quarantined group by 1"
            ).fetchall()
        )
        assert sends == {"unknown_channel": 1, "missing_id": 1}


def test_a_recent_or_undatable_send_holds_the_person_back(policed: dict) -> None:
    clock: datetime = policed["clock"]
    with connect_built(policed["db"]) as con:
        for user in (policed["capped"], policed["undated"]):
            synced = con.execute(
                "select count(*) from sync_email_audiences where user_id = ?", [user]
            ).fetchone()[0]
            assert synced == 0, user
        rows = con.execute(
            "select p.user_id, w.withheld_reason, w.next_allowed_at from fct_activation_withheld "
            "as w inner join dim_persons as p on w.person_key = p.person_key "
            "where w.channel = 'email' and p.user_id in (?, ?) and w.withheld_reason in "
            "('frequency_cap', 'lower_priority')",
            [policed["capped"], policed["undated"]],
        ).fetchall()
    assert {user for user, *_ in rows} == {policed["capped"], policed["undated"]}
    allowed = {user: at for user, reason, at in rows if reason == "frequency_cap"}
    # 1 contact per 7 days: the dated send frees the person 7 days after it; an undatable
    # one counts as made at the clock.
    assert allowed[policed["capped"]] == clock - timedelta(days=1) + timedelta(days=7)
    assert allowed[policed["undated"]] == clock + timedelta(days=7)


def test_one_email_campaign_per_person_and_a_reason_for_every_member_left_out(
    policed: dict,
) -> None:
    with connect_built(policed["db"]) as con:
        most = con.execute(
            "select max(n) from (select count(*) as n from sync_email_audiences group by user_id)"
        ).fetchone()[0]
        assert most == 1  # the default cap: one e-mail per person per 7 days
        # Every membership of a segment listing e-mail is either synced or withheld.
        listed = con.execute(
            "select count(*) from fct_segment_memberships as m inner join dim_segments as s "
            "on m.segment_key = s.segment_key where ',' || s.channels || ',' like '%,email,%'"
        ).fetchone()[0]
        synced = con.execute("select count(*) from sync_email_audiences").fetchone()[0]
        withheld = con.execute(
            "select count(*) from fct_activation_withheld where channel = 'email'"
        ).fetchone()[0]
        assert synced + withheld == listed
        holdouts_synced = con.execute(
            "select count(*) from sync_email_audiences as a inner join fct_segment_memberships "
            "as m on m.person_key = 'user:' || a.user_id and m.segment_key = a.segment_key "
            "where m.is_holdout"
        ).fetchone()[0]
        assert holdouts_synced == 0


@pytest.mark.parametrize(
    ("caps", "message"),
    [
        ({"email": {"max_contacts": 0, "days": 7}}, "max_contacts must be a whole number"),
        ({"sms": {"max_contacts": 1, "days": 7}}, "unknown channel"),
        ({"crm": {"max_contacts": 1, "days": 7}}, "a trait channel"),
        ({"email": {"max_contacts": 1, "days": 7, "event_types": ["x'; drop"]}},
         "is not a lowercase identifier"),
    ],
)  # fmt: skip
def test_a_malformed_frequency_cap_stops_the_build_with_the_fix(
    demo_build: Build, tmp_path_factory: pytest.TempPathFactory, caps: dict, message: str
) -> None:
    root = tmp_path_factory.mktemp("caps")
    result = run_dbt(
        ["compile", "--select", "int_person_contact_policy"],
        data_dir=demo_build.data_dir,
        db_path=root / "microseg.duckdb",
        extra_vars={"microseg__frequency_caps": caps},
    )
    assert not result.success
    assert any(message in text for _, _, text in result.failures), result.failures
