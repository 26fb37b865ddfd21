"""The quality gate: run the Great Expectations suites in `expectations/` on a build.

Each suite file names a model (and optionally a query over it) and lists expectations
whose numbers come from `expectations/thresholds.yml` (`$name`, or `1-$name` for a
`mostly`), from dbt vars or the build, or, for segment sizes, from the catalogue via
dim_segments. All suites run as one GX checkpoint through the SQL datasource, so the work
happens in the database. Results go to `<build>/validation/results.json` and GX Data Docs.

Every expectation ends with one status, and the gate never stops on its input:

- `pass`; `warn` (a `warn`-severity expectation failed: reported);
- `fail` (a `fail`-severity expectation failed: blocks publication);
- `withheld` (severity `withheld`, the segment sizes): the segment is below its min_size
  or above its max_share. dim_segments already keeps it out of every sync table
  (`status = 'withheld'`), so the gate names it with dim_segments.status_reason and does
  not block: the rest of the build is published;
- `not_evaluable`, with the reason: the table or the suite's query has no rows ("table is
  empty", "query returned no rows", or the suite's own `if_empty` text such as "needs 9
  days of data, has 1", which may carry its own `if_not_evaluable`), the
  column has no value ("column has no values"; `..._to_not_be_null` judges the nulls
  themselves, so it is evaluable on an all-null column), a number it compares with could
  not be derived from the build, or GX raised (the others still run).

Whether a `not_evaluable` blocks (Outcome.blocking), decided so that nothing can pass
unseen:

- severities `warn` and `withheld`: never;
- severity `fail`: it blocks, unless the expectation or its suite says
  `if_not_evaluable: report` because no rows or no values can hide no bad value there (an
  empty sync table holds no malformed id; RFM scores and e-mail rates are null on a shop
  without CRM customers or e-mails; the clean-event checks are covered by
  base_tracking__events; no trained propensity model scores nobody). An empty raw feed, a
  trained propensity model without a held-out ROC-AUC or a missing derived number block;
- GX raising on a `fail` expectation always blocks: nobody knows what it would have found;
- row counts are always evaluable: `min_persons` on an empty table is a plain fail.

An expectation may carry `explain: raw_event_triage`: when it fails, the first such failure
says why (clean, quarantined and duplicate shares, the main quarantine reasons and the top
unknown event names from fct_unmapped_values, with the fix) and the others in its suite
refer to it, so one cause gives one message.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from microseg import ledger
from microseg.project import project_dir, project_vars
from microseg.warehouse import DB_ERRORS, EMULATED_DATABASE, Target, connect, target

# Spec keys that are not GX arguments.
SKIPPED_KEYS = {"expectation", "threshold", "segment", "if_not_evaluable", "explain"}
# Expectations that judge the nulls themselves: an all-null column is a result for them.
NULL_SUBJECT = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"}
# Numbers read from the build rather than from thresholds.yml (None when unavailable).
DERIVED_MISSING = {
    "latest_allowed_time": "no as-of clock (dim_persons is empty and the build recorded none)",
    "segment_member_total": "dim_segments is not in the build",
}
# What an explanation may run into: a warehouse error or a table the build lacks.
EXPLAIN_ERRORS: tuple[type[Exception], ...] = (*DB_ERRORS, KeyError)
STATUS_ORDER = ("fail", "not_evaluable", "warn", "withheld", "pass")
UNMAPPED_FIX = "map them in seeds/event_type_mapping.csv"


@dataclass
class Outcome:
    suite: str
    expectation: str
    observed: str
    threshold: str
    severity: str
    status: str  # pass, warn, fail, withheld, not_evaluable
    reason: str = ""  # why it is not_evaluable or withheld, or what a failure comes from
    blocking: bool = False  # stops publication (every fail; some not_evaluable)
    threshold_name: str = ""
    segment: str = ""


@dataclass
class _Check:
    """One expectation as the gate plans it, before and after GX has run."""

    key: str
    suite: str
    spec: dict
    label: str
    severity: str
    threshold_name: str
    policy: str  # block or report: what a not_evaluable does on a fail expectation
    kwargs: dict
    not_evaluable: str = ""  # known before GX runs


def _scalar(con: Any, query: str, params: list | None = None) -> Any:
    row = con.execute(query, params or []).fetchone()
    return row[0] if row else None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None  # 'now', 'data' or nothing


def _derived_values(con: Any, relations: dict[str, str], build: ledger.Build) -> dict:
    """Numbers whose home is elsewhere: dbt vars, seeds, the build itself (None when the
    build cannot tell; the expectations using them are then not evaluable)."""
    variables = project_vars()
    with (project_dir() / "seeds" / "event_type_mapping.csv").open() as seed:
        event_types = sorted({row["event_type"] for row in csv.DictReader(seed)})
    as_of = None
    if "dim_persons" in relations:
        as_of = _scalar(con, f"select max(features_as_of) from {relations['dim_persons']}")
    if as_of is None:
        as_of = _timestamp(
            _scalar(
                con,
                f"select as_of from {ledger.LEDGER_SCHEMA}.builds where invocation_id = ?",
                [build.invocation_id],
            )
        )
    members = None
    if "dim_segments" in relations:
        members = _scalar(con, f"select sum(member_count) from {relations['dim_segments']}")
        members = int(members or 0)
    return {
        "event_types": event_types,
        "data_start": datetime.fromisoformat(str(variables["microseg__data_start_date"])),
        "latest_allowed_time": None
        if as_of is None
        else as_of + timedelta(minutes=variables["microseg__max_clock_skew_minutes"]),
        "max_session_seconds": variables["microseg__max_session_hours"] * 3600,
        "segment_member_total": members,
    }


def _references(spec: dict) -> list[str]:
    """The `$names` a spec uses."""
    return [
        value.split("$", 1)[1] for value in spec.values() if isinstance(value, str) and "$" in value
    ]


def _resolve(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("1-$"):
        number = values.get(value[3:])
        return None if number is None else 1 - number
    if isinstance(value, str) and value.startswith("$"):
        return values.get(value[1:])
    return value


def _threshold_name(spec: dict) -> str | None:
    if "threshold" in spec:
        return spec["threshold"]
    names = _references(spec)
    return names[0] if names else None


def _segment_rows(con: Any, relation: str) -> list[tuple]:
    """(segment_key, min_size, max_share, status_reason) of every segment but the fallback."""
    columns = {row[0] for row in con.execute(f"select * from {relation} limit 0").description}
    reason = "status_reason" if "status_reason" in columns else "null"
    return con.execute(
        f"select segment_key, min_size, max_share, {reason} from {relation} "
        "where not is_fallback order by priority"
    ).fetchall()


def _expectation_specs(suite: dict, con: Any, relations: dict[str, str]) -> list[dict]:
    """The suite's expectations, with per-segment ones expanded from dim_segments."""
    specs = [dict(spec) for spec in suite.get("expectations", [])]
    if templates := suite.get("for_each_segment"):
        for key, min_size, max_share, reason in _segment_rows(con, relations[suite["model"]]):
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
                spec["segment_reason"] = reason or ""
                specs.append(spec)
    return specs


