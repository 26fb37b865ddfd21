"""Write-audit-publish: copy the public marts to the schema consumers read, atomically,
only for the latest build, when it succeeded completely, its own gate passed and its
tables still match what the gate judged (all three read from the build ledger).

dbt builds every mart in `<schema>_marts` (the audit area). BI tools, reverse-ETL syncs and
`microseg export` read `<schema>_published`, which changes only here, in one DuckDB
transaction: either every public mart is replaced, or none is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from microseg import ledger
from microseg.ledger import NotPublishable as NotPublished

PUBLISHED_SCHEMA = "main_published"
LOG_TABLE = f"{PUBLISHED_SCHEMA}.microseg_publications"

__all__ = ["LOG_TABLE", "PUBLISHED_SCHEMA", "NotPublished", "publish"]


def publish(db_path: Path) -> list[str]:
    """Publish the latest build's public marts; raise NotPublished when it may not be."""
    con = duckdb.connect(str(db_path))
    try:
        con.begin()
        build = ledger.latest_build(con)
        ledger.require_successful(build)
        digest = ledger.require_passed_verdict(con, build)
        models = ledger.relations(con, build, public_only=True)
        con.execute(f"create schema if not exists {PUBLISHED_SCHEMA}")
        for name, relation in models.items():
            con.execute(
                f"create or replace table {PUBLISHED_SCHEMA}.{name} as select * from {relation}"
            )
        con.execute(
            f"create table if not exists {LOG_TABLE} (published_at timestamp, "
            "dbt_invocation_id varchar, tables varchar, tables_fingerprint varchar)"
        )
        con.execute(
            f"insert into {LOG_TABLE} values (?, ?, ?, ?)",
            [datetime.now(UTC).replace(tzinfo=None), build.invocation_id, ",".join(models), digest],
        )
        con.commit()
    except Exception:
        con.rollback()
        raise
    finally:
        con.close()
    return list(models)
