"""The project's floor plan, checked over dbt's manifest.json: the rules of dbt Labs'
dbt-project-evaluator that matter here, written for this project (the package hub is out
of reach). Run by pytests/test_house_rules.py; `python pytests/house_rules.py MANIFEST`
prints the findings and the DAG's shape.

Layers are folders: models/staging -> intermediate -> marts -> activation. A model reads
only its own layer or those below; only base_ models read sources, and nothing above
staging reads a base_ model. Findings a rule should not apply to are listed, each with
its reason, in pytests/house_exceptions.yml.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LAYERS = ("staging", "intermediate", "marts", "activation")
PREFIXES = {
    "staging": ("base_", "stg_"),
    "intermediate": ("int_",),
    "marts": ("dim_", "fct_"),
    "activation": ("sync_",),
}
# dbt-project-evaluator's defaults.
MAX_JOINS = 7
MAX_LEAF_CHILDREN = 3
MAX_CHAINED_VIEWS = 4
EXCEPTIONS = Path(__file__).with_name("house_exceptions.yml")


@dataclass(frozen=True)
class Finding:
    rule: str
    model: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.model}: {self.detail}"


class Dag:
    """The models of one manifest, with their parents, children and tests."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.nodes = {
            uid: node
            for uid, node in manifest["nodes"].items()
            if node["resource_type"] == "model" and node["package_name"] == "microseg"
        }
        self.tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
        self.name = {uid: node["name"] for uid, node in self.nodes.items()}
        self.parents: dict[str, list[str]] = {}
        self.sources: dict[str, list[str]] = {}
        self.other_inputs: dict[str, list[str]] = {}  # seeds and snapshots
        for uid, node in self.nodes.items():
            depends = node["depends_on"]["nodes"]
            self.parents[uid] = [d for d in depends if d in self.nodes]
            self.sources[uid] = [d for d in depends if d.startswith("source.")]
            self.other_inputs[uid] = [d for d in depends if d.split(".")[0] in ("seed", "snapshot")]
        self.children: dict[str, list[str]] = {uid: [] for uid in self.nodes}
        for uid, parents in self.parents.items():
            for parent in parents:
                self.children[parent].append(uid)

    def upstream_sources(self, uid: str) -> set[str]:
        found = set(self.sources[uid])
        for parent in self.parents[uid]:
            found |= self.upstream_sources(parent)
        return found

    def layer(self, uid: str) -> str:
        parts = Path(self.nodes[uid]["original_file_path"]).parts
        return parts[1] if len(parts) > 2 and parts[1] in LAYERS else "unknown"

    def rank(self, uid: str) -> int:
        layer = self.layer(uid)
        return LAYERS.index(layer) if layer in LAYERS else -1

    def is_physical(self, uid: str) -> bool:
        return self.nodes[uid]["config"]["materialized"] in ("table", "incremental")

    def longest_path(self) -> list[str]:
        best: dict[str, list[str]] = {}

        def path(uid: str) -> list[str]:
            if uid not in best:
                longest = max((path(p) for p in self.parents[uid]), key=len, default=[])
                best[uid] = [*longest, uid]
            return best[uid]

        return max((path(uid) for uid in self.nodes), key=len)

    def layer_switches(self, path: list[str]) -> int:
        return sum(self.layer(a) != self.layer(b) for a, b in itertools.pairwise(path))


def _tested_columns(dag: Dag) -> dict[str, dict[str, set[str]]]:
    """Model uid -> test name -> the columns (or column lists) it tests."""
    tested: dict[str, dict[str, set[str]]] = {uid: {} for uid in dag.nodes}
    for test in dag.tests:
        meta = test.get("test_metadata") or {}
        attached = test.get("attached_node")
        if attached not in tested or not meta:
            continue
        kwargs = meta.get("kwargs") or {}
        column = test.get("column_name") or kwargs.get("column_name")
        if meta["name"] == "unique_combination":
            column = ",".join(kwargs.get("columns") or [])
        tested[attached].setdefault(meta["name"], set()).add(str(column))
    return tested