def _label(spec: dict) -> str:
    name = spec["expectation"].removeprefix("expect_")
    target = spec.get("column", "table")
    return f"{name}({target}{', ' + spec['segment'] if 'segment' in spec else ''})"


def _threshold_text(kwargs: dict) -> str:
    parts = []
    if kwargs.get("mostly") is not None:
        parts.append(f"mostly {kwargs['mostly']:.4g}")
    if kwargs.get("min_value") is not None or kwargs.get("max_value") is not None:
        low = "" if kwargs.get("min_value") is None else kwargs["min_value"]
        high = "" if kwargs.get("max_value") is None else kwargs["max_value"]
        parts.append(f"[{low}, {high}]")
    if "value" in kwargs:
        parts.append(f"= {kwargs['value']}")
    if isinstance(kwargs.get("value_set"), list | tuple | set):
        shown = list(kwargs["value_set"])
        parts.append(f"in {shown if len(shown) <= 3 else f'{len(shown)} values'}")
    return " ".join(parts)


def _observed_text(result: dict) -> str:
    if result.get("observed_value") is not None:
        value = result["observed_value"]
        return f"{value:.4g}" if isinstance(value, float) else str(value)
    if result.get("unexpected_percent") is not None:
        count = result.get("unexpected_count")
        if isinstance(count, float) and count.is_integer():
            count = int(count)  # a count, whatever type the warehouse's SQL gave it
        return f"{result['unexpected_percent']:.3g}% unexpected ({count})"
    return "no result"


