"""Synthetic, realistic and dirty input data, written as Parquet by DuckDB SQL.

Deterministic for a seed: every random draw is a hash of the seed and the row's
keys, so the output is the same set of rows on every run and thread count. Each stage's
SQL is a file in sql/ (`${name}` parameters, filled in by _Sql).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import shutil
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from microseg import db
from microseg.archetypes import ARCHETYPES, SESSION_EVENT_TYPES, archetype_columns
from microseg.archetypes import archetypes_values_sql as _archetypes_values_sql

SEEDS_DIR = Path(__file__).resolve().parents[3] / "seeds"
# The SQL of each stage, parameterised as ${name} (string.Template).
SQL_DIR = Path(__file__).with_name("sql")

COUNTRIES = {
    "DE": ["Berlin", "Hamburg", "Munich", "Cologne"],
    "FR": ["Paris", "Lyon", "Marseille"],
    "GB": ["London", "Manchester", "Leeds"],
    "NL": ["Amsterdam", "Rotterdam"],
    "ES": ["Madrid", "Barcelona"],
    "IT": ["Rome", "Milan"],
    "US": ["New York", "Chicago", "Seattle"],
    "AT": ["Vienna"],
    "CH": ["Zurich"],
    "SE": ["Stockholm"],
}
BOT_USER_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0",
]
HUMAN_USER_AGENTS = {
    "desktop": [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    ],
    "mobile": [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Mobile Safari/537.36",
    ],
    "tablet": [
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
    ],
}
FIRST_NAMES = ["anna", "ben", "clara", "david", "emma", "felix", "greta", "hugo", "ida", "jonas"]
LAST_NAMES = ["schmidt", "mueller", "martin", "dupont", "smith", "jones", "garcia", "rossi"]
EMAIL_DOMAINS = ["example.com", "mail.example.org", "shopper.example.net", "inbox.example.de"]
DISCOUNT_CODES = ["SAVE10", "WELCOME15", "FLASH20", "VIP25"]


@dataclass(frozen=True)
class DirtRates:
    """Share of rows that get each defect (events unless named otherwise)."""

    missing_id: float = 0.002
    unknown_event_type: float = 0.002
    future_timestamp: float = 0.001
    before_start: float = 0.001
    invalid_revenue: float = 0.0005
    missing_timestamp: float = 0.0005
    exact_duplicate: float = 0.01
    resent: float = 0.005
    late: float = 0.01  # clean, but received 1-5 days after they happened
    bot_events: float = 0.02
    shared_device: float = 0.01  # of persons: a second device shared with another person
    customer_invalid_email: float = 0.01
    customer_missing_id: float = 0.003
    customer_duplicate: float = 0.01
    consent_unknown_purpose: float = 0.005
    consent_missing_id: float = 0.003
    consent_duplicate: float = 0.01


@dataclass(frozen=True)
class GeneratorConfig:
    events: int = 1_000_000
    seed: int = 42
    end: datetime = datetime(2026, 11, 1)
    days: int = 180
    dirt: DirtRates = field(default_factory=DirtRates)

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)


@dataclass(frozen=True)
class Taxonomy:
    product_categories: list[str]
    content_categories: list[str]  # per product category: the blog of its interest
    search_terms: list[str]  # per product category


def load_taxonomy(seeds_dir: Path = SEEDS_DIR) -> Taxonomy:
    with (seeds_dir / "interest_taxonomy.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    content = {r["category"] for r in rows if r["page_type"] == "content"}
    products = [r for r in rows if r["page_type"] == "product"]
    return Taxonomy(
        product_categories=[r["category"] for r in products],
        content_categories=[
            f"blog_{r['interest']}" if f"blog_{r['interest']}" in content else "guides"
            for r in products
        ],
        search_terms=[r["sub_interest"].replace("_", " ") for r in products],
    )


def load_event_aliases(seeds_dir: Path = SEEDS_DIR) -> dict[str, list[str]]:
    """Raw names a tracker may send per canonical type, the canonical one first."""
    aliases: dict[str, list[str]] = {}
    with (seeds_dir / "event_type_mapping.csv").open() as handle:
        for row in csv.DictReader(handle):
            name = row["raw_event_name"]
            shown = name.title() if " " in name else name
            aliases.setdefault(row["event_type"], []).append(shown)
    for event_type, names in aliases.items():
        names.sort(key=lambda n: n != event_type)
    return aliases


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _num_list(values: Sequence[float]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _ts(value: datetime) -> str:
    return f"timestamp '{value:%Y-%m-%d %H:%M:%S}'"


Progress = Callable[[str], None]


def generate(config: GeneratorConfig, out_dir: Path, progress: Progress | None = None) -> dict:
    """Write events, customers and consents Parquet files plus manifest.json to out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    step = progress or (lambda _message: None)
    started = time.perf_counter()
    # Like the dbt profile: past the memory limit DuckDB spills to disk (10M events peak at
    # 3.1 GiB with a 3GB limit instead of 11 GiB without one). The working tables live in a
    # database file, where they are compressed (10M events: 557 MB), not in memory.
    spill_dir = out_dir / ".spill"
    shutil.rmtree(spill_dir, ignore_errors=True)
    spill_dir.mkdir(parents=True)
    con = duckdb.connect(str(spill_dir / "generator.duckdb"))
    con.execute("set preserve_insertion_order = false")
    con.execute(f"set memory_limit = '{os.environ.get('MICROSEG_DUCKDB_MEMORY_LIMIT', '8GB')}'")
    con.execute(f"set temp_directory = '{spill_dir}'")
    sql = _Sql(config, load_taxonomy(), load_event_aliases())

    step("persons")
    con.execute(sql.setup())
    con.execute(sql.persons())
    step("sessions")
    con.execute(sql.sessions())
    con.execute(sql.signups())
    step("events")
    con.execute(sql.events())
    step("write events.parquet")
    con.execute(
        # In receipt order, as a collector appends them.
        f"copy (select * exclude (dirt_kind, is_bot_source) from events order by received_at) to "
        f"'{out_dir / 'events.parquet'}' (format parquet, compression zstd)"
    )
    step("customers and consents")
    con.execute(sql.customers())
    con.execute(
        f"copy (select * exclude (dirt_kind) from customers) to "
        f"'{out_dir / 'customers.parquet'}' (format parquet)"
    )
    con.execute(sql.consents())
    con.execute(
        f"copy (select * exclude (dirt_kind) from consents) to "
        f"'{out_dir / 'consents.parquet'}' (format parquet)"
    )
    # Ground truth for tests (which archetype each person key belongs to); not a source.
    (out_dir / "truth").mkdir(exist_ok=True)
    con.execute(
        f"copy ({sql.archetype_truth()}) to '{out_dir / 'truth' / 'archetypes.parquet'}' "
        "(format parquet)"
    )
    step("manifest")
    manifest = _manifest(con, config, time.perf_counter() - started)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    con.close()
    shutil.rmtree(spill_dir, ignore_errors=True)
    return manifest