def findings(manifest: dict[str, Any]) -> Iterator[Finding]:
    dag = Dag(manifest)
    tested = _tested_columns(dag)
    tested_models = {d for test in dag.tests for d in test["depends_on"]["nodes"]}
    for uid, node in sorted(dag.nodes.items(), key=lambda item: item[1]["name"]):
        name, layer = node["name"], dag.layer(uid)
        if layer == "unknown":
            yield Finding("model_directories", name, "not under models/<layer>/")
            continue
        if not name.startswith(PREFIXES[layer]):
            yield Finding("naming", name, f"{layer} models are named {'/'.join(PREFIXES[layer])}*")
        for parent in dag.parents[uid]:
            parent_name = dag.name[parent]
            if dag.rank(parent) > dag.rank(uid):
                yield Finding(
                    "layer_order", name, f"reads {parent_name} ({dag.layer(parent)}), above {layer}"
                )
            if parent_name.startswith("base_") and layer != "staging":
                yield Finding("base_outside_staging", name, f"reads {parent_name}")
        if dag.sources[uid] and not name.startswith("base_"):
            yield Finding("source_outside_base", name, f"reads {', '.join(dag.sources[uid])}")
        if dag.sources[uid] and (dag.parents[uid] or dag.other_inputs[uid]):
            yield Finding("direct_join_to_source", name, "joins a source to models or seeds")
        if len(dag.sources[uid]) > 1:
            yield Finding("multiple_sources_joined", name, f"reads {', '.join(dag.sources[uid])}")
        if name.startswith("stg_"):
            folder = Path(node["original_file_path"]).parts[2]
            foreign = sorted({s.split(".")[-2] for s in dag.upstream_sources(uid)} - {folder})
            if foreign:
                yield Finding("model_directories", name, f"in {folder}/, reads sources {foreign}")
        if uid not in tested_models:
            yield Finding("untested_model", name, "no test reads it")
        if not (dag.parents[uid] or dag.sources[uid] or dag.other_inputs[uid]):
            yield Finding("root_model", name, "reads no model or source")
        yield from _documentation(node)
        yield from _primary_key(node, tested[uid])
        if node.get("access") == "public" and not node["config"]["contract"]["enforced"]:
            yield Finding("public_model_without_contract", name, "access: public, no contract")
        if node.get("patch_path") and not _beside(node):
            yield Finding("test_directories", name, f"documented in {node['patch_path']}")
        joins = len(re.findall(r"\bjoin\b", _code(node), flags=re.IGNORECASE))
        if joins > MAX_JOINS:
            yield Finding("too_many_joins", name, f"{joins} joins (at most {MAX_JOINS})")
        leaves = [c for c in dag.children[uid] if not dag.children[c]]
        if len(leaves) >= MAX_LEAF_CHILDREN:
            yield Finding(
                "model_fanout",
                name,
                f"{len(leaves)} leaf children: {sorted(dag.name[c] for c in leaves)}",
            )
        yield from _rejoins(dag, uid)
        yield from _hard_coded_references(node)
    yield from _chained_views(dag)
    yield from _source_rules(manifest, dag)
    for exposure in manifest.get("exposures", {}).values():
        for parent in exposure["depends_on"]["nodes"]:
            node = dag.nodes.get(parent)
            if node is not None and node.get("access") != "public":
                yield Finding(
                    "exposure_on_private_model", exposure["name"], f"reads {node['name']}"
                )


def _source_rules(manifest: dict[str, Any], dag: Dag) -> Iterator[Finding]:
    """Each source read by one base_ model, with a freshness check."""
    readers: dict[str, list[str]] = {}
    for uid in dag.nodes:
        for source in dag.sources[uid]:
            readers.setdefault(source, []).append(dag.name[uid])
    for uid, source in sorted(manifest["sources"].items()):
        name = f"{source['source_name']}.{source['name']}"
        if len(readers.get(uid, [])) > 1:
            yield Finding("source_fanout", name, f"read by {', '.join(sorted(readers[uid]))}")
        freshness = source.get("freshness") or (source.get("config") or {}).get("freshness") or {}
        if not any((freshness.get(k) or {}).get("count") for k in ("warn_after", "error_after")):
            yield Finding("source_without_freshness", name, "no freshness check")