def _exception_message(info: Any) -> str | None:
    """GX's exception info, flat or keyed by metric: the first message, if one raised."""
    if not isinstance(info, dict) or not info:
        return None
    if "raised_exception" in info or "exception_message" in info:
        if info.get("raised_exception") or info.get("exception_message"):
            return str(info.get("exception_message") or "an exception")
        return None
    for value in info.values():
        if message := _exception_message(value):
            return message
    return None


def _first_line(text: str, width: int = 200) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    first = lines[0] if lines else str(text)
    return first if len(first) <= width else first[: width - 3] + "..."


def _batch_query(suite: dict, relations: dict[str, str]) -> str:
    relation = relations[suite["model"]]
    return suite.get("query", "select * from {relation}").format(relation=relation, **relations)


def _empty_reason(con: Any, suite: dict, relations: dict[str, str]) -> str:
    """Why a suite's batch has no rows: its own `if_empty` text, else "table is empty"."""
    rule = suite.get("if_empty")
    if not rule:
        relation = relations[suite["model"]]
        if "query" in suite and _scalar(con, f"select count(*) from {relation}"):
            return "query returned no rows"
        return "table is empty"
    fields: dict[str, Any] = {}
    if rule.get("query"):
        cursor = con.execute(rule["query"].format(relation=relations[suite["model"]], **relations))
        row = cursor.fetchone() or ()
        fields = {column[0]: value for column, value in zip(cursor.description, row, strict=False)}
    return rule["reason"].format(**fields)


def _precheck(
    con: Any,
    suite: dict,
    checks: list[_Check],
    relations: dict[str, str],
) -> None:
    """Find, before GX runs, what cannot be evaluated: no rows, no values in the column."""
    query = _batch_query(suite, relations)
    try:
        rows = _scalar(con, f"select count(*) from ({query}) as batch")
    except DB_ERRORS as error:
        for check in checks:
            check.not_evaluable = check.not_evaluable or f"error: {_first_line(str(error))}"
        return
    empty = _empty_reason(con, suite, relations) if not rows else ""
    for check in checks:
        spec = check.spec
        if check.not_evaluable or "column" not in spec:
            continue  # table-level expectations are always evaluable
        if empty:
            check.not_evaluable = empty
            check.policy = suite.get("if_empty", {}).get("if_not_evaluable", check.policy)
            continue
        if spec["expectation"] in NULL_SUBJECT:
            continue
        condition, params = (
            ("where segment_key = ?", [spec["segment"]]) if "segment" in spec else ("", [])
        )
        try:
            values = _scalar(
                con, f'select count("{spec["column"]}") from ({query}) as batch {condition}', params
            )
        except DB_ERRORS as error:
            check.not_evaluable = f"error: {_first_line(str(error))}"
            continue
        if not values:
            check.not_evaluable = "column has no values"


def _raw_event_triage(con: Any, relations: dict[str, str]) -> str:
    """Shares of clean, quarantined and duplicate raw events, the main quarantine reasons,
    and the top unknown event names (fct_unmapped_values when the build has it)."""
    relation = relations["base_tracking__events"]
    rows = con.execute(
        f"select row_status, coalesce(quarantine_reason, ''), count(*) from {relation} "
        "group by 1, 2 order by 3 desc"
    ).fetchall()
    total = sum(count for _, _, count in rows) or 1
    by_status: dict[str, int] = {}
    for status, _, count in rows:
        by_status[status] = by_status.get(status, 0) + count
    reasons = [(reason, count) for status, reason, count in rows if status == "quarantined"]
    parts = [f"{by_status.get('clean', 0) / total:.1%} of raw events clean"]
    quarantined = f"{by_status.get('quarantined', 0) / total:.1%} quarantined"
    if reasons:
        quarantined += (
            " ("
            + ", ".join(
                f"{reason or 'no reason'} {count / total:.1%}" for reason, count in reasons[:3]
            )
            + ")"
        )
    parts.append(quarantined)
    parts.append(f"{by_status.get('duplicate', 0) / total:.1%} duplicate")
    text = ", ".join(parts)
    names, fix = _unknown_event_names(con, relations)
    if names:
        shown = ", ".join(f"'{name}' {count:,}" for name, count in names[:5])
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        text += f"; top unknown event names: {shown}{more}; fix: {fix}"
    return text


