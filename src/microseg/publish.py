"""Write-audit-publish: copy the public marts to the schema consumers read, atomically,
only when the quality gate passed on exactly the build being published.

dbt builds every mart in `<schema>_marts` (the audit area). BI tools, reverse-ETL syncs and
`microseg export` read `<schema>_published`, which changes only here, in one DuckDB
transaction: either every public mart is replaced, or none is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

PUBLISHED_SCHEMA = "main_published"
LOG_TABLE = f"{PUBLISHED_SCHEMA}.microseg_publications"


class NotPublished(Exception):
    """The gate did not pass for the current build; nothing was changed."""


def public_models(target_dir: Path) -> dict[str, str]:
    """Model name -> relation of every `access: public` model in the build's manifest."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    return {
        node["name"]: f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("access") == "public"
    }


def publish(db_path: Path, results_path: Path) -> list[str]:
    """Publish the current build's public marts; raise NotPublished when it may not be."""
    target_dir = db_path.parent / "target"
    if not results_path.exists():
        raise NotPublished("no quality gate result: run `microseg validate` first")
    gate = json.loads(results_path.read_text())
    build = json.loads((target_dir / "run_results.json").read_text())["metadata"]
    if gate["dbt_invocation_id"] != build["invocation_id"]:
        raise NotPublished("the quality gate result is for an earlier build: validate this one")
    if not gate["passed"]:
        failed = [o["expectation"] for o in gate["outcomes"] if o["status"] == "fail"]
        raise NotPublished(f"the quality gate failed: {', '.join(failed)}")

    models = public_models(target_dir)
    con = duckdb.connect(str(db_path))
    try:
        con.begin()
        con.execute(f"create schema if not exists {PUBLISHED_SCHEMA}")
        for name, relation in sorted(models.items()):
            con.execute(
                f"create or replace table {PUBLISHED_SCHEMA}.{name} as select * from {relation}"
            )
        con.execute(
            f"create table if not exists {LOG_TABLE} "
            "(published_at timestamp, dbt_invocation_id varchar, tables varchar)"
        )
        con.execute(
            f"insert into {LOG_TABLE} values (?, ?, ?)",
            [
                datetime.now(UTC).replace(tzinfo=None),
                build["invocation_id"],
                ",".join(sorted(models)),
            ],
        )
        con.commit()
    except Exception:
        con.rollback()
        raise
    finally:
        con.close()
    return sorted(models)
