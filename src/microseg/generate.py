"""Synthetic, realistic and dirty input data, written as Parquet by DuckDB SQL.

Deterministic for a seed: every random draw is a hash of the seed and the row's
keys, so the output is the same set of rows on every run and thread count.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from microseg.archetypes import ARCHETYPES, SESSION_EVENT_TYPES, archetype_columns
from microseg.archetypes import archetypes_values_sql as _archetypes_values_sql

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"

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


def _num_list(values: list[float]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _ts(value: datetime) -> str:
    return f"timestamp '{value:%Y-%m-%d %H:%M:%S}'"


Progress = Callable[[str], None]


def generate(config: GeneratorConfig, out_dir: Path, progress: Progress | None = None) -> dict:
    """Write events, customers and consents Parquet files plus manifest.json to out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    step = progress or (lambda _message: None)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = false")
    # Like the dbt profile: past the memory limit DuckDB spills to disk (10M events peak at
    # 3.1 GiB with a 3GB limit instead of 11 GiB without one), so 50M or 100M fit in RAM.
    spill_dir = out_dir / ".spill"
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
    scalar = lambda query: con.execute(query).fetchone()[0]  # noqa: E731
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
    """The generator's SQL, one statement per stage."""

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

    def setup(self) -> str:
        columns = ", ".join(archetype_columns())
        return f"""
        create macro u(a, b, k) as ((hash(a, b, k, {self.c.seed}) % 1000003) / 1000003.0);
        create macro hex_id(a, b, k) as
            printf('%016x', hash(a, b, k, {self.c.seed}));
        create table archetypes as
        select * from (values {_archetypes_values_sql()}) as v({columns});
        """

    def persons(self) -> str:
        places = [f"{country}|{city}" for country, cities in COUNTRIES.items() for city in cities]
        return f"""
        create table persons as
        with base as (
            select p as person_no, u(p, 0, 1) as u_archetype
            from range({self.n_persons}) as r(p)
        )
        select
            base.person_no,
            archetypes.name as archetype,
            archetypes.* exclude (name),
            least(200, pow(1 - u(person_no, 0, 2), -1 / 1.6)) * archetypes.activity as weight,
            u(person_no, 0, 3) < archetypes.p_known as is_known,
            'u' || lpad(cast(person_no as varchar), 7, '0') as user_id,
            1 + (u(person_no, 0, 4) < 0.35)::int + (u(person_no, 0, 5) < 0.10)::int as n_devices,
            floor(u(person_no, 0, 6) * {len(self.t.product_categories)})::int as favourite_category,
            {_list(places)}[1 + floor(u(person_no, 0, 7) * {len(places)})::int] as place,
            split_part(place, '|', 1) as country,
            split_part(place, '|', 2) as city,
            u(person_no, 0, 8) < {self.c.dirt.shared_device} and person_no > 0 as borrows_device,
            1 + floor(u(person_no, 0, 9) * 3)::int as burst,
            u(person_no, 0, 10) as u_login,
            u(person_no, 0, 11) as u_signup
        from base
        inner join archetypes
            on base.u_archetype >= archetypes.share_lo and base.u_archetype < archetypes.share_hi
        """

    def sessions(self) -> str:
        c = self.c
        return f"""
        create table sessions as
        with scale as (
            select {self.web_budget} / sum(weight * expected_events) as sessions_per_weight
            from persons
        ),
        counted as (
            select
                persons.*,
                greatest(1, round(weight * scale.sessions_per_weight))::int as n_sessions
            from persons cross join scale
        ),
        expanded as (
            select *, unnest(range(n_sessions)) as session_no from counted
        ),
        shaped as (
            select
                *,
                session_no // burst as cluster_no,
                ceil(n_sessions / burst) as n_clusters,
                case
                    when not is_known then null
                    when u_login < 0.4 and archetype != 'newcomer' then -1
                    else floor(u_login * least(n_sessions, 6))::int
                end as login_session_no,
                floor(u(person_no, session_no, 20) * n_devices)::int as device_no
            from expanded
        ),
        timed as (
            select
                *,
                {c.days} * (window_lo + (window_hi - window_lo)
                    * (cluster_no + 0.8 * u(person_no, cluster_no, 21)) / n_clusters) as day_offset,
                6 + 17 * pow((u(person_no, cluster_no, 22) + u(person_no, cluster_no, 23)) / 2, 0.6)
                    + (session_no % burst) * (1.5 + 5 * u(person_no, session_no, 24)) as hour_offset
            from shaped
        ),
        dated as (
            select
                *,
                {_ts(c.start)} + to_days(floor(day_offset)::int) as session_day
            from timed
        ),
        weekend_shifted as (
            select
                *,
                case
                    when weekend_only and dayofweek(session_day) between 1 and 5
                        then session_day + to_days(6 - dayofweek(session_day))
                    else session_day
                end as shifted_day
            from dated
        ),
        located as (
            select
                *,
                case
                    when shifted_day >= {_ts(c.end)} then shifted_day - to_days(7)
                    else shifted_day
                end + to_milliseconds(floor(hour_offset * 3600000)::bigint) as started_at,
                case when borrows_device and device_no = 1 and n_devices > 1
                    then person_no - 1 else person_no end as device_owner,
                case when borrows_device and device_no = 1 and n_devices > 1
                    then 0 else device_no end as owner_device_no
            from weekend_shifted
        )
        select
            person_no, session_no, archetype, user_id, is_known, country, city, favourite_category,
            focus, p_discount, price_factor, purchase_until, mix_cumulative, login_session_no,
            u_signup < 0.5 or archetype = 'newcomer' as signs_up_in_window,
            started_at,
            case when session_no = login_session_no then greatest(n_events, 3)
                else n_events end as n_events,
            gap_seconds * (0.5 + u(person_no, session_no, 25)) as gap_seconds,
            hex_id(device_owner, owner_device_no, 30) as anonymous_id,
            case
                when u(device_owner, owner_device_no, 31) < 0.45 then 'desktop'
                when u(device_owner, owner_device_no, 31) < 0.90 then 'mobile'
                else 'tablet'
            end as device_type,
            u(device_owner, owner_device_no, 32) as u_browser,
            u(person_no, session_no, 33) as u_channel
        from (
            select
                *,
                case
                    when u(person_no, session_no, 26) < p_bounce then 1
                    else least(60, 2 + floor(-ln(1 - u(person_no, session_no, 27))
                        * (mean_events - 2)))::int
                end as n_events
            from located
        )
        where started_at < {_ts(c.end - timedelta(hours=2))}
        """

    def archetype_truth(self) -> str:
        """Each person key's archetype: logged-in users, and devices by their usual user."""
        return """
        select 'user:' || user_id as person_key, archetype
        from persons where is_known
        union all
        select 'anon:' || anonymous_id, mode(archetype)
        from sessions group by anonymous_id
        """

    def signups(self) -> str:
        """When each known person signed up: in the window at their login session, or before."""
        return f"""
        create table signups as
        select
            persons.person_no,
            coalesce(
                min(case when sessions.session_no = sessions.login_session_no
                    and sessions.signs_up_in_window then sessions.started_at end),
                {_ts(self.c.start)} - to_days(30 + floor(persons.u_signup * 700)::int)
            ) + to_seconds(40) as signed_up_at
        from persons
        left join sessions on persons.person_no = sessions.person_no
        where persons.is_known
        group by persons.person_no, persons.u_signup
        """

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
        dirt_case = "case " + " ".join(bounds) + " end"
        window = f"{_ts(c.start)}"
        extract_at = f"{window} + to_days({c.days})"
        return f"""
        create table events as
        with web_expanded as (
            select
                *,
                person_no * 100000 + session_no as session_key,
                unnest(range(n_events)) as k
            from sessions
        ),
        web_typed as (
            select
                *,
                session_no = login_session_no and k = n_events // 2 as is_login_event,
                session_no > login_session_no
                    or (session_no = login_session_no and k >= n_events // 2) as is_identified,
                u(session_key, k, 40) as u_type,
                case
                    when u(session_key, k, 41) < focus then favourite_category
                    else floor(u(session_key, k, 42) * {n_cats})::int
                end as category_no,
                started_at + to_milliseconds(
                    floor((k + 0.9 * u(session_key, k, 43)) * gap_seconds * 1000)
                    ::bigint
                ) as occurred_at,
                floor(u(session_key, k, 44) * 20)::int as sku_no
            from web_expanded
        ),
        web_canonical as (
            select
                *,
                case
                    when is_login_event then case when signs_up_in_window then 'signup'
                        else 'login' end
                    when k = 0 then 'page_view'
                    else case {picks} else 'page_view' end
                end as picked_type,
                epoch(occurred_at - {window}) / ({c.days} * 86400.0) as window_position
            from web_typed
        ),
        web_gated as (
            select
                *,
                case when picked_type = 'purchase' and window_position > purchase_until
                    then 'product_view' else picked_type end as canonical_type,
                {_list(t.product_categories)}[category_no + 1] as category,
                printf('SKU-%02d%03d', category_no, sku_no) as sku,
                round({_num_list(base_prices)}[category_no + 1]
                    * (0.6 + 0.8 * u(category_no, sku_no, 45)) * price_factor, 2) as unit_price,
                1 + (u(session_key, k, 46) < 0.2)::int
                    + (u(session_key, k, 47) < 0.05)::int as units,
                u(session_key, k, 48) < p_discount as uses_discount,
                case
                    when u_channel < 0.35 then null
                    when u_channel < 0.60 then 'google|organic|'
                    when u_channel < 0.72 then 'google|cpc|brand_search'
                    when u_channel < 0.82 then 'instagram|social|summer_drop'
                    when u_channel < 0.92 then 'newsletter|email|weekly_digest'
                    else 'partner-blog.example|referral|'
                end as utm
            from web_canonical
        ),
        web as (
            select
                hex_id(session_key, k, 50)
                    || hex_id(session_key, k, 51) as event_id,
                anonymous_id,
                case when is_identified then user_id end as user_id,
                {self._alias("canonical_type", "u(session_key, k, 52)")}
                    as event_type,
                occurred_at,
                occurred_at + to_milliseconds(
                    200 + floor(u(session_key, k, 53) * 2800)::bigint
                ) as received_at,
                case
                    when canonical_type in ('product_view', 'add_to_cart', 'remove_from_cart')
                        then category
                    when canonical_type in ('content_read', 'video_played')
                        then {_list(t.content_categories)}[category_no + 1]
                    when canonical_type in ('checkout_started', 'purchase') then 'checkout'
                    when canonical_type in ('login', 'signup') then 'account'
                    when canonical_type = 'search' then 'search'
                    when u_type < 0.4 then 'home'
                    when u_type < 0.7 then category
                    when u_type < 0.8 then 'reviews'
                    when u_type < 0.85 then 'faq'
                    else {_list(t.content_categories)}[category_no + 1]
                end as page_category,
                case when canonical_type in (
                    'product_view', 'add_to_cart', 'remove_from_cart', 'purchase'
                ) then sku end as product_id,
                case when canonical_type in (
                    'product_view', 'add_to_cart', 'remove_from_cart', 'purchase'
                ) then category end as product_category,
                case when canonical_type in (
                    'product_view', 'add_to_cart', 'remove_from_cart', 'purchase'
                ) then unit_price end as price,
                case when canonical_type in ('add_to_cart', 'purchase') then units end as quantity,
                case when canonical_type = 'purchase'
                    then round(unit_price * units * case when uses_discount then 0.85 else 1 end, 2)
                end as revenue,
                case when canonical_type = 'purchase'
                    then case when u_type < 0.05 then 'eur' else 'EUR' end end as currency,
                case when canonical_type = 'purchase' and uses_discount
                    then {_list(DISCOUNT_CODES)}[1 + floor(u_type * 4)::int] end as discount_code,
                case when canonical_type = 'search'
                    then {_list(t.search_terms)}[category_no + 1] end as search_query,
                case when k = 0 and utm like '%|email|%'
                    then printf('cmp-%03d', floor(epoch(occurred_at - {window}) / 604800)::int)
                end as campaign_id,
                case when k = 0 then nullif(split_part(utm, '|', 1), '') end as utm_source,
                case when k = 0 then nullif(split_part(utm, '|', 2), '') end as utm_medium,
                case when k = 0 then nullif(split_part(utm, '|', 3), '') end as utm_campaign,
                device_type,
                {human_agents} as user_agent,
                case when u_browser < 0.05 then lower(country) else country end as country,
                city, person_no, false as is_bot_source
            from web_gated
        ),
        sends as (
            select
                persons.person_no, persons.user_id, persons.country, persons.city,
                persons.p_email_open, persons.p_email_click, campaign_no,
                {window} + to_days(campaign_no * 7 + 1) + to_hours(9)
                    + to_minutes(floor(u(persons.person_no, campaign_no, 60) * 90)::int) as sent_at
            from persons
            inner join signups on persons.person_no = signups.person_no
            cross join range({self.n_campaigns}) as campaigns(campaign_no)
            where u(persons.person_no, campaign_no, 61) < 0.35
                and signups.signed_up_at
                    < {window} + to_days(campaign_no * 7 + 1)
        ),
        email_steps as (
            select
                *,
                unnest(case
                    when u(person_no, campaign_no, 62) >= p_email_open then ['email_sent']
                    when u(person_no, campaign_no, 63) >= p_email_click
                        then ['email_sent', 'email_opened']
                    else ['email_sent', 'email_opened', 'email_clicked']
                end) as canonical_type,
                to_minutes(30 + floor(u(person_no, campaign_no, 64) * 2800)::int) as open_delay
            from sends
        ),
        email as (
            select
                hex_id(person_no, campaign_no, 70) || hex_id(person_no, len(canonical_type), 71)
                    as event_id,
                null as anonymous_id,
                user_id,
                {self._alias("canonical_type", "u(person_no, campaign_no, 72)")} as event_type,
                case canonical_type
                    when 'email_sent' then sent_at
                    when 'email_opened' then sent_at + open_delay
                    else sent_at + open_delay + to_seconds(20 + person_no % 300)
                end as occurred_at,
                occurred_at + to_seconds(1 + campaign_no % 5) as received_at,
                null as page_category, null as product_id,
                null as product_category, null::double as price, null::integer as quantity,
                null::double as revenue, null as currency, null as discount_code,
                null as search_query, printf('cmp-%03d', campaign_no) as campaign_id,
                null as utm_source, null as utm_medium, null as utm_campaign,
                null as device_type, null as user_agent, country, city,
                person_no, false as is_bot_source
            from email_steps
        ),
        bot_sessions as (
            select
                bot_no, session_no,
                {window} + to_seconds(
                    floor(u(bot_no, session_no, 80) * ({c.days} * 86400 - 7200))::bigint
                ) as started_at,
                200 as n_events
            from range({self.bot_devices}) as b(bot_no)
            cross join range({max(1, round(self.bot_budget / self.bot_devices / 200))})
                as s(session_no)
        ),
        bots as (
            select
                hex_id(bot_no * 100000 + session_no, k, 81)
                    || hex_id(bot_no * 100000 + session_no, k, 82) as event_id,
                hex_id(-1 - bot_no, 0, 30) as anonymous_id,
                null as user_id,
                case when k % 3 = 0 then 'page_view' else 'product_view' end as event_type,
                started_at + to_milliseconds(
                    (k * (500 + 500 * u(bot_no, session_no, 83)))::bigint
                ) as occurred_at,
                occurred_at + to_milliseconds(150) as received_at,
                {_list(t.product_categories)}[1 + k % {n_cats}] as page_category,
                null as product_id, null as product_category, null::double as price,
                null::integer as quantity, null::double as revenue, null as currency,
                null as discount_code, null as search_query, null as campaign_id,
                null as utm_source, null as utm_medium, null as utm_campaign,
                'desktop' as device_type,
                case when u(bot_no, 0, 84) < 0.6
                    then {_list(BOT_USER_AGENTS)}[1 + bot_no % {len(BOT_USER_AGENTS)}]
                    else {_list(HUMAN_USER_AGENTS["desktop"][:1])}[1]
                end as user_agent,
                'US' as country, 'Seattle' as city,
                -1 - bot_no as person_no, true as is_bot_source
            from (select *, unnest(range(n_events)) as k from bot_sessions)
        ),
        combined as (
            select * from web
            union all select * from email
            union all select * from bots
        ),
        clean as (
            select
                event_id, anonymous_id, user_id, event_type, occurred_at, received_at,
                'https://shop.example.com/' || coalesce(page_category, '')
                    || coalesce('/' || lower(product_id), '')
                    || coalesce('?utm_source=' || utm_source || '&utm_medium=' || utm_medium, '')
                    as page_url,
                page_category, product_id, product_category, price, quantity, revenue,
                currency, discount_code, search_query, campaign_id, utm_source, utm_medium,
                utm_campaign, device_type, user_agent, country,
                city,
                is_bot_source,
                u(hash(event_id), 0, 90) as u_dirt
            from combined
        ),
        dirtied as (
            select *, {dirt_case} as dirt_kind, (hash(event_id, 91) % 1000000007)::bigint as dirt_no
            from clean
        ),
        with_dirt as (
            select
                case
                    when dirt_kind = 'missing_id' and dirt_no % 3 < 1 then null
                    when dirt_kind = 'missing_id' and dirt_no % 3 < 2 then '  '
                    else event_id
                end as event_id,
                case when dirt_kind = 'missing_id' and dirt_no % 3 >= 2 then null
                    else anonymous_id end as anonymous_id,
                case when dirt_kind = 'missing_id' and dirt_no % 3 >= 2 then ''
                    else user_id end as user_id,
                case
                    when dirt_kind = 'unknown_event_type' then
                        ['Experiment Viewed', 'debug_ping', 'pageview_v2', ''][
                            1 + dirt_no % 4]
                    when dirt_kind = 'invalid_revenue' then 'Order Completed'
                    else event_type
                end as event_type,
                case
                    when dirt_kind = 'missing_timestamp' then null
                    when dirt_kind = 'future_timestamp' and dirt_no % 50 = 0
                        then timestamp '2999-01-01 00:00:00'
                    when dirt_kind = 'future_timestamp'
                        then received_at + to_hours(2 + (dirt_no % 9000)::int)
                    when dirt_kind = 'before_start' and dirt_no % 2 = 0
                        then timestamp '1970-01-01 00:00:00'
                            + to_seconds(dirt_no % 86400)
                    when dirt_kind = 'before_start' then timestamp '2009-12-31 23:59:59'
                    else occurred_at
                end as occurred_at,
                case
                    when dirt_kind = 'late'
                        then occurred_at + to_minutes(1440 + (dirt_no % 5760)::int)
                    when dirt_kind = 'future_timestamp' and dirt_no % 50 = 0
                        then timestamp '2999-01-01 00:00:00'
                    else received_at
                end as received_at,
                page_url, page_category, product_id, product_category,
                case when dirt_kind = 'invalid_revenue' then 10.0 else price end as price,
                case when dirt_kind = 'invalid_revenue' then 1 else quantity end as quantity,
                case
                    when dirt_kind = 'invalid_revenue' and dirt_no % 2 = 0
                        then -1 - (dirt_no % 10000) / 100.0
                    when dirt_kind = 'invalid_revenue' then 1e9
                    else revenue
                end as revenue,
                currency, discount_code, search_query, campaign_id, utm_source, utm_medium,
                utm_campaign, device_type, user_agent, country, city,
                dirt_kind, is_bot_source
            from dirtied
        )
        -- The extract is taken at the window's end: rows not yet received are not in it.
        select * from (
        select * replace (
            case when dirt_kind not in ('exact_duplicate', 'resent') then dirt_kind end as dirt_kind
        )
        from with_dirt
        union all
        select * replace ('exact_duplicate' as dirt_kind)
        from with_dirt where dirt_kind = 'exact_duplicate'
        union all
        select * replace (
            received_at + to_minutes(1 + (hash(event_id) % 4320)::int) as received_at,
            'resent' as dirt_kind
        )
        from with_dirt where dirt_kind = 'resent'
        ) as extracted
        where received_at is null or received_at <= {extract_at}
            or dirt_kind = 'future_timestamp'
        """

    def customers(self) -> str:
        rates = self.c.dirt
        window = _ts(self.c.start)
        return f"""
        create table customers as
        with known as (
            select persons.person_no, persons.user_id, persons.country, persons.archetype,
                signups.signed_up_at
            from persons
            inner join signups on persons.person_no = signups.person_no
        ),
        base as (
            select
                *,
                u(person_no, 0, 100) as u_dirt,
                {_list(FIRST_NAMES)}[1 + person_no % {len(FIRST_NAMES)}] || '.'
                    || {_list(LAST_NAMES)}[1 + (person_no // 7) % {len(LAST_NAMES)}]
                    || (person_no % 1000)::varchar as local_part,
                {_list(EMAIL_DOMAINS)}[1 + person_no % {len(EMAIL_DOMAINS)}] as domain
            from known
        ),
        shaped as (
            select
                user_id,
                case
                    when u_dirt < {rates.customer_invalid_email} then
                        [local_part || '(at)' || domain, local_part || '@',
                         local_part || '@@' || domain, local_part || ' ' || domain, 'n/a'][
                            1 + floor(u_dirt * 1e6 % 5)::int]
                    when u(person_no, 0, 101) < 0.03 then null
                    when u(person_no, 0, 101) < 0.15
                        then '  ' || upper(local_part[1]) || local_part[2:] || '@' || domain
                    else local_part || '@' || domain
                end as email,
                signed_up_at,
                case when u(person_no, 0, 102) < 0.1 then lower(country)
                    when u(person_no, 0, 102) < 0.13 then null else country end as country,
                case
                    when u(person_no, 0, 103) < 0.2 then null
                    when u(person_no, 0, 103) < 0.21 then [1800, 2099, 0][1 + person_no % 3]
                    else 1950 + floor(u(person_no, 0, 104) * 55)::int
                end as birth_year,
                ['F', 'female', 'm', 'Male', 'diverse', null, 'prefer not to say'][
                    1 + floor(u(person_no, 0, 105) * 7)::int] as gender,
                ['email', 'E-Mail', 'sms', 'push', null][
                    1 + floor(u(person_no, 0, 106) * 5)::int] as preferred_channel,
                case
                    when archetype = 'loyal_subscriber' then ['active', 'Active', 'subscribed'][
                        1 + person_no % 3]
                    when u(person_no, 0, 107) < 0.1 then 'cancelled'
                    when u(person_no, 0, 107) < 0.15 then 'canceled'
                end as subscription_status,
                case when u_dirt < {rates.customer_invalid_email} then 'invalid_email' end
                    as dirt_kind,
                u(person_no, 0, 108) as u_copy
            from base
        )
        select * exclude (u_copy) from shaped
        union all
        select * exclude (u_copy) replace (
            signed_up_at - to_days(400) as signed_up_at, 'duplicate' as dirt_kind
        )
        from shaped
        where dirt_kind is null and u_copy < {rates.customer_duplicate}
        union all
        select
            null as user_id, 'orphan' || r || '@example.com', {window}, 'DE', null, null, null,
            null, 'missing_id'
        from range({max(1, round(self.n_persons * rates.customer_missing_id))}) as t(r)
        """

    def consents(self) -> str:
        rates = self.c.dirt
        purposes = ["analytics", "email_marketing", "ad_targeting", "personalization"]
        grant_rates = [0.9, 0.7, 0.5, 0.6]
        return f"""
        create table consents as
        with decisions as (
            select
                customers.user_id,
                customers.signed_up_at,
                purpose_no,
                {_list(purposes)}[purpose_no + 1] as purpose,
                (hash(customers.user_id) % 1000003)::bigint as user_key
            from customers
            cross join range(4) as p(purpose_no)
            where customers.dirt_kind is null
        ),
        records as (
            select
                user_id,
                case when u(user_key, purpose_no, 110) < 0.05 then upper(purpose[1]) || purpose[2:]
                    else purpose end as purpose,
                u(user_key, purpose_no, 111) < {_num_list(grant_rates)}[purpose_no + 1]
                    as is_granted,
                signed_up_at as recorded_at,
                'signup_form' as source,
                user_key, purpose_no
            from decisions
            union all
            select
                user_id, purpose, false,
                signed_up_at + to_days(1 + floor(u(user_key, purpose_no, 113) * 150)::int),
                case when purpose = 'email_marketing' then 'unsubscribe_link'
                    else 'preference_center' end,
                user_key, purpose_no
            from decisions
            where u(user_key, purpose_no, 112) < 0.12
        ),
        dirtied as (
            select
                user_id,
                case when u(user_key, purpose_no + 10 * epoch(recorded_at)::bigint, 114)
                        < {rates.consent_unknown_purpose}
                    then ['sms_marketing', 'Marketing', 'cookies', 'newsletter'][purpose_no + 1]
                    else purpose end as purpose,
                is_granted, recorded_at, source,
                case when u(user_key, purpose_no + 10 * epoch(recorded_at)::bigint, 114)
                        < {rates.consent_unknown_purpose}
                    then 'unknown_purpose' end as dirt_kind,
                u(user_key, purpose_no + 10 * epoch(recorded_at)::bigint, 115) as u_copy
            from records
        )
        select * exclude (u_copy) from dirtied
        union all
        select * exclude (u_copy) replace ('duplicate' as dirt_kind)
        from dirtied
        where dirt_kind is null and u_copy < {rates.consent_duplicate}
        union all
        select null, 'analytics', true, {_ts(self.c.start)}, 'cookie_banner', 'missing_id'
        from range({max(1, round(self.n_persons * rates.consent_missing_id))})
        """