def _unknown_event_names(con: Any, relations: dict[str, str]) -> tuple[list[tuple[str, int]], str]:
    """(raw name, rows) of unknown event names, most frequent first, and the fix."""
    if "fct_unmapped_values" in relations:
        try:
            rows = con.execute(
                f"select raw_value, row_count, fix from {relations['fct_unmapped_values']} "
                "where value_kind = 'event_name' order by row_count desc, raw_value"
            ).fetchall()
            fixes = [fix for _, _, fix in rows if fix]
            names = [(name or "(no name)", int(count)) for name, count, _ in rows]
            return names, fixes[0] if fixes else UNMAPPED_FIX
        except DB_ERRORS:
            pass  # an older shape of the mart: read the quarantine instead
    rows = con.execute(
        "select coalesce(event_name, '(no name)'), count(*) "
        f"from {relations['base_tracking__events']} "
        "where quarantine_reason = 'unknown_event_type' group by 1 order by 2 desc, 1"
    ).fetchall()
    return [(name, int(count)) for name, count in rows], UNMAPPED_FIX


EXPLAINERS: dict[str, Callable[[Any, dict[str, str]], str]] = {
    "raw_event_triage": _raw_event_triage,
}


def _plan(
    suites: dict[str, dict],
    con: Any,
    relations: dict[str, str],
    values: dict[str, Any],
    thresholds: dict[str, dict],
) -> dict[str, list[_Check]]:
    """Every expectation of every suite, with what is already known to be unevaluable."""
    plan: dict[str, list[_Check]] = {}
    for name, suite in suites.items():
        checks = []
        for number, spec in enumerate(_expectation_specs(suite, con, relations)):
            threshold = _threshold_name(spec)
            severity = thresholds.get(threshold or "", {}).get("severity", "fail")
            missing = [ref for ref in _references(spec) if values.get(ref) is None]
            kwargs = {
                key: _resolve(value, values)
                for key, value in spec.items()
                if key not in SKIPPED_KEYS and key != "segment_reason"
            }
            checks.append(
                _Check(
                    key=f"{name}#{number}",
                    suite=name,
                    spec=spec,
                    label=_label(spec),
                    severity=severity,
                    threshold_name=threshold or "",
                    policy=spec.get("if_not_evaluable", suite.get("if_not_evaluable", "block")),
                    kwargs=kwargs,
                    not_evaluable="; ".join(
                        DERIVED_MISSING.get(ref, f"no value for ${ref}") for ref in missing
                    ),
                )
            )
        _precheck(con, suite, checks, relations)
        plan[name] = checks
    return plan


def _not_evaluable(check: _Check, reason: str, observed: str = "", raised: bool = False) -> Outcome:
    blocks = check.severity == "fail" and (raised or check.policy != "report")
    return Outcome(
        check.suite,
        check.label,
        observed,
        _threshold_text(check.kwargs),
        check.severity,
        "not_evaluable",
        reason,
        blocks,
        check.threshold_name,
        check.spec.get("segment", ""),
    )


def _judge(check: _Check, item: Any) -> Outcome:
    """The outcome of one GX result (or of the exception raised instead of one)."""
    if isinstance(item, BaseException):
        return _not_evaluable(check, f"GX raised: {_first_line(str(item))}", "error", raised=True)
    if message := _exception_message(getattr(item, "exception_info", None)):
        return _not_evaluable(check, f"GX raised: {_first_line(message)}", "error", raised=True)
    result = dict(item.result or {})
    if result.get("element_count") == 0:
        return _not_evaluable(check, "table is empty")
    aggregate = "observed_value" in result
    if (aggregate and result["observed_value"] is None) or (
        not aggregate and "unexpected_percent" in result and result["unexpected_percent"] is None
    ):
        return _not_evaluable(check, "column has no values")
    if item.success:
        status = "pass"
    else:
        status = {"warn": "warn", "withheld": "withheld"}.get(check.severity, "fail")
    reason = ""
    if status == "withheld":
        reason = (
            check.spec.get("segment_reason")
            or f"{_observed_text(result)} outside {_threshold_text(check.kwargs)}"
        )
    return Outcome(
        check.suite,
        check.label,
        _observed_text(result),
        _threshold_text(check.kwargs),
        check.severity,
        status,
        reason,
        status == "fail",
        check.threshold_name,
        check.spec.get("segment", ""),
    )


