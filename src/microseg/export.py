"""Write the sync tables to files a marketer can upload or a reverse-ETL tool can read."""

from __future__ import annotations

from pathlib import Path

import duckdb

from microseg.publish import PUBLISHED_SCHEMA as PUBLISHED_SCHEMA
from microseg.rules import KEY_PATTERN, CatalogueError
from microseg.warehouse import Target, connect, target

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
    where: Path | Target, out_dir: Path, file_format: str = "csv", schema: str | None = None
) -> dict[str, int]:
    """Write every sync table whole, plus one list per segment (no holdout member is in them).

    Reads the published copies (of a DuckDB file or a target's warehouse) unless told
    otherwise; the rows are fetched and written locally, so files look the same from every
    warehouse. Returns rows written per file, relative to out_dir. Writes nothing outside
    out_dir: a segment key that is not a valid key (microseg.rules.KEY_PATTERN) or a path
    resolving elsewhere raises UnsafeExport.
    """
    chosen = where if isinstance(where, Target) else target("dev", where)
    options = "(format csv, header)" if file_format == "csv" else "(format parquet)"
    written: dict[str, int] = {}
    with connect(chosen, read_only=True) as warehouse:
        schema = schema or chosen.layer("published")
        if not warehouse.has_schema(schema):
            raise NothingPublished(f"{chosen.label} has no schema {schema}: run `microseg publish`")

        root = out_dir.resolve()
        local = duckdb.connect()

        def write(query: str, relative: str, parameters: list[str] | None = None) -> None:
            path = (root / relative).resolve()
            if not path.is_relative_to(root):
                raise UnsafeExport(f"refusing to write {relative}: it resolves outside {root}")
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = warehouse.frame(query, parameters)
            local.register("rows_to_write", rows)
            target_file = str(path).replace("'", "''")
            local.execute(f"copy rows_to_write to '{target_file}' {options}")
            local.unregister("rows_to_write")
            written[relative] = len(rows)

        # Every segment key names a file: check them all before writing anything.
        lists: list[tuple[str, str, str, str]] = []
        for table, columns, folder in SEGMENT_LISTS:
            segments = warehouse.execute(
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
                f"select {columns} from {schema}.{table} where segment_key = ? order by 1",
                f"{folder}/{segment}.{file_format}",
                [segment],
            )
    return written
