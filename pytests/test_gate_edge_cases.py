"""The quality gate on data it could not judge before: it never crashes, says why it
cannot evaluate, blocks only where that could hide bad data, and withholds small segments
instead of failing the build.

One small shop (25k generated events) is built once; every other case is a copy of its
database with tables emptied or edited in DuckDB (the build ledger stays as dbt wrote it),
so only the gate runs again.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from conftest import BUILD, Build, connect_built
from microseg import ledger
from microseg.export import SYNC_TABLES
from microseg.generate import GeneratorConfig, generate
from microseg.project import run_dbt
from microseg.publish import PUBLISHED_SCHEMA, NotPublished, publish
from microseg.validate import Outcome, _unknown_event_names, render, validate, withheld_segments

UNKNOWN_NAMES = {"Product Clicked": 5, "cart_add": 3, "Checkout Step Viewed": 2}  # weights


@pytest.fixture(scope="module")
def small_shop(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """25k events: several catalogue segments stay below their min_size."""
    root = tmp_path_factory.mktemp("small_shop")
    manifest = generate(GeneratorConfig(events=25_000, seed=3), root / "data")
    db_path = root / "microseg.duckdb"
    result = run_dbt(
        BUILD, data_dir=root / "data", db_path=db_path, as_of=str(manifest["last_event_at"])
    )
    assert result.success, result.failures
    return Build(root / "data", db_path, manifest, result)


def _gate(
    build: Build, folder: Path, edit: Callable[[duckdb.DuckDBPyConnection], None] | None = None
) -> tuple[Path, bool, list[Outcome]]:
    """Validate a copy of the build's database, edited first."""
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "microseg.duckdb"
    shutil.copy(build.db_path, db_path)
    if edit:
        with duckdb.connect(str(db_path)) as con:
            edit(con)
    passed, outcomes, _ = validate(db_path, folder)
    return db_path, passed, outcomes


def _relations(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return ledger.relations(con, ledger.latest_build(con))


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables()"
        ).fetchall()
    }


def _by_label(outcomes: list[Outcome], suite: str) -> dict[str, Outcome]:
    return {outcome.expectation: outcome for outcome in outcomes if outcome.suite == suite}


def _verdict_text(db_path: Path) -> str:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(
            f"select expectations_failed from {ledger.LEDGER_SCHEMA}.gate_verdicts "
            "order by validated_at desc limit 1"
        ).fetchone()[0]


def test_small_shop_passes_with_small_segments_withheld_by_name(
    small_shop: Build, tmp_path: Path
) -> None:
    db_path, passed, outcomes = _gate(small_shop, tmp_path)
    with connect_built(db_path) as con:
        expected = dict(
            con.execute(
                "select segment_key, status_reason from dim_segments "
                "where status in ('withheld', 'empty') order by priority"
            ).fetchall()
        )
        below = con.execute(
            "select segment_key, member_count, min_size from dim_segments "
            "where not is_fallback and member_count < min_size order by priority"
        ).fetchall()
    assert len(expected) >= 3, "the small shop should have several segments below min_size"
    assert passed, [o for o in outcomes if o.blocking]
    assert withheld_segments(outcomes) == expected
    assert {key for key, _, _ in below} <= expected.keys()
    for key, members, min_size in below:  # each says why, in numbers
        counted = f"{members} member{'' if members == 1 else 's'}, below min_size {min_size}"
        assert expected[key] == ("no members" if members == 0 else counted) or expected[
            key
        ].startswith(f"{counted}; ")
    summary = render(passed, outcomes, 0.0, tmp_path).split("quality gate PASSED", 1)[1]
    for key, reason in expected.items():
        assert f"{key}" in summary and reason in summary

    publish(db_path)  # nothing blocks: the withheld segments are simply not synced
    with duckdb.connect(str(db_path), read_only=True) as con:
        for table in ("sync_email_audiences", "sync_ad_audiences"):
            keys = {
                key
                for (key,) in con.execute(
                    f"select distinct segment_key from {PUBLISHED_SCHEMA}.{table}"
                ).fetchall()
            }
            assert keys and not keys & expected.keys(), table
        crm = con.execute(
            f"select segment_keys, holdout_segment_keys, primary_segment_key "
            f"from {PUBLISHED_SCHEMA}.sync_crm_traits"
        ).fetchall()
    assert crm
    for segment_keys, holdout_keys, primary in crm:
        named = set((segment_keys or "").split(";")) | set((holdout_keys or "").split(";"))
        assert not named & expected.keys()
        assert primary not in expected