def _explain(
    outcomes: list[Outcome],
    checks: list[_Check],
    con: Any,
    relations: dict[str, str],
) -> None:
    """One message per cause: the first failing expectation with `explain` says why, the
    others of its suite with the same `explain` refer to it."""
    first: dict[tuple[str, str], Outcome] = {}
    for outcome, check in zip(outcomes, checks, strict=True):
        explainer = check.spec.get("explain")
        if not explainer or outcome.status not in {"fail", "warn"}:
            continue
        if (check.suite, explainer) in first:
            named = first[(check.suite, explainer)]
            outcome.reason = f"same cause as {named.threshold_name or named.expectation}"
            continue
        try:
            outcome.reason = EXPLAINERS[explainer](con, relations)
        except EXPLAIN_ERRORS as error:
            outcome.reason = f"no explanation ({_first_line(str(error))})"
        first[(check.suite, explainer)] = outcome


def _named(outcome: Outcome) -> str:
    prefix = f"{outcome.threshold_name}: " if outcome.threshold_name else ""
    return prefix + outcome.expectation


def _blocking_summary(outcomes: Iterable[Outcome]) -> str:
    """What stops publication, one entry per cause (for the ledger and the summary):
    outcomes of one suite with the same reason (an empty table) are named once."""
    groups: dict[tuple[str, str], list[Outcome]] = {}
    entries: list[str | tuple[str, str]] = []
    for outcome in outcomes:
        if not outcome.blocking:
            continue
        if not outcome.reason:
            entries.append(f"{_named(outcome)} ({outcome.observed}, expected {outcome.threshold})")
            continue
        key = (outcome.suite, outcome.reason)
        if key not in groups:
            entries.append(key)
        groups.setdefault(key, []).append(outcome)
    texts = []
    for entry in entries:
        if isinstance(entry, str):
            texts.append(entry)
            continue
        members = groups[entry]
        if len(members) == 1:
            texts.append(f"{_named(members[0])} ({entry[1]})")
        else:
            texts.append(f"{entry[0]}: {entry[1]} ({len(members)} expectations)")
    return "; ".join(texts)


def withheld_segments(outcomes: Iterable[Outcome]) -> dict[str, str]:
    """Segment -> why it is withheld, in the gate's order."""
    withheld: dict[str, str] = {}
    for outcome in outcomes:
        if outcome.status == "withheld" and outcome.segment:
            withheld.setdefault(outcome.segment, outcome.reason)
    return withheld


def _run_checkpoint(context: Any, checkpoint: Any, definitions: list[Any]) -> dict[str, Any]:
    """GX's result per check key. A checkpoint that raises is run again suite by suite, and
    a suite that raises expectation by expectation, so one failure costs one result."""
    results: dict[str, Any] = {}

    def collect(items: Iterable[Any]) -> None:
        for item in items:
            key = (item.expectation_config.meta or {}).get("key")
            if key:
                results[key] = item

    try:
        run = checkpoint.run()
        for suite_result in run.run_results.values():
            collect(suite_result.results)
        return results
    except Exception:  # GX itself failed: run what can still run
        pass
    for definition in definitions:
        try:
            collect(definition.run().results)
            continue
        except Exception:
            pass
        try:
            batch = definition.batch_definition.get_batch()
        except Exception as error:
            for expectation in definition.suite.expectations:
                results[expectation.meta["key"]] = error
            continue
        for expectation in definition.suite.expectations:
            try:
                collect([batch.validate(expectation)])
            except Exception as error:
                results[expectation.meta["key"]] = error
    with contextlib.suppress(Exception):  # Data Docs are a convenience
        context.build_data_docs()
    return results


