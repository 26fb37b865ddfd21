"""Write the sync tables to files a marketer can upload or a reverse-ETL tool can read."""

from __future__ import annotations

from pathlib import Path

import duckdb

from microseg.publish import PUBLISHED_SCHEMA as PUBLISHED_SCHEMA

SYNC_TABLES = ("sync_email_audiences", "sync_ad_audiences", "sync_crm_traits")
# Per-segment upload lists: table, the columns a destination takes, and the list folder.
SEGMENT_LISTS = (
    ("sync_ad_audiences", "email_sha256_unsalted as email_sha256, country", "ad_lists"),
    (
        "sync_email_audiences",
        "user_id, top_interest, offer_tier, last_abandoned_cart_product_ids",
        "email_lists",
    ),
)


class NothingPublished(Exception):
    """The schema to export from does not exist yet."""


def export(
    db_path: Path, out_dir: Path, file_format: str = "csv", schema: str = PUBLISHED_SCHEMA
) -> dict[str, int]:
    """Write every sync table whole, plus one list per segment without holdout members.

    Reads the published copies unless told otherwise. Returns rows written per file,
    relative to out_dir.
    """
    options = "(format csv, header)" if file_format == "csv" else "(format parquet)"
    written: dict[str, int] = {}
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        schemas = {
            row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()
        }
        if schema not in schemas:
            raise NothingPublished(f"{db_path} has no schema {schema}: run `microseg publish`")

        def write(query: str, relative: str) -> None:
            path = out_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy ({query}) to '{path}' {options}")
            written[relative] = con.execute(f"select count(*) from ({query})").fetchone()[0]

        for table in SYNC_TABLES:
            write(f"select * from {schema}.{table} order by 1", f"{table}.{file_format}")
        for table, columns, folder in SEGMENT_LISTS:
            segments = con.execute(
                f"select distinct segment_key from {schema}.{table} order by 1"
            ).fetchall()
            for (segment,) in segments:
                write(
                    f"select {columns} from {schema}.{table} "
                    f"where segment_key = '{segment}' and not is_holdout order by 1",
                    f"{folder}/{segment}.{file_format}",
                )
    finally:
        con.close()
    return written
