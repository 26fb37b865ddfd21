"""The floor plan holds: layers in order, names, keys, contracts and docs (house_rules.py),
checked over the manifest dbt wrote for the shared demo build of the project as it is."""

from __future__ import annotations

import json

import pytest

from conftest import Build
from house_rules import exceptions, findings, shape

NEVER_EXCEPTED = {"layer_order", "base_outside_staging", "source_outside_base"}


@pytest.fixture(scope="module")
def manifest(demo_build: Build) -> dict:
    return json.loads((demo_build.db_path.parent / "target" / "manifest.json").read_text())


def test_no_edge_runs_against_the_layers(manifest: dict) -> None:
    assert shape(manifest)["edges_against_layers"] == []
    against = [f for f in findings(manifest) if f.rule in NEVER_EXCEPTED]
    assert against == []


def test_every_finding_is_fixed_or_excepted_with_a_reason(manifest: dict) -> None:
    excepted = exceptions()
    assert all(reason.strip() for reason in excepted.values())
    assert not NEVER_EXCEPTED & {rule for rule, _ in excepted}
    open_findings = [str(f) for f in findings(manifest) if (f.rule, f.model) not in excepted]
    assert open_findings == []


def test_no_exception_is_stale(manifest: dict) -> None:
    found = {(f.rule, f.model) for f in findings(manifest)}
    assert set(exceptions()) - found == set()


def test_the_rules_catch_what_they_claim(manifest: dict) -> None:
    """A mart read from intermediate, a source read above base_, a public model without a
    contract and a model without a key test are each found."""
    broken = json.loads(json.dumps(manifest))
    nodes = broken["nodes"]
    catalogue = nodes["model.microseg.int_segment_catalogue_rendered"]
    catalogue["depends_on"]["nodes"].append("model.microseg.fct_daily_event_volumes")
    stg = nodes["model.microseg.stg_tracking__events"]
    stg["depends_on"]["nodes"].append(next(iter(broken["sources"])))
    nodes["model.microseg.fct_segment_overlaps"]["config"]["contract"]["enforced"] = False
    for test in nodes.values():
        if (
            test["resource_type"] == "test"
            and test.get("attached_node") == "model.microseg.dim_segments"
        ):
            test["attached_node"] = None
    rules = {(f.rule, f.model) for f in findings(broken)}
    assert ("layer_order", "int_segment_catalogue_rendered") in rules
    assert ("source_outside_base", "stg_tracking__events") in rules
    assert ("public_model_without_contract", "fct_segment_overlaps") in rules
    assert ("missing_primary_key_test", "dim_segments") in rules
    against = shape(broken)["edges_against_layers"]
    assert against == [("fct_daily_event_volumes", "int_segment_catalogue_rendered")]