def validate(where: Path | Target, out_dir: Path) -> tuple[bool, list[Outcome], float]:
    """Run every suite on the latest build of a DuckDB file or a target; True when no
    outcome blocks (module docstring). GX computes every metric in that warehouse.

    The verdict goes into the build ledger with a fingerprint of every table the gate
    read and every public mart. Raises ledger.NotPublishable, without validating, when
    the latest build is unfinished, failed or partial.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.registry import get_expectation_impl
    from great_expectations.expectations.row_conditions import Column

    from microseg.gx_duckdb import release_connections, use_persisted_connection

    chosen = where if isinstance(where, Target) else target("dev", where)
    started = time.perf_counter()
    use_persisted_connection()
    expectations_dir = project_dir() / "expectations"
    thresholds = yaml.safe_load((expectations_dir / "thresholds.yml").read_text())
    con = connect(chosen, read_only=True)
    try:
        build = ledger.latest_build(con)
        ledger.require_successful(build)
        relations = ledger.relations(con, build)
        values = {name: entry["value"] for name, entry in thresholds.items()}
        values |= _derived_values(con, relations, build)
        suites = {
            path.stem: yaml.safe_load(path.read_text())
            for path in sorted(expectations_dir.glob("*.yml"))
            if path.stem != "thresholds"
        }
        # A model left out of the build (the ML models when turned off) has no suite to run.
        suites = {name: suite for name, suite in suites.items() if suite["model"] in relations}
        plan = _plan(suites, con, relations, values, thresholds)
        judged = {suite["model"] for suite in suites.values()}
        judged |= set(ledger.relations(con, build, public_only=True))
        gated = {name: relations[name] for name in sorted(judged)}
        try:
            digest = ledger.fingerprint(con, gated)
        except DB_ERRORS as error:
            raise ledger.NotPublishable(
                f"a table the build recorded cannot be read ({_first_line(str(error))}): "
                "run `microseg build` again"
            ) from error
    finally:
        con.close()

    gx_root = out_dir / "gx"
    shutil.rmtree(gx_root, ignore_errors=True)
    context = gx.get_context(mode="file", project_root_dir=str(out_dir))
    # One bar per expectation on stderr otherwise; the verdict table says it all.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_sql(name="microseg", connection_string=gx_url(chosen))
    definitions = []
    built: dict[str, Exception] = {}
    for name, suite in suites.items():
        expectations = []
        for check in plan[name]:
            if check.not_evaluable:
                continue
            kwargs = dict(check.kwargs)
            if "segment" in check.spec:
                kwargs["row_condition"] = Column("segment_key") == check.spec["segment"]
            try:
                expectation = get_expectation_impl(check.spec["expectation"])
                meta = {"label": check.label, "severity": check.severity, "key": check.key}
                expectations.append(expectation(**kwargs, meta=meta))
            except Exception as error:  # GX refused the arguments
                built[check.key] = error
        if not expectations:
            continue
        batch = source.add_query_asset(
            name=name, query=_batch_query(suite, relations)
        ).add_batch_definition_whole_table("all")
        # Added in one go: adding one by one to a stored suite rewrites it every time.
        gx_suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
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
        results = _run_checkpoint(context, checkpoint, definitions)
    finally:
        release_connections()

    outcomes: list[Outcome] = []
    with connect(chosen, read_only=True) as con:
        for checks in plan.values():
            judged_here = []
            for check in checks:
                if check.not_evaluable:
                    judged_here.append(_not_evaluable(check, check.not_evaluable))
                elif check.key in built:
                    judged_here.append(_judge(check, built[check.key]))
                elif check.key in results:
                    judged_here.append(_judge(check, results[check.key]))
                else:
                    judged_here.append(_not_evaluable(check, "GX returned no result", raised=True))
            _explain(judged_here, checks, con, relations)
            outcomes.extend(judged_here)
    passed = not any(outcome.blocking for outcome in outcomes)
    failed = _blocking_summary(outcomes)
    with connect(chosen) as con:
        # Publication fingerprints the tables again, so a later change is caught there.
        if ledger.latest_build(con) != build:
            raise ledger.NotPublishable(
                "another build ran while this one was validated: run `microseg validate` again"
            )
        ledger.record_verdict(con, build, passed, failed, gated, digest)
    seconds = time.perf_counter() - started
    _write_results(out_dir / "validation", chosen, build, passed, outcomes, seconds)
    return passed, outcomes, seconds


def gx_url(chosen: Target) -> str:
    """GX's SQL datasource for the target. Snowflake's credentials stay `${VARIABLES}`,
    which GX substitutes from the environment when it connects: the GX project files
    written beside the build hold no secret."""
    if chosen.db_path is not None:
        # Not read-only: in one process DuckDB shares a database between connections only
        # when their configuration matches, and `publish` writes right after.
        return f"duckdb:///{chosen.db_path}"
    if chosen.name == "fakesnow":
        return f"snowflake://fake:snow@fakesnow/{EMULATED_DATABASE}/{chosen.schema}"
    secret = "${SNOWFLAKE_PASSWORD}"
    query = "warehouse=${SNOWFLAKE_WAREHOUSE}&role=${SNOWFLAKE_ROLE}"
    if os.environ.get("SNOWFLAKE_PRIVATE_KEY_PATH"):
        secret = ""
        query += "&private_key_file=${SNOWFLAKE_PRIVATE_KEY_PATH}"
        if os.environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"):
            query += "&private_key_file_pwd=${SNOWFLAKE_PRIVATE_KEY_PASSPHRASE}"
    user = "${SNOWFLAKE_USER}" + (f":{secret}" if secret else "")
    return (
        f"snowflake://{user}@${{SNOWFLAKE_ACCOUNT}}/${{SNOWFLAKE_DATABASE}}/{chosen.schema}?{query}"
    )


def _write_results(
    folder: Path,
    chosen: Target,
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
                "database": chosen.label,
                "dbt_invocation_id": build.invocation_id,
                "blocking": _blocking_summary(outcomes),
                "withheld_segments": withheld_segments(outcomes),
                "outcomes": [asdict(outcome) for outcome in outcomes],
            },
            indent=2,
            default=str,
        )
    )


def summary_lines(passed: bool, outcomes: list[Outcome], seconds: float) -> list[str]:
    """The verdict, what blocks it, and every withheld segment with its reason."""
    counts = {status: sum(o.status == status for o in outcomes) for status in STATUS_ORDER}
    withheld = withheld_segments(outcomes)
    verdict = "PASSED" if passed else "FAILED"
    lines = [
        f"quality gate {verdict} in {seconds:.1f} s: {counts['pass']} pass, {counts['warn']} warn, "
        f"{counts['fail']} fail, {counts['not_evaluable']} not evaluable, "
        f"{len(withheld)} segments withheld"
    ]
    if not passed:
        lines.append(f"blocking: {_blocking_summary(outcomes)}")
    if withheld:
        lines.append(
            f"withheld segments ({len(withheld)}: kept out of the sync tables, "
            "the rest is published):"
        )
        lines.extend(f"  {segment:<32} {reason}" for segment, reason in withheld.items())
    return lines


def render(
    passed: bool, outcomes: list[Outcome], seconds: float, docs: Path, page: Path | None = None
) -> str:
    order = {status: rank for rank, status in enumerate(STATUS_ORDER)}
    lines = [f"{'suite':<24} {'expectation':<68} {'observed':<26} {'threshold':<24} status"]
    for outcome in sorted(
        outcomes, key=lambda o: (not o.blocking, order.get(o.status, len(order)), o.suite)
    ):
        status = outcome.status + (
            " (blocks)" if outcome.blocking and outcome.status != "fail" else ""
        )
        reason = f"  {outcome.reason}" if outcome.reason else ""
        lines.append(
            f"{outcome.suite:<24} {outcome.expectation[:68]:<68} {outcome.observed[:26]:<26} "
            f"{outcome.threshold[:24]:<24} {status}{reason}"
        )
    lines.append("")
    summary = summary_lines(passed, outcomes, seconds)
    where = f"; gate page: {page} (offline)" if page else ""
    lines.append(f"{summary[0]}{where}; GX data docs (need a network): {docs}")
    lines.extend(summary[1:])
    return "\n".join(lines)
