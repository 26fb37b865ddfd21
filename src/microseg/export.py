"""Write the sync tables to files a marketer can upload or a reverse-ETL tool can read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from microseg.publish import PUBLISHED_SCHEMA as PUBLISHED_SCHEMA
from microseg.rules import KEY_PATTERN, CatalogueError
from microseg.warehouse import Target, connect, target

SYNC_TABLES = (
    "sync_email_audiences",
    "sync_ad_audiences",
    "sync_crm_traits",
    "sync_google_customer_match",
    "sync_meta_custom_audiences",
)


@dataclass(frozen=True)
class UploadFile:
    """An upload file in a platform's template: its headers, each from a sync table column.

    Per segment (`folder/<segment>.<format>`) unless `name` gives the one file's name; only
    the rows `where` allows. docs/destinations.md cites each platform's template.
    """

    table: str
    folder: str
    columns: tuple[tuple[str, str], ...]  # (header, column)
    where: str = "true"
    name: str | None = None

    @property
    def headers(self) -> list[str]:
        return [header for header, _ in self.columns]

    def query(self, schema: str, per_segment: bool) -> str:
        selected = ", ".join(column for _, column in self.columns)
        segment = " and segment_key = ?" if per_segment else ""
        return (
            f"select {selected} from {schema}.{self.table} "
            f"where {self.where}{segment} order by {self.columns[0][1]}"
        )


# Google Ads Customer Match: the template's e-mail header, holding the hash. A job's consent
# applies to all its members, and a DENIED one is refused, so the file holds only members
# with both EEA signals GRANTED; the others go through an API sync, one job per pair.
GOOGLE_CUSTOMER_MATCH = UploadFile(
    "sync_google_customer_match",
    "google_customer_match",
    (("Email", "email_sha256_google"),),
    "ad_user_data = 'GRANTED' and ad_personalization = 'GRANTED'",
)
# Meta customer list: the template's lowercase identifier headers.
META_CUSTOM_AUDIENCES = UploadFile(
    "sync_meta_custom_audiences",
    "meta_custom_audiences",
    (("email", "email_sha256_unsalted"), ("country", "country_code")),
)
# The ESP's list per audience, matched on user_id, with merge fields.
EMAIL_LISTS = UploadFile(
    "sync_email_audiences",
    "email_lists",
    (
        ("user_id", "user_id"),
        ("top_interest", "top_interest"),
        ("offer_tier", "offer_tier"),
        ("last_abandoned_cart_product_ids", "last_abandoned_cart_product_ids"),
    ),
)
# HubSpot contact import: headers are the internal names of the contact properties to
# create (microseg_user_id with unique values, to match on; multiple checkboxes for the
# segment lists, whose values are already semicolon-separated).
HUBSPOT_CONTACTS = UploadFile(
    "sync_crm_traits",
    "hubspot",
    (
        ("microseg_user_id", "user_id"),
        ("microseg_segments", "segment_keys"),
        ("microseg_holdout_segments", "holdout_segment_keys"),
        ("microseg_primary_segment", "primary_segment_key"),
        ("microseg_rfm_class", "rfm_class"),
        ("microseg_lifecycle_stage", "lifecycle_stage"),
        ("microseg_journey_stage", "journey_stage"),
        ("microseg_top_interest", "top_interest"),
        ("microseg_offer_tier", "offer_tier"),
    ),
    name="contacts",
)
SEGMENT_LISTS = (GOOGLE_CUSTOMER_MATCH, META_CUSTOM_AUDIENCES, EMAIL_LISTS)
WHOLE_FILES = (HUBSPOT_CONTACTS,)


class NothingPublished(Exception):
    """The schema to export from does not exist yet."""


class UnsafeExport(CatalogueError):
    """A segment key is not a valid key, or a file would land outside the output folder."""


def export(
    where: Path | Target, out_dir: Path, file_format: str = "csv", schema: str | None = None
) -> dict[str, int]:
    """Write every sync table whole, each platform's upload files, and one list per segment.

    Upload files follow the platforms' templates (UploadFile; docs/destinations.md): per
    segment for Google Customer Match, Meta custom audiences and the ESP, one HubSpot
    contact import. No suppressed person is in any of them, and no holdout member in an
    audience list (the CRM names holdout segments instead). Reads the published copies (of
    a DuckDB file or a target's warehouse) unless told otherwise; the rows are fetched and
    written locally, so files look the same from every warehouse. Returns rows written per
    file, relative to out_dir. Writes nothing outside out_dir: a segment key that is not a
    valid key (microseg.rules.KEY_PATTERN) or a path resolving elsewhere raises
    UnsafeExport.
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

        def write(
            query: str,
            relative: str,
            parameters: list[str] | None = None,
            headers: list[str] | None = None,
        ) -> None:
            path = (root / relative).resolve()
            if not path.is_relative_to(root):
                raise UnsafeExport(f"refusing to write {relative}: it resolves outside {root}")
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = warehouse.frame(query, parameters)
            if headers is not None:
                rows.columns = headers
            local.register("rows_to_write", rows)
            target_file = str(path).replace("'", "''")
            local.execute(f"copy rows_to_write to '{target_file}' {options}")
            local.unregister("rows_to_write")
            written[relative] = len(rows)

        # Every segment key names a file: check them all before writing anything.
        lists: list[tuple[UploadFile, str]] = []
        for upload in SEGMENT_LISTS:
            segments = warehouse.execute(
                f"select distinct segment_key from {schema}.{upload.table} order by 1"
            ).fetchall()
            for (segment,) in segments:
                if not isinstance(segment, str) or not KEY_PATTERN.fullmatch(segment):
                    raise UnsafeExport(
                        f"{schema}.{upload.table} has segment_key {segment!r}, not a valid key "
                        "(^[a-z][a-z0-9_]{0,62}$): refusing to name a file after it"
                    )
                lists.append((upload, segment))
        for table in SYNC_TABLES:
            write(f"select * from {schema}.{table} order by 1", f"{table}.{file_format}")
        for upload in WHOLE_FILES:
            write(
                upload.query(schema, per_segment=False),
                f"{upload.folder}/{upload.name}.{file_format}",
                headers=upload.headers,
            )
        for upload, segment in lists:
            write(
                upload.query(schema, per_segment=True),
                f"{upload.folder}/{segment}.{file_format}",
                [segment],
                upload.headers,
            )
    return written
