"""The staging layer on generated dirty data: it builds, reconciles and matches the manifest."""

from __future__ import annotations

import pytest

from conftest import Build

SOURCES = {
    "events": ("base_tracking__events", "stg_tracking__events"),
    "customers": ("base_crm__customers", "stg_crm__customers"),
    "consents": ("base_crm__consents", "stg_crm__consents"),
}


def test_dbt_build_passes_with_unit_and_data_tests(demo_build: Build) -> None:
    result = demo_build.result
    assert result.success, result.failures
    assert not result.failures
    assert sum(1 for name in result.timings if "triage" in name) >= 3, "unit tests did not run"
    assert result.counts.get("pass", 0) >= 40


@pytest.mark.parametrize("source", SOURCES)
def test_staging_counts_equal_what_the_generator_injected(demo_build: Build, source: str) -> None:
    base_model, _ = SOURCES[source]
    expected = demo_build.manifest["expected"][source]
    with demo_build.connect() as con:
        rows = con.execute(
            f"select row_status, quarantine_reason, count(*) from {base_model} group by 1, 2"
        ).fetchall()
    status = {s: sum(n for s2, _, n in rows if s2 == s) for s in ("clean", "duplicate")}
    reasons = {reason: n for _, reason, n in rows if reason is not None}
    assert sum(n for *_, n in rows) == expected["raw_rows"]
    assert status["clean"] == expected["clean_rows"]
    assert status["duplicate"] == expected["duplicate_rows"]
    assert reasons == expected["quarantined_rows"]


@pytest.mark.parametrize("source", SOURCES)
def test_raw_rows_equal_clean_plus_quarantined_plus_duplicates(
    demo_build: Build, source: str
) -> None:
    base_model, clean_model = SOURCES[source]
    raw = demo_build.scalar(f"select count(*) from '{demo_build.data_dir}/{source}.parquet'")
    clean = demo_build.scalar(f"select count(*) from {clean_model}")
    quarantined = demo_build.scalar(f"select count(*) from {clean_model}_quarantined")
    duplicates = demo_build.scalar(
        f"select count(*) from {base_model} where row_status = 'duplicate'"
    )
    assert raw == clean + quarantined + duplicates
    assert quarantined > 0 and duplicates > 0, "the generator should have injected both"


def test_quarantine_keeps_the_original_values(demo_build: Build) -> None:
    with demo_build.connect() as con:
        missing = con.execute(
            "select count(*) from stg_tracking__events_quarantined where raw_record is null"
        ).fetchone()[0]
        unknown = con.execute(
            "select json_extract_string(raw_record, '$.event_type') "
            "from stg_tracking__events_quarantined where quarantine_reason = 'unknown_event_type'"
        ).fetchall()
    assert missing == 0
    assert {"Experiment Viewed", "debug_ping", "pageview_v2"} <= {name for (name,) in unknown}


def test_bots_are_flagged_by_user_agent_and_by_rate(demo_build: Build) -> None:
    with demo_build.connect() as con:
        by_reason = dict(
            con.execute(
                "select bot_reason, count(*) from stg_tracking__events where is_bot group by 1"
            ).fetchall()
        )
    assert sum(by_reason.values()) == demo_build.manifest["injected"]["clean_bot_events"]
    assert by_reason.get("user_agent", 0) > 0 and by_reason.get("event_rate", 0) > 0


def test_late_events_stay_clean(demo_build: Build) -> None:
    late = demo_build.scalar(
        "select count(*) from stg_tracking__events where arrival_delay_seconds > 86400"
    )
    assert late >= demo_build.manifest["injected"]["late_events"] > 0


def test_latest_consent_decision_wins(demo_build: Build) -> None:
    withdrawn_later = demo_build.scalar(
        """
        select count(*)
        from stg_crm__consents as current_decision
        inner join stg_crm__consents as earlier
            on current_decision.user_id = earlier.user_id
            and current_decision.purpose = earlier.purpose
            and earlier.recorded_at < current_decision.recorded_at
        where current_decision.is_current and not current_decision.is_granted
            and earlier.is_granted
        """
    )
    assert withdrawn_later > 0