def _counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    rows = con.execute(
        f"select coalesce(dirt_kind, 'clean'), count(*) from {table} group by 1"
    ).fetchall()
    return {kind: count for kind, count in rows}


def _expected(counts: dict[str, int], duplicate_kinds: tuple[str, ...]) -> dict:
    duplicates = sum(counts.get(k, 0) for k in duplicate_kinds)
    quarantined = {
        k: v for k, v in counts.items() if k not in duplicate_kinds and k not in ("clean", "late")
    }
    return {
        "raw_rows": sum(counts.values()),
        "clean_rows": sum(counts.values()) - duplicates - sum(quarantined.values()),
        "duplicate_rows": duplicates,
        "quarantined_rows": dict(sorted(quarantined.items())),
    }


def _manifest(con: duckdb.DuckDBPyConnection, config: GeneratorConfig, seconds: float) -> dict:
    events = _counts(con, "events")
    scalar = functools.partial(db.scalar, con)
    return {
        "generator": {**asdict(config), "start": config.start},
        "seconds": round(seconds, 2),
        "last_event_at": scalar(
            "select max(received_at) from events "
            "where dirt_kind is distinct from 'future_timestamp'"
        ),
        "expected": {
            "events": _expected(events, ("exact_duplicate", "resent")),
            "customers": _expected(_counts(con, "customers"), ("duplicate",)),
            "consents": _expected(_counts(con, "consents"), ("duplicate",)),
        },
        "injected": {
            "late_events": events.get("late", 0),
            "clean_bot_events": scalar(
                "select count(*) from events where is_bot_source "
                "and (dirt_kind is null or dirt_kind = 'late')"
            ),
            "bot_devices": scalar(
                "select count(distinct anonymous_id) from events where is_bot_source"
            ),
            "devices_shared_by_several_users": scalar(
                "select count(*) from (select anonymous_id from events where user_id is not null "
                "and dirt_kind is null group by 1 having count(distinct user_id) > 1)"
            ),
            "persons": scalar("select count(*) from persons"),
            "known_persons": scalar("select count(*) from persons where is_known"),
            "archetypes": dict(
                con.execute(
                    "select archetype, count(*) from persons group by 1 order by 1"
                ).fetchall()
            ),
        },
    }