def test_the_build_tests_that_no_withheld_segment_reaches_a_sync_table(
    small_shop: Build, tmp_path: Path
) -> None:
    """The singular test ran in the build, and it finds a withheld segment put back."""
    sql = (
        small_shop.db_path.parent
        / "target/compiled/microseg/tests/activation/assert_no_withheld_segment_in_sync_tables.sql"
    )
    assert sql.exists(), "the singular test was not compiled by the build"
    with connect_built(small_shop.db_path) as con:
        assert con.execute(f"select count(*) from ({sql.read_text()})").fetchone()[0] == 0
    # The compiled SQL names the database by the file's stem.
    target = tmp_path / "microseg.duckdb"
    shutil.copy(small_shop.db_path, target)
    with duckdb.connect(str(target)) as con:
        relations = _relations(con)
        (withheld,) = con.execute(
            f"select segment_key from {relations['dim_segments']} where status = 'withheld' "
            "order by priority limit 1"
        ).fetchone()
        con.execute(
            f"update {relations['sync_email_audiences']} set segment_key = ? "
            "where audience_member_id = (select min(audience_member_id) "
            f"from {relations['sync_email_audiences']})",
            [withheld],
        )
    with connect_built(target) as con:
        leaks = con.execute(f"select sync_table, segment_key from ({sql.read_text()})").fetchall()
    assert leaks == [("sync_email_audiences", withheld)]


def test_empty_tables_are_reported_and_an_empty_feed_blocks(
    small_shop: Build, tmp_path: Path
) -> None:
    def empty_everything(con: duckdb.DuckDBPyConnection) -> None:
        for table in sorted(_tables(con)):
            if not table.startswith(ledger.LEDGER_SCHEMA):
                con.execute(f"delete from {table}")

    db_path, passed, outcomes = _gate(small_shop, tmp_path, empty_everything)

    assert not passed
    persons = _by_label(outcomes, "dim_persons")
    assert persons["table_row_count_to_be_between(table)"].status == "fail"  # a plain fail
    assert persons["table_row_count_to_be_between(table)"].observed == "0"
    raw = [o for o in outcomes if o.suite == "base_tracking__events"]
    assert raw and all(o.status == "not_evaluable" and o.reason == "table is empty" for o in raw)
    assert [o.blocking for o in raw] == [o.severity == "fail" for o in raw]
    volumes = _by_label(outcomes, "fct_daily_event_volumes")
    assert [(o.status, o.blocking) for o in volumes.values()] == [("not_evaluable", False)]
    assert "has 0" in next(iter(volumes.values())).reason
    ads = [o for o in outcomes if o.suite == "sync_ad_audiences"]
    assert ads and all(o.status == "not_evaluable" and not o.blocking for o in ads)
    assert not [o for o in outcomes if o.suite == "dim_segments"]  # no segment rows at all
    # One entry per cause: the empty feed is named once, with its expectations counted.
    verdict = _verdict_text(db_path)
    blocking_raw = sum(o.blocking for o in raw)
    assert f"base_tracking__events: table is empty ({blocking_raw} expectations)" in verdict
    assert verdict.count("base_tracking__events") == 1
    assert "table_row_count_to_be_between(table) (0, expected [100, ])" in verdict
    # No trained propensity model: nothing it could score feeds a segment, so not blocking.
    (model,) = _by_label(outcomes, "fct_ml_model_quality").values()
    assert (model.status, model.blocking) == ("not_evaluable", False)
    assert model.reason.startswith("no trained propensity model (0 skipped")
    assert "not_evaluable (blocks)  table is empty" in render(passed, outcomes, 0.0, tmp_path)


def test_a_shop_without_crm_customers_or_consents_passes_with_reasons(
    small_shop: Build, tmp_path: Path
) -> None:
    optional = ("recency_score", "frequency_score", "monetary_score", "monetary_value",
                "email_open_rate")  # fmt: skip

    def no_crm(con: duckdb.DuckDBPyConnection) -> None:
        relations = _relations(con)
        # The stg_crm views read these tables.
        for name in ("base_crm__customers", "base_crm__consents", "base_crm__consent_decisions",
                     *SYNC_TABLES):  # fmt: skip
            con.execute(f"delete from {relations[name]}")
        columns = ", ".join(f"{column} = null" for column in optional)
        con.execute(f"update {relations['dim_persons']} set {columns}")

    _, passed, outcomes = _gate(small_shop, tmp_path, no_crm)

    assert passed, [o for o in outcomes if o.blocking]
    persons = _by_label(outcomes, "dim_persons")
    for column in optional:
        (outcome,) = [o for label, o in persons.items() if f"({column})" in label]
        assert (outcome.status, outcome.reason, outcome.blocking) == (
            "not_evaluable", "column has no values", False,
        ), column  # fmt: skip
        assert outcome.severity == "fail"
    for table in ("sync_ad_audiences", "sync_google_customer_match", "sync_meta_custom_audiences"):
        ads = _by_label(outcomes, table)
        assert {(o.status, o.reason) for o in ads.values()} == {("not_evaluable", "table is empty")}
    email = _by_label(outcomes, "sync_email_audiences")
    assert [o.status for o in email.values()] == ["pass"]  # a row count is always evaluable


