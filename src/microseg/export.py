"""Write the sync tables to files a marketer can upload or a reverse-ETL tool can read."""

from __future__ import annotations

from pathlib import Path

import duckdb

from microseg.db import scalar
from microseg.publish import PUBLISHED_SCHEMA as PUBLISHED_SCHEMA
from microseg.rules import KEY_PATTERN, CatalogueError

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


class UnsafeExport(CatalogueError):
    """A segment key is not a valid key, or a file would land outside the output folder."""


def export(
    db_path: Path, out_dir: Path, file_format: str = "csv", schema: str = PUBLISHED_SCHEMA
) -> dict[str, int]:
    """Write every sync table whole, plus one list per segment without holdout members.

    Reads the published copies unless told otherwise. Returns rows written per file,
    relative to out_dir. Writes nothing outside out_dir: a segment key that is not a valid
    key (microseg.rules.KEY_PATTERN) or a path resolving elsewhere raises UnsafeExport.
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

        root = out_dir.resolve()

        def write(query: str, relative: str, parameters: list[str] | None = None) -> None:
            path = (root / relative).resolve()
            if not path.is_relative_to(root):
                raise UnsafeExport(f"refusing to write {relative}: it resolves outside {root}")
            path.parent.mkdir(parents=True, exist_ok=True)
            target = str(path).replace("'", "''")
            con.execute(f"copy ({query}) to '{target}' {options}", parameters)
            written[relative] = scalar(con, f"select count(*) from ({query})", parameters)

        # Every segment key names a file: check them all before writing anything.
        lists: list[tuple[str, str, str, str]] = []
        for table, columns, folder in SEGMENT_LISTS:
            segments = con.execute(
                f"select distinct segment_key from {schema}.{table} order by 1"
            ).fetchall()
            for (segment,) in segments:
                if not isinstance(segment, str) or not KEY_PATTERN.fullmatch(segment):
                    raise UnsafeExport(
                        f"{schema}.{table} has segment_key {segment!r}, not a valid key "
                        "(^[a-z][a-z0-9_]{0,62}$): refusing to name a file after it"
                    )
                lists.append((table, columns, folder, segment))
        for table in SYNC_TABLES:
            write(f"select * from {schema}.{table} order by 1", f"{table}.{file_format}")
        for table, columns, folder, segment in lists:
            write(
                f"select {columns} from {schema}.{table} "
                "where segment_key = ? and not is_holdout order by 1",
                f"{folder}/{segment}.{file_format}",
                [segment],
            )
    finally:
        con.close()
    return written