def _code(node: dict[str, Any]) -> str:
    """The model's code without comments."""
    code = node.get("raw_code") or ""
    code = re.sub(r"\{#.*?#\}", "", code, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", "", code)


def _documentation(node: dict[str, Any]) -> Iterator[Finding]:
    description = node.get("description") or ""
    if not description.strip():
        yield Finding("undocumented_model", node["name"], "no description")
    elif "grain" not in description.lower():
        yield Finding(
            "undocumented_grain", node["name"], "the description does not state the grain"
        )
    undocumented = [
        c for c, v in node["columns"].items() if not (v.get("description") or "").strip()
    ]
    if undocumented:
        yield Finding("undocumented_columns", node["name"], ", ".join(sorted(undocumented)))


def _primary_key(node: dict[str, Any], tests: dict[str, set[str]]) -> Iterator[Finding]:
    unique = tests.get("unique", set()) & tests.get("not_null", set())
    if not unique and not tests.get("unique_combination"):
        yield Finding("missing_primary_key_test", node["name"], "no unique + not_null column")


def _beside(node: dict[str, Any]) -> bool:
    """The model's YAML sits in the model's own folder."""
    yaml_path = node["patch_path"].split("://", 1)[-1]
    return Path(yaml_path).parent == Path(node["original_file_path"]).parent


def _rejoins(dag: Dag, uid: str) -> Iterator[Finding]:
    """A -> B -> C and A -> C, where B feeds nothing but C: B is a CTE in disguise."""
    for middle in dag.parents[uid]:
        if dag.children[middle] != [uid]:
            continue
        for upstream in set(dag.parents[middle]) & set(dag.parents[uid]):
            yield Finding(
                "rejoining_of_upstream_concepts",
                dag.name[uid],
                f"reads {dag.name[upstream]} directly and through {dag.name[middle]}",
            )


def _hard_coded_references(node: dict[str, Any]) -> Iterator[Finding]:
    """`from schema.table` written out instead of ref() or source()."""
    code = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", _code(node), flags=re.DOTALL)
    ctes = {name.lower() for name in re.findall(r"(\w+)\s+as\s*\(", code, re.IGNORECASE)}
    pattern = r"(?<!distinct )\b(?:from|join)\s+([a-z_]\w*)\.([a-z_][\w.]*)"
    for match in re.finditer(pattern, code, re.IGNORECASE):
        if match.group(1).lower() not in ctes:
            yield Finding("hard_coded_references", node["name"], match.group(0))


def _chained_views(dag: Dag) -> Iterator[Finding]:
    """Chains of more than MAX_CHAINED_VIEWS views and ephemeral models in a row."""

    def chain(uid: str) -> int:
        if dag.is_physical(uid):
            return 0
        return 1 + max((chain(p) for p in dag.parents[uid]), default=0)

    for uid in dag.nodes:
        if chain(uid) > MAX_CHAINED_VIEWS:
            yield Finding("chained_views", dag.name[uid], f"{chain(uid)} views/ephemeral in a row")


def exceptions() -> dict[tuple[str, str], str]:
    """(rule, model) -> why the rule does not apply there (an entry names a `model` or a
    list of `models`; sources are named `<source>.<table>`)."""
    entries = yaml.safe_load(EXCEPTIONS.read_text()) or []
    return {
        (entry["rule"], model): entry["reason"]
        for entry in entries
        for model in entry.get("models") or [entry["model"]]
    }


def shape(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the closing note reports: edges against the layers, the longest path."""
    dag = Dag(manifest)
    path = dag.longest_path()
    against = [
        (dag.name[p], dag.name[uid])
        for uid in dag.nodes
        for p in dag.parents[uid]
        if dag.rank(p) > dag.rank(uid)
        or (dag.name[p].startswith("base_") and dag.layer(uid) != "staging")
    ]
    return {
        "models": len(dag.nodes),
        "edges": sum(len(p) for p in dag.parents.values()),
        "edges_against_layers": against,
        "longest_path": [dag.name[uid] for uid in path],
        "longest_path_layer_switches": dag.layer_switches(path),
    }


def main(path: str) -> None:
    manifest = json.loads(Path(path).read_text())
    excepted = exceptions()
    for finding in findings(manifest):
        reason = excepted.get((finding.rule, finding.model))
        print(f"{'excepted' if reason else 'FINDING '} {finding}")
    print(json.dumps(shape(manifest), indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
