"""The quality gate: run the Great Expectations suites in `expectations/` on a build.

Each suite file names a model (and optionally a query over it) and lists expectations
whose numbers come from `expectations/thresholds.yml` (`$name`, or `1-$name` for a
`mostly`), from dbt vars, or, for segment sizes, from the catalogue via dim_segments.
All suites run as one GX checkpoint through the SQL datasource, so the work happens in
the database. Results go to `<build>/validation/results.json` and GX Data Docs.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from microseg import ledger
from microseg.project import project_dir

SKIPPED_KEYS = {"expectation", "threshold"}


@dataclass
class Outcome:
    suite: str
    expectation: str
    observed: str
    threshold: str
    severity: str
    status: str  # pass, warn, fail


def _project_vars() -> dict[str, Any]:
    return yaml.safe_load((project_dir() / "dbt_project.yml").read_text())["vars"]


def _derived_values(con: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> dict:
    """Numbers whose home is elsewhere: dbt vars, seeds, the build itself."""
    variables = _project_vars()
    with (project_dir() / "seeds" / "event_type_mapping.csv").open() as seed:
        event_types = sorted({row["event_type"] for row in csv.DictReader(seed)})
    as_of = con.execute(
        f"select max(features_as_of) from {relations['fct_person_features']}"
    ).fetchone()[0]
    members = con.execute(f"select sum(member_count) from {relations['dim_segments']}").fetchone()
    return {
        "event_types": event_types,
        "data_start": datetime.fromisoformat(str(variables["microseg__data_start_date"])),
        "latest_allowed_time": as_of
        + timedelta(minutes=variables["microseg__max_clock_skew_minutes"]),
        "max_session_seconds": variables["microseg__max_session_hours"] * 3600,
        "segment_member_total": int(members[0] or 0),
    }


def _resolve(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("1-$"):
        return 1 - values[value[3:]]
    if isinstance(value, str) and value.startswith("$"):
        return values[value[1:]]
    return value


def _threshold_name(spec: dict) -> str | None:
    if "threshold" in spec:
        return spec["threshold"]
    for value in spec.values():
        if isinstance(value, str) and "$" in value:
            return value.split("$", 1)[1]
    return None


def _expectation_specs(
    suite: dict, con: duckdb.DuckDBPyConnection, relations: dict[str, str]
) -> list[dict]:
    """The suite's expectations, with per-segment ones expanded from dim_segments."""
    specs = list(suite.get("expectations", []))
    if templates := suite.get("for_each_segment"):
        rows = con.execute(
            f"select segment_key, min_size, max_share from {relations['dim_segments']} "
            "where not is_fallback order by priority"
        ).fetchall()
        for key, min_size, max_share in rows:
            fields = {"segment_key": key, "min_size": min_size, "max_share": max_share}
            for template in templates:
                spec = {
                    name: (value.format(**fields) if isinstance(value, str) else value)
                    for name, value in template.items()
                }
                for bound in ("min_value", "max_value"):
                    if bound in spec:
                        spec[bound] = float(spec[bound])
                spec["segment"] = key
                specs.append(spec)
    return specs


def _label(spec: dict) -> str:
    name = spec["expectation"].removeprefix("expect_")
    target = spec.get("column", "table")
    return f"{name}({target}{', ' + spec['segment'] if 'segment' in spec else ''})"


def _threshold_text(kwargs: dict) -> str:
    parts = []
    if "mostly" in kwargs:
        parts.append(f"mostly {kwargs['mostly']:.4g}")
    if kwargs.get("min_value") is not None or kwargs.get("max_value") is not None:
        low, high = kwargs.get("min_value", ""), kwargs.get("max_value", "")
        parts.append(f"[{low}, {high}]")
    if "value" in kwargs:
        parts.append(f"= {kwargs['value']}")
    if "value_set" in kwargs:
        shown = kwargs["value_set"]
        parts.append(f"in {shown if len(shown) <= 3 else f'{len(shown)} values'}")
    return " ".join(parts)


def _observed_text(result: dict) -> str:
    if "observed_value" in result:
        value = result["observed_value"]
        return f"{value:.4g}" if isinstance(value, float) else str(value)
    if "unexpected_percent" in result:
        return f"{result['unexpected_percent']:.3g}% unexpected ({result.get('unexpected_count')})"
    return "no result"


