"""Segment rules are expressions, not SQL: both guards (microseg.rules before dbt starts,
check_segment_catalogue inside dbt) refuse hostile catalogues, and export stays in --out."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import jinja2.sandbox
import pytest
import yaml

from microseg import cli
from microseg.export import UnsafeExport, export
from microseg.generate import GeneratorConfig, generate
from microseg.project import project_dir, run_dbt
from microseg.rules import (
    CATALOGUE_FILE,
    FUNCTIONS,
    KEYWORDS,
    TYPE_NAMES,
    CatalogueError,
    catalogue_entries,
    check_catalogue,
    check_project,
    check_rule,
    effective_vars,
    person_columns,
    shipped_catalogue,
)

ROOT = project_dir()
MACRO = ROOT / "macros" / "segments" / "check_segment_catalogue.sql"
SALT = "test-salt-of-at-least-sixteen-characters"

# (rule, the offending token the refusal must name)
HOSTILE_RULES = [
    ("1=1; drop table main_published.sync_email_audiences; select 1", ";"),
    ("purchases > (select count(*) from main_marts.dim_persons)", "select"),
    ("exists (select 1 from read_csv('/etc/passwd'))", "exists"),
    ("read_parquet('x') is not null", "read_parquet"),
    ("purchases > 0 --", "--"),
    ("purchases > 0 /* and more */", "/*"),
    ("purchases // 2 > 0", "//"),  # a comment on Snowflake
    ("unknown_col > 1", "unknown_col"),
    ("purchases > 0) or (1=1", ")"),
    ("(purchases > 0", "("),
    ("pg_sleep(10)", "pg_sleep"),
    ("getvariable('microseg_hash_salt') is not null", "getvariable"),
    ("purchases > ?", "?"),
    ("purchases > $1", "$"),
    ("country = 'it\\'s'", "\\"),
    ("country = 'abc", "'"),
    ('"purchases" > 0', '"'),
    ("main_marts.purchases > 0", "main_marts"),
    ("purchases::int > 0", ":"),
    ("count(*) > 0", "count"),
    ("purchases in (select 1)", "select"),
    ("purchases > 0 union select 1", "union"),
    ("{{ var('microseg__as_of') }} is not null", "{"),
    ("cast(purchases as interval) > 0", "interval"),
    ("timestamp '2020-01-01' < signed_up_at", "timestamp"),
    ("purchases == 1", "=="),  # DuckDB only
]
ACCEPTED_RULES = [
    "purchases > 0",
    "coalesce(days_since_last_purchase, 9999) > 90 and not has_email",
    "country in ('DE', 'FR', 'it''s') or subscription_status is not null",
    "purchases between 1 and 3 and lower(country) like 'd%'",
    "cast(avg_order_value as decimal(18, 2)) >= round(10.5, 1)",
    "case when purchases > 0 then true else false end",
    "greatest(purchases, sessions) > least(1, 2) and abs(-purchases) < 10",
    "is_lookalike_champion_lookalikes",
    "PURCHASES % 2 = 0 AND cluster_label = 'casual'",
    "purchases > 0\n\tand sessions >= 1\r\n",
]


@pytest.fixture(scope="module")
def columns() -> dict[str, str]:
    return person_columns(ROOT, ["champion_lookalikes"])


@pytest.fixture(scope="module")
def project_vars() -> dict[str, Any]:
    return effective_vars(ROOT, {})


def jinja_check(key: str, rule: str, columns: list[str] | None) -> None:
    """The macro check_segment_rule rendered by Jinja as dbt does (sandboxed, `do` tag)."""

    def raise_compiler_error(message: str) -> None:
        raise CatalogueError(message)

    environment = jinja2.sandbox.SandboxedEnvironment(extensions=["jinja2.ext.do"])
    template = environment.from_string(
        MACRO.read_text() + "{{ check_segment_rule(key, rule, columns) }}"
    )
    template.render(
        key=key,
        rule=rule,
        columns=columns,
        exceptions={"raise_compiler_error": raise_compiler_error},
        modules={"re": {name: getattr(re, name) for name in re.__all__}},
    )


@pytest.mark.parametrize(("rule", "token"), HOSTILE_RULES)
def test_hostile_rules_are_refused_naming_segment_and_token(
    rule: str, token: str, columns: dict[str, str]
) -> None:
    for check in (check_rule, lambda k, r, c: jinja_check(k, r, list(c))):
        with pytest.raises(CatalogueError) as refused:
            check("evil_segment", rule, columns)
        assert "segment 'evil_segment'" in str(refused.value)
        assert f"'{token}" in str(refused.value) or f"({token}" in str(refused.value), str(
            refused.value
        )


@pytest.mark.parametrize("rule", ACCEPTED_RULES)
def test_plain_expressions_over_person_columns_are_accepted(
    rule: str, columns: dict[str, str]
) -> None:
    check_rule("fine", rule, columns)
    jinja_check("fine", rule, list(columns))


def test_python_refuses_expressions_that_are_not_boolean(columns: dict[str, str]) -> None:
    for rule in ("purchases + 1", "coalesce(purchases, 0)", "case when has_email then 1 end"):
        with pytest.raises(CatalogueError, match="segment 'numeric': rule is not a boolean"):
            check_rule("numeric", rule, columns)


def test_without_a_graph_jinja_still_refuses_queries() -> None:
    """Unit tests compile without a graph: any column passes, queries still do not."""
    jinja_check("unit", "made_up_column > 1", None)
    for rule in ("x in (select 1)", "(from main_marts.dim_persons) is null", "read_csv('/x')"):
        with pytest.raises(CatalogueError, match="segment 'unit'"):
            jinja_check("unit", rule, None)


def test_both_layers_allow_the_same_words() -> None:
    macro = MACRO.read_text()

    def listed(name: str) -> set[str]:
        found = re.search(rf"set {name} = \[(.*?)\]", macro, re.DOTALL)
        assert found, name
        return set(re.findall(r"'(\w+)'", found.group(1)))

    assert listed("functions") == FUNCTIONS
    assert listed("keywords") == KEYWORDS
    assert listed("type_names") == TYPE_NAMES


def test_shipped_catalogue_passes_both_layers(
    project_vars: dict[str, Any], columns: dict[str, str]
) -> None:
    check_project(ROOT, {})
    entries = catalogue_entries(project_vars)
    assert {"customers", "rfm_champions", "cluster_casual", "champion_lookalikes"} <= {
        entry["key"] for entry in entries
    }
    for entry in entries:
        jinja_check(entry["key"], entry["rule"], list(columns))


def test_person_columns_come_from_the_yaml_docs(columns: dict[str, str]) -> None:
    path = ROOT / "models/intermediate/features/_int_features__models.yml"
    (features,) = [
        m for m in yaml.safe_load(path.read_text())["models"] if m["name"] == "int_person_features"
    ]
    documented = {column["name"] for column in features["columns"]}
    assert documented <= set(columns)
    assert {"interactions", "cluster_label", "churn_risk_percentile"} <= set(columns)
    assert columns["is_lookalike_champion_lookalikes"] == "boolean"


def _segment(**changes: Any) -> dict[str, Any]:
    return {"key": "ok_segment", "origin": "rule", "name": "OK", "description": "d",
            "rule": "purchases > 0", "priority": 5, "owner": "crm", "channels": ["email"],
            **changes}  # fmt: skip


def _origin_entry(origin: str, **fields: Any) -> dict[str, Any]:
    """A catalogue entry of an rfm, cluster or lookalike origin (its rule left to check)."""
    return {**_segment(key="x_segment", origin=origin, priority=6), **fields}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"segment": _segment(key="../../../x")}, "segment '../../../x': a key must match"),
        ({"segment": _segment(key="Upper")}, "segment 'Upper': a key must match"),
        ({"segment": _segment(holdout_percent=-50)}, "holdout_percent -50 is not a number in"),
        ({"segment": _segment(holdout_percent=51)}, "holdout_percent 51 is not a number in"),
        ({"segment": _segment(min_size=0)}, "min_size 0 is not an integer >= 1"),
        ({"segment": _segment(min_size=2.5)}, "min_size 2.5 is not an integer >= 1"),
        ({"segment": _segment(max_share=0)}, "max_share 0 is not a number in (0, 1]"),
        ({"segment": _segment(max_share=1.5)}, "max_share 1.5 is not a number in (0, 1]"),
        ({"segment": _segment(min_interactions=-1)}, "min_interactions -1 is not an integer"),
        ({"segment": _segment(priority="5")}, "priority '5' is not an integer"),
        ({"segment": _segment(channels=["sms"])}, "unknown channel 'sms'"),
        ({"segment": _segment(channels="email")}, "channels must be a list"),
        ({"segment": _segment(owner="crm', 'x")}, "segment 'ok_segment': owner must be"),
        ({"segment": _segment(description="ends in \\")}, "description must be a string"),
        ({"segment": _segment(parent="../x")}, "unknown parent '../x'"),
        ({"segment": _segment(parent="ok_segment")}, "parents loop back"),
        ({"microseg__holdout_percent": -50}, "holdout_percent -50"),
        (
            {"segment": _origin_entry("rfm", rfm_class="../x", r=[1, 5], fm=[1, 5])},
            "RFM class '../x': a key must match",
        ),
        (
            {"segment": _origin_entry("rfm", rfm_class="all", r=[0, 9], fm=[1, 5])},
            "RFM class 'all': r and fm must be",
        ),
        (
            {"segment": _origin_entry("cluster", cluster_label="a/b")},
            "cluster label 'a/b': a key must match",
        ),
        (
            {"segment": _origin_entry("lookalike", key="x; drop")},
            "lookalike 'x; drop': a key must match",
        ),
    ],
)
def test_keys_and_ranges_are_checked(
    variables: dict[str, Any], message: str, project_vars: dict[str, Any], columns: dict[str, str]
) -> None:
    effective = {**project_vars, **variables}
    if segment := variables.get("segment"):
        effective["microseg__segment_catalogue"] = [*shipped_catalogue(ROOT), segment]
    with pytest.raises(CatalogueError) as refused:
        check_catalogue(effective, columns)
    assert message in str(refused.value)


def test_cli_vars_override_project_vars() -> None:
    with pytest.raises(CatalogueError, match="segment 'customers': min_size 0"):
        check_project(ROOT, {"microseg__min_segment_size": 0})


# --- Both guards in action ------------------------------------------------------------


def _hostile_segments(**changes: Any) -> list[dict[str, Any]]:
    return [*shipped_catalogue(ROOT), _segment(**{"key": "evil_segment", **changes})]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rules_data") / "data"
    generate(GeneratorConfig(events=3000, seed=1), folder)
    return folder


def _plain_dbt_build(
    project: Path, variables: dict, tmp_path: Path, db_path: Path, data_dir: Path
) -> tuple[int, str]:
    """`dbt build` as a user types it (no microseg CLI): its exit code and output."""
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"), "build",
            "--project-dir", str(project), "--profiles-dir", str(project),
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
            "--vars", json.dumps(variables),
        ],
        env={**os.environ, "MICROSEG_DUCKDB_PATH": str(db_path),
             "MICROSEG_DATA_DIR": str(data_dir), "MICROSEG_HASH_SALT": SALT},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return completed.returncode, " ".join((completed.stdout + completed.stderr).split())


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"rule": "1=1; drop table main_published.sync_email_audiences; select 1"},
            "segment 'evil_segment': ';' is not allowed in a rule",
        ),
        ({"key": "../../../x"}, "segment '../../../x': a key must match"),
        ({"holdout_percent": -50}, "segment 'evil_segment': holdout_percent -50"),
    ],
)
def test_plain_dbt_build_stops_before_any_model(
    changes: dict[str, Any], expected: str, small_data: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "microseg.duckdb"
    variables = {
        "microseg__as_of": "now",
        "microseg__segment_catalogue": _hostile_segments(**changes),
    }
    returncode, output = _plain_dbt_build(ROOT, variables, tmp_path, db_path, small_data)
    assert returncode != 0
    assert expected in output, output[-2000:]
    assert not (tmp_path / "target" / "run_results.json").exists()
    if db_path.exists():
        with duckdb.connect(str(db_path), read_only=True) as con:
            relations = con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        # Only the raw views the first on-run-start hook registers: no model ran.
        assert {schema for schema, _ in relations} <= {"raw"}, relations


def test_run_dbt_refuses_before_dbt_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MICROSEG_DATA_DIR", "MICROSEG_DUCKDB_PATH"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # run_dbt sets them; restore after
    monkeypatch.setenv("MICROSEG_HASH_SALT", SALT)
    with pytest.raises(CatalogueError, match=r"segment 'evil_segment': function 'pg_sleep'"):
        run_dbt(
            ["build"],
            data_dir=tmp_path / "no-data",
            db_path=tmp_path / "db" / "microseg.duckdb",
            extra_vars={
                "microseg__segment_catalogue": _hostile_segments(rule="pg_sleep(10) is null")
            },
        )
    assert not (tmp_path / "db" / "target").exists()
    assert not (tmp_path / "db" / "microseg.duckdb").exists()


def test_a_hostile_entry_in_the_catalogue_file_stops_both_layers(
    small_data: Path, tmp_path: Path
) -> None:
    """The catalogue as a user edits it, in the file and not through the var: the CLI's check
    refuses it, and a plain `dbt build` stops before any model."""
    fake = tmp_path / "project"
    fake.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        (fake / name).write_text((ROOT / name).read_text())
    for name in ("macros", "seeds", "tests", "snapshots", "analyses"):
        if (ROOT / name).exists():
            (fake / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "models", fake / "models")
    path = fake / CATALOGUE_FILE
    document = yaml.safe_load(path.read_text())
    (model,) = document["models"]
    entry = _segment(key="evil_segment", rule="purchases > 0; select 1")
    model["config"]["meta"]["segments"].append(entry)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(CatalogueError, match="segment 'evil_segment': ';' is not allowed"):
        check_project(fake, {})
    db_path = tmp_path / "microseg.duckdb"
    returncode, output = _plain_dbt_build(
        fake, {"microseg__as_of": "now"}, tmp_path, db_path, small_data
    )
    assert returncode != 0
    assert "segment 'evil_segment': ';' is not allowed in a rule" in output, output[-2000:]
    assert not (tmp_path / "target" / "run_results.json").exists()


@pytest.mark.parametrize("command", ["build", "demo"])
def test_cli_prints_one_line_and_fails(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A copy of dbt_project.yml whose vars give a catalogue with a hostile segment (models
    shared): the CLI refuses."""
    project = yaml.safe_load((ROOT / "dbt_project.yml").read_text())
    project["vars"]["microseg__segment_catalogue"] = _hostile_segments(rule="purchases > 0 --")
    fake = tmp_path / "project"
    fake.mkdir()
    (fake / "dbt_project.yml").write_text(yaml.safe_dump(project))
    (fake / "models").symlink_to(ROOT / "models")
    monkeypatch.setenv("MICROSEG_PROJECT_DIR", str(fake))
    monkeypatch.setenv("MICROSEG_HASH_SALT", SALT)
    for name in ("MICROSEG_DATA_DIR", "MICROSEG_DUCKDB_PATH"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    options = ["--events", "3000"] if command == "demo" else []
    status = cli.main(
        [command, "--data-dir", str(tmp_path / "data"), "--db", str(tmp_path / "m.duckdb"),
         "--as-of", "now", *options]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status != 0
    assert err.strip().splitlines() == [
        f"microseg {command}: segment 'evil_segment': comments ('--') are not allowed in a rule"
    ]
    assert not (tmp_path / "m.duckdb").exists()


# --- Export stays inside its folder ---------------------------------------------------


def _published(db_path: Path, segment_key: str) -> None:
    """A tiny fake published schema with one ad-audience row per key."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema main_published")
        con.execute(
            "create table main_published.sync_ad_audiences as select "
            "'h' as email_sha256_unsalted, 'DE' as country, 'good_one' as segment_key, "
            "false as is_holdout"
        )
        con.execute(
            "insert into main_published.sync_ad_audiences values ('h2', 'FR', ?, false)",
            [segment_key],
        )
        con.execute(
            "create table main_published.sync_email_audiences as select 'u' as user_id, "
            "'shoes' as top_interest, 'vip' as offer_tier, "
            "'' as last_abandoned_cart_product_ids, 'good_one' as segment_key, "
            "false as is_holdout"
        )
        con.execute(
            "create table main_published.sync_crm_traits as select 'u' as user_id, "
            "'good_one' as segment_keys, null as holdout_segment_keys, "
            "null as primary_segment_key, null as rfm_class, null as lifecycle_stage, "
            "null as journey_stage, null as top_interest, null as offer_tier"
        )
        # The destination-shaped ad lists name files after their segment keys too.
        con.execute(
            "create table main_published.sync_google_customer_match as select "
            "email_sha256_unsalted as email_sha256_google, segment_key, "
            "'GRANTED' as ad_user_data, 'GRANTED' as ad_personalization "
            "from main_published.sync_ad_audiences"
        )
        con.execute(
            "create table main_published.sync_meta_custom_audiences as select "
            "email_sha256_unsalted, lower(country) as country_code, segment_key "
            "from main_published.sync_ad_audiences"
        )


@pytest.mark.parametrize(
    "segment_key",
    ["../../../escaped", "/tmp/escaped", "x' to '/tmp/escaped.csv' (format csv) --", "Upper"],
)
def test_export_refuses_hostile_segment_keys(
    segment_key: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db_path = tmp_path / "published.duckdb"
    _published(db_path, segment_key)
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(UnsafeExport, match="not a valid key"):
        export(db_path, out)
    assert not out.exists()  # keys are checked before anything is written
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert [path for path in files if not path.name.startswith("published.duckdb")] == []
    status = cli.main(["export", "--db", str(db_path), "--out", str(out)])
    assert status != 0
    assert "not a valid key" in capsys.readouterr().err


def test_export_writes_only_inside_out(tmp_path: Path) -> None:
    db_path = tmp_path / "published.duckdb"
    _published(db_path, "good_two")
    out = tmp_path / "out"
    written = export(db_path, out)
    # The key reaches the queries as a parameter.
    assert written["google_customer_match/good_two.csv"] == 1
    assert written["meta_custom_audiences/good_two.csv"] == 1
    assert all((out / relative).resolve().is_relative_to(out.resolve()) for relative in written)
    # A folder that links elsewhere is refused too.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "google_customer_match").symlink_to(elsewhere)
    with pytest.raises(UnsafeExport, match="resolves outside"):
        export(db_path, linked)
    assert list(elsewhere.iterdir()) == []