class _Sql:
    """The generator's SQL, one statement per stage: sql/<stage>.sql with its parameters."""

    def __init__(self, config: GeneratorConfig, taxonomy: Taxonomy, aliases: dict[str, list[str]]):
        self.c = config
        self.t = taxonomy
        self.aliases = aliases
        rates = config.dirt
        web_share = 1 - rates.bot_events
        dup_factor = 1 + rates.exact_duplicate + rates.resent
        base_events = config.events / dup_factor
        self.n_persons = max(300, int(base_events / 40))
        self.n_campaigns = max(1, config.days // 7)
        known_share = sum(a.share * a.p_known for a in ARCHETYPES) / sum(
            a.share for a in ARCHETYPES
        )
        # Sends per known person: 35% of campaigns, about 45% opened; about 3/4 of the
        # campaigns fall after the person's sign-up.
        email_per_person = self.n_campaigns * 0.35 * 1.45 * 0.75
        self.email_budget = self.n_persons * known_share * email_per_person
        # Sessions cut at the window's end and capped lengths lose about 4% of web events.
        self.web_budget = max(1000.0, base_events * web_share - self.email_budget) / 0.96
        self.bot_budget = base_events * rates.bot_events
        self.bot_devices = max(2, round(self.bot_budget / 400))

    @staticmethod
    def _render(stage: str, **parameters: object) -> str:
        template = string.Template((SQL_DIR / f"{stage}.sql").read_text())
        return template.substitute({name: str(value) for name, value in parameters.items()})

    def setup(self) -> str:
        return self._render(
            "setup",
            seed=self.c.seed,
            archetype_rows=_archetypes_values_sql(),
            archetype_columns=", ".join(archetype_columns()),
        )

    def persons(self) -> str:
        places = [f"{country}|{city}" for country, cities in COUNTRIES.items() for city in cities]
        return self._render(
            "persons",
            n_persons=self.n_persons,
            n_categories=len(self.t.product_categories),
            places=_list(places),
            n_places=len(places),
            shared_device_rate=self.c.dirt.shared_device,
        )

    def sessions(self) -> str:
        c = self.c
        return self._render(
            "sessions",
            web_budget=self.web_budget,
            days=c.days,
            window_start=_ts(c.start),
            window_end=_ts(c.end),
            last_session_start=_ts(c.end - timedelta(hours=2)),
        )

    def archetype_truth(self) -> str:
        """Each person key's archetype: logged-in users, and devices by their usual user."""
        return self._render("archetype_truth")

    def signups(self) -> str:
        """When each known person signed up: in the window at their login session, or before."""
        return self._render("signups", window_start=_ts(self.c.start))

    def _alias(self, canonical_sql: str, u_sql: str) -> str:
        branches = "\n".join(
            f"when '{event_type}' then {_list(names)}" for event_type, names in self.aliases.items()
        )
        return f"""(case {canonical_sql} {branches} end)[
            1 + (case when {u_sql} < 0.85 then 0 when {u_sql} < 0.95 then 1 else 2 end)
                % len(case {canonical_sql} {branches} end)]"""

    def events(self) -> str:
        c, t, rates = self.c, self.t, self.c.dirt
        n_cats = len(t.product_categories)
        picks = "\n".join(
            f"when u_type < mix_cumulative[{i + 1}] then '{name}'"
            for i, name in enumerate(SESSION_EVENT_TYPES)
        )
        base_prices = [
            35 + (i * 37) % 180 for i in range(n_cats)
        ]  # a plausible spread of list prices per category
        human_agents = (
            "case device_type "
            + " ".join(
                f"when '{kind}' then {_list(agents)}[1 + floor(u_browser * {len(agents)})::int]"
                for kind, agents in HUMAN_USER_AGENTS.items()
            )
            + " end"
        )
        kinds = [
            ("missing_id", rates.missing_id),
            ("unknown_event_type", rates.unknown_event_type),
            ("future_timestamp", rates.future_timestamp),
            ("before_start", rates.before_start),
            ("invalid_revenue", rates.invalid_revenue),
            ("missing_timestamp", rates.missing_timestamp),
            ("late", rates.late),
            ("exact_duplicate", rates.exact_duplicate),
            ("resent", rates.resent),
        ]
        bounds, total = [], 0.0
        for kind, rate in kinds:
            total += rate
            bounds.append(f"when u_dirt < {total} then '{kind}'")
        return self._render(
            "events",
            n_categories=n_cats,
            days=c.days,
            window_start=_ts(c.start),
            session_event_picks=picks,
            product_categories=_list(t.product_categories),
            content_categories=_list(t.content_categories),
            search_terms=_list(t.search_terms),
            base_prices=_num_list(base_prices),
            web_event_type=self._alias("canonical_type", "u(session_key, k, 52)"),
            email_event_type=self._alias("canonical_type", "u(person_no, campaign_no, 72)"),
            discount_codes=_list(DISCOUNT_CODES),
            human_user_agent=human_agents,
            n_campaigns=self.n_campaigns,
            bot_devices=self.bot_devices,
            bot_sessions_per_device=max(1, round(self.bot_budget / self.bot_devices / 200)),
            bot_user_agents=_list(BOT_USER_AGENTS),
            n_bot_user_agents=len(BOT_USER_AGENTS),
            first_desktop_user_agent=_list(HUMAN_USER_AGENTS["desktop"][:1]),
            event_dirt_kind="case " + " ".join(bounds) + " end",
        )

    def customers(self) -> str:
        rates = self.c.dirt
        return self._render(
            "customers",
            window_start=_ts(self.c.start),
            first_names=_list(FIRST_NAMES),
            n_first_names=len(FIRST_NAMES),
            last_names=_list(LAST_NAMES),
            n_last_names=len(LAST_NAMES),
            email_domains=_list(EMAIL_DOMAINS),
            n_email_domains=len(EMAIL_DOMAINS),
            customer_invalid_email_rate=rates.customer_invalid_email,
            customer_duplicate_rate=rates.customer_duplicate,
            customers_missing_id=max(1, round(self.n_persons * rates.customer_missing_id)),
        )

    def consents(self) -> str:
        rates = self.c.dirt
        return self._render(
            "consents",
            purposes=_list(["analytics", "email_marketing", "ad_targeting", "personalization"]),
            grant_rates=_num_list([0.9, 0.7, 0.5, 0.6]),
            window_start=_ts(self.c.start),
            consent_unknown_purpose_rate=rates.consent_unknown_purpose,
            consent_duplicate_rate=rates.consent_duplicate,
            consents_missing_id=max(1, round(self.n_persons * rates.consent_missing_id)),
        )