def validate(db_path: Path, out_dir: Path) -> tuple[bool, list[Outcome], float]:
    """Run every suite on the latest build; True when no `fail` expectation failed.

    The verdict goes into the build ledger with a fingerprint of every table the gate
    read and every public mart. Raises ledger.NotPublishable, without validating, when
    the latest build is unfinished, failed or partial.
    """
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl
    from great_expectations.expectations.row_conditions import Column

    from microseg.gx_duckdb import release_connections, use_persisted_connection

    started = time.perf_counter()
    use_persisted_connection()
    expectations_dir = project_dir() / "expectations"
    thresholds = yaml.safe_load((expectations_dir / "thresholds.yml").read_text())
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        build = ledger.latest_build(con)
        ledger.require_successful(build)
        relations = ledger.relations(con, build)
        values = {name: entry["value"] for name, entry in thresholds.items()}
        values |= _derived_values(con, relations)
        suites = {
            path.stem: yaml.safe_load(path.read_text())
            for path in sorted(expectations_dir.glob("*.yml"))
            if path.stem != "thresholds"
        }
        # A model left out of the build (the ML models when turned off) has no suite to run.
        suites = {name: suite for name, suite in suites.items() if suite["model"] in relations}
        specs = {name: _expectation_specs(suite, con, relations) for name, suite in suites.items()}
        judged = {suite["model"] for suite in suites.values()}
        judged |= set(ledger.relations(con, build, public_only=True))
        gated = {name: relations[name] for name in sorted(judged)}
        digest = ledger.fingerprint(con, gated)
    finally:
        con.close()

    gx_root = out_dir / "gx"
    shutil.rmtree(gx_root, ignore_errors=True)
    context = gx.get_context(mode="file", project_root_dir=str(out_dir))
    source = context.data_sources.add_sql(
        name="microseg",
        # Not read-only: in one process DuckDB shares a database between connections only
        # when their configuration matches, and `publish` writes right after.
        connection_string=f"duckdb:///{db_path.resolve()}",
    )
    definitions = []
    for name, suite in suites.items():
        relation = relations[suite["model"]]
        query = suite.get("query", "select * from {relation}").format(
            relation=relation, **relations
        )
        batch = source.add_query_asset(name=name, query=query).add_batch_definition_whole_table(
            "all"
        )
        gx_suite = context.suites.add(gx.ExpectationSuite(name=name))
        for spec in specs[name]:
            kwargs = {
                key: _resolve(value, values)
                for key, value in spec.items()
                if key not in SKIPPED_KEYS and key != "segment"
            }
            if "segment" in spec:
                kwargs["row_condition"] = Column("segment_key") == spec["segment"]
            threshold = _threshold_name(spec)
            severity = thresholds.get(threshold, {}).get("severity", "fail")
            expectation = get_expectation_impl(spec["expectation"])
            gx_suite.add_expectation(
                expectation(**kwargs, meta={"label": _label(spec), "severity": severity})
            )
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=gx_suite)
            )
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="microseg_quality_gate",
            validation_definitions=definitions,
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
        )
    )
    try:
        result = checkpoint.run()
    finally:
        release_connections()

    outcomes = []
    for suite_result in result.run_results.values():
        suite_name = suite_result.suite_name
        for item in suite_result.results:
            config = item.expectation_config
            meta = config.meta or {}
            severity = meta.get("severity", "fail")
            status = "pass" if item.success else ("warn" if severity == "warn" else "fail")
            observed = _observed_text(item.result or {})
            if item.exception_info and item.exception_info.get("raised_exception"):
                observed = f"error: {item.exception_info.get('exception_message', '')[:80]}"
                status = "fail"
            outcomes.append(
                Outcome(
                    suite_name,
                    meta.get("label", config.type),
                    observed,
                    _threshold_text(config.kwargs),
                    severity,
                    status,
                )
            )
    passed = not any(outcome.status == "fail" for outcome in outcomes)
    failed = ", ".join(o.expectation for o in outcomes if o.status == "fail")
    with duckdb.connect(str(db_path)) as con:
        # Publication fingerprints the tables again, so a later change is caught there.
        if ledger.latest_build(con) != build:
            raise ledger.NotPublishable(
                "another build ran while this one was validated: run `microseg validate` again"
            )
        ledger.record_verdict(con, build, passed, failed, gated, digest)
    seconds = time.perf_counter() - started
    _write_results(out_dir / "validation", db_path, build, passed, outcomes, seconds)
    return passed, outcomes, seconds


def _write_results(
    folder: Path,
    db_path: Path,
    build: ledger.Build,
    passed: bool,
    outcomes: list[Outcome],
    seconds: float,
) -> None:
    """A report for people and tools; publication never reads it (the ledger decides)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(
        json.dumps(
            {
                "passed": passed,
                "seconds": round(seconds, 2),
                "database": str(db_path.resolve()),
                "dbt_invocation_id": build.invocation_id,
                "outcomes": [asdict(outcome) for outcome in outcomes],
            },
            indent=2,
        )
    )


def render(passed: bool, outcomes: list[Outcome], seconds: float, docs: Path) -> str:
    order = {"fail": 0, "warn": 1, "pass": 2}
    lines = [f"{'suite':<24} {'expectation':<68} {'observed':<26} {'threshold':<24} status"]
    for outcome in sorted(outcomes, key=lambda o: (order[o.status], o.suite)):
        lines.append(
            f"{outcome.suite:<24} {outcome.expectation[:68]:<68} {outcome.observed[:26]:<26} "
            f"{outcome.threshold[:24]:<24} {outcome.status}"
        )
    counts = {status: sum(o.status == status for o in outcomes) for status in order}
    verdict = "PASSED" if passed else "FAILED"
    lines.append("")
    lines.append(
        f"quality gate {verdict} in {seconds:.1f} s: {counts['pass']} pass, {counts['warn']} warn, "
        f"{counts['fail']} fail; data docs: {docs}"
    )
    return "\n".join(lines)