@pytest.mark.parametrize("hours", [24, 3])
def test_a_short_history_is_not_evaluable_and_does_not_block(
    small_shop: Build, tmp_path: Path, hours: int
) -> None:
    def keep_last(con: duckdb.DuckDBPyConnection) -> None:
        relations = _relations(con)
        (last,) = con.execute(
            f"select max(received_at) from {relations['stg_tracking__events']}"
        ).fetchone()
        cutoff = f"timestamp '{last}' - interval {hours} hour"
        # A clean feed of those hours only (stg_tracking__events is a view over it): a few
        # quarantined rows would be a large share of so few and are not the point here.
        con.execute(
            f"delete from {relations['base_tracking__events']} where received_at < {cutoff} "
            "or received_at is null or row_status = 'quarantined'"
        )
        con.execute(f"delete from {relations['fct_sessions']} where started_at < {cutoff}")
        volumes = relations["fct_daily_event_volumes"]
        con.execute(f"delete from {volumes}")
        con.execute(
            f"""
            insert into {volumes} (received_date, events, trailing_7d_avg_events,
                trailing_days, is_last_day)
            select day, events,
                avg(events) over (order by day rows between 7 preceding and 1 preceding),
                count(*) over (order by day rows between 7 preceding and 1 preceding),
                day = max(day) over ()
            from (
                select date_trunc('day', received_at) as day, count(*) as events
                from {relations["stg_tracking__events"]} where not is_bot group by 1
            )
            """
        )

    db_path, passed, outcomes = _gate(small_shop, tmp_path, keep_last)
    with connect_built(db_path) as con:
        days = con.execute("select count(*) from fct_daily_event_volumes").fetchone()[0]
    assert 1 <= days <= 2

    assert passed, [o for o in outcomes if o.blocking]
    (volume,) = _by_label(outcomes, "fct_daily_event_volumes").values()
    assert volume.status == "not_evaluable" and not volume.blocking
    assert volume.reason == f"needs 9 days of data (a complete day after 7 others), has {days}"


def test_gx_raising_inside_expectations_reports_them_and_runs_the_rest(
    small_shop: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import great_expectations as gx

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom from the test")

    warn_type = gx.expectations.ExpectColumnMeanToBeBetween  # mean sessions: warn
    fail_type = gx.expectations.ExpectColumnValueLengthsToEqual  # ad ids: fail
    monkeypatch.setattr(warn_type, "_validate", boom)
    monkeypatch.setattr(fail_type, "_validate", boom)

    db_path, passed, outcomes = _gate(small_shop, tmp_path)

    raised = {(o.suite, o.expectation): o for o in outcomes if o.reason.startswith("GX raised")}
    mean = next(key for key in raised if key[1] == "column_mean_to_be_between(sessions)")
    # The identifier lengths of every ad list: generic, Google and Meta.
    lengths = {
        ("sync_ad_audiences", "column_value_lengths_to_equal(email_sha256_unsalted)"),
        ("sync_google_customer_match", "column_value_lengths_to_equal(email_sha256_google)"),
        ("sync_meta_custom_audiences", "column_value_lengths_to_equal(email_sha256_unsalted)"),
        ("sync_meta_custom_audiences", "column_value_lengths_to_equal(country_code)"),
    }
    assert set(raised) == {mean} | lengths
    assert all(o.status == "not_evaluable" and "boom from the test" in o.reason
               for o in raised.values())  # fmt: skip
    assert not raised[mean].blocking  # warn
    assert all(raised[key].blocking for key in lengths)  # fail
    assert not passed
    assert {(o.suite, o.expectation) for o in outcomes if o.blocking} == lengths
    evaluated = [o for o in outcomes if o.status in {"pass", "warn", "withheld"}]
    assert len(evaluated) == len(outcomes) - len(raised)  # every other expectation still ran
    assert "boom from the test" in _verdict_text(db_path)


def test_gx_failing_the_whole_checkpoint_still_judges_every_expectation(
    small_shop: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import great_expectations as gx

    def broken_run(*args: object, **kwargs: object) -> None:
        raise RuntimeError("checkpoint broken by the test")

    monkeypatch.setattr(gx.Checkpoint, "run", broken_run)
    _, passed, outcomes = _gate(small_shop, tmp_path)
    assert passed, [o for o in outcomes if o.blocking]
    assert not [o for o in outcomes if o.reason.startswith("GX")]
    assert sum(o.status == "pass" for o in outcomes) > 40


def test_a_flood_of_unknown_event_names_fails_once_naming_them(
    small_shop: Build, tmp_path: Path
) -> None:
    weights = list(UNKNOWN_NAMES.items())

    def flood(con: duckdb.DuckDBPyConnection) -> None:
        relations = _relations(con)
        events = relations["base_tracking__events"]
        # Six clean rows in ten become unknown names, weighted 5:3:2.
        cases = " ".join(
            f"when hash(raw_row_hash) % 10 < {sum(w for _, w in weights[: i + 1]) * 6 // 10} "
            f"then '{name}'"
            for i, (name, _) in enumerate(weights)
        )
        con.execute(
            f"""
            update {events} set
                event_name = case {cases} end,
                event_type = null,
                row_status = 'quarantined',
                quarantine_reason = 'unknown_event_type'
            where row_status = 'clean' and hash(raw_row_hash) % 10 < 6
            """
        )
        # What the quality mart would hold after a build on this feed.
        con.execute(
            f"""
            create or replace table main_marts.fct_unmapped_values as
            select 'event_name' as value_kind, event_name as raw_value, count(*) as row_count,
                count(*) / sum(count(*)) over () as share_of_kind,
                'map them in seeds/event_type_mapping.csv' as fix
            from {events} where quarantine_reason = 'unknown_event_type' group by 2
            """
        )
        if "fct_unmapped_values" not in relations:
            con.execute(
                f"insert into {ledger.LEDGER_SCHEMA}.build_relations values "
                "(?, 'fct_unmapped_values', 'main_marts', 'fct_unmapped_values', 'table', false)",
                [ledger.latest_build(con).invocation_id],
            )

    db_path, passed, outcomes = _gate(small_shop, tmp_path, flood)
    with duckdb.connect(str(db_path), read_only=True) as con:
        counts = dict(
            con.execute(
                "select raw_value, row_count from main_marts.fct_unmapped_values"
            ).fetchall()
        )
    assert set(UNKNOWN_NAMES) <= counts.keys()

    assert not passed
    raw = {o.threshold_name: o for o in outcomes if o.suite == "base_tracking__events"}
    clean_share, quarantine = raw["min_clean_share"], raw["max_quarantine_rate"]
    assert (clean_share.status, quarantine.status) == ("fail", "fail")
    for name in UNKNOWN_NAMES:
        assert f"'{name}' {counts[name]:,}" in clean_share.reason
    assert "seeds/event_type_mapping.csv" in clean_share.reason
    assert quarantine.reason == "same cause as min_clean_share"
    verdict = _verdict_text(db_path)
    assert verdict.count("Product Clicked") == 1  # one message, not one per expectation
    with pytest.raises(NotPublished, match="Product Clicked"):
        publish(db_path)


def test_unknown_event_names_come_from_the_mart_or_else_the_quarantine() -> None:
    con = duckdb.connect()
    con.execute(
        "create table base as select * from (values ('quarantined', 'unknown_event_type', 'a'),"
        " ('quarantined', 'unknown_event_type', 'a'), ('quarantined', 'unknown_event_type', 'b'),"
        " ('clean', null, 'page_view')) as t(row_status, quarantine_reason, event_name)"
    )
    relations = {"base_tracking__events": "base"}
    assert _unknown_event_names(con, relations) == (
        [("a", 2), ("b", 1)], "map them in seeds/event_type_mapping.csv",
    )  # fmt: skip
    con.execute(
        "create table unmapped as select * from (values ('event_name', 'x', 7, 1.0, 'fix x'),"
        " ('page_category', 'y', 9, 1.0, 'fix y')) as t(value_kind, raw_value, row_count,"
        " share_of_kind, fix)"
    )
    relations["fct_unmapped_values"] = "unmapped"
    assert _unknown_event_names(con, relations) == ([("x", 7)], "fix x")
