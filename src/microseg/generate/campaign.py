"""A simulated e-mail campaign on generated data, so that lift can be measured end to end.

The demo builds the shop as it stood `HISTORY_DAYS` before the end of the data, publishes
it, and hands the published `sync_email_audiences` to this simulated ESP. The ESP e-mails
every row (one campaign per segment) just after that build and a reminder a few days
before the end. Members e-mailed for a segment in `EFFECTS` buy once more with that
probability within the following weeks; every other segment's e-mail changes nothing.
Held-out members are not in the sync table, so they are never e-mailed: the difference
fct_segment_lift measures is the seeded effect, diluted by members who were not e-mailed.
Deterministic for a seed, like the generator.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

# The build the campaign starts from is this many days before the data's end: more than
# the longest lift window (28 days by default), so every window has ended by the end.
HISTORY_DAYS = 30
# The reminder goes this many days before the end (so frequency caps hold people back).
REMINDER_DAYS = 3
# Extra purchase probability for a member e-mailed for the segment; none for the others.
# Large, because a member is e-mailed for one segment at most (frequency cap, by
# priority): these two high-priority segments get about a third of their members e-mailed.
EFFECTS = {"lapsed_high_value": 0.4, "high_intent_shoppers": 0.5}


@dataclass(frozen=True)
class CampaignReport:
    sent_at: datetime
    reminder_at: datetime
    effects: dict[str, float]
    emails: int
    conversions: int
    events: int

    def line(self) -> str:
        seeded = ", ".join(f"{key} +{effect:.0%}" for key, effect in self.effects.items())
        return (
            f"simulated campaign: {self.emails:,} e-mails on {self.sent_at:%Y-%m-%d} "
            f"(reminder {self.reminder_at:%Y-%m-%d}), {self.conversions:,} extra purchases "
            f"seeded in {seeded}; no effect elsewhere"
        )


def history_cutoff(manifest: dict) -> datetime:
    end = datetime.fromisoformat(str(manifest["generator"]["end"]))
    return end - timedelta(days=HISTORY_DAYS)


def write_history(data_dir: Path, out_dir: Path, cutoff: datetime) -> None:
    """The data folder as it stood at `cutoff`: what had been received or recorded by then."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    where = {
        "events": "received_at <= ?",
        "customers": "signed_up_at is null or signed_up_at <= ?",
        "consents": "recorded_at is null or recorded_at <= ?",
    }
    con = duckdb.connect()
    for table, condition in where.items():
        source = data_dir / f"{table}.parquet"
        if source.exists():
            con.execute(
                f"copy (select * from '{source}' where {condition}) to "
                f"'{out_dir / source.name}' (format parquet)",
                [cutoff],
            )
    con.close()


def applied(data_dir: Path) -> CampaignReport:
    """The campaign recorded in data_dir/campaign.json by an earlier simulate()."""
    stored = json.loads((data_dir / "campaign.json").read_text())
    for name in ("sent_at", "reminder_at"):
        stored[name] = datetime.fromisoformat(stored[name])
    return CampaignReport(**stored)


def _uniform(*parts: object) -> float:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def simulate(
    audience: pd.DataFrame, data_dir: Path, cutoff: datetime, end: datetime, seed: int
) -> CampaignReport:
    """Append the campaign's events to data_dir/events.parquet (once: campaign.json marks it).

    `audience` holds the published sync_email_audiences' user_id and segment_key."""
    marker = data_dir / "campaign.json"
    if marker.exists():
        return applied(data_dir)
    events_file = data_dir / "events.parquet"
    sent_at = cutoff + timedelta(hours=2)
    reminder_at = end - timedelta(days=REMINDER_DAYS)
    con = duckdb.connect()
    devices = con.execute(
        "select user_id, arg_max(anonymous_id, received_at), arg_max(device_type, received_at), "
        "arg_max(user_agent, received_at), arg_max(country, received_at), "
        "arg_max(city, received_at) from read_parquet(?) "
        "where user_id is not null and anonymous_id is not null and received_at <= ? "
        "group by 1",
        [str(events_file), cutoff],
    ).fetchall()
    device = {row[0]: row[1:] for row in devices}
    rows: list[dict] = []
    conversions = 0
    for user_id, segment_key in audience[["user_id", "segment_key"]].itertuples(index=False):
        campaign = f"microseg-{segment_key}"
        for kind, moment in (("", sent_at), ("-reminder", reminder_at)):
            at = moment + timedelta(minutes=int(_uniform(seed, user_id, segment_key, kind) * 90))
            rows.append(_event(seed, user_id, None, "email_sent", at, campaign + kind, {}, None))
        effect = EFFECTS.get(segment_key, 0.0)
        if _uniform(seed, "convert", user_id, segment_key) >= effect:
            continue
        conversions += 1
        anonymous_id, device_type, user_agent, country, city = device.get(
            user_id, (f"campaign-{user_id}", "desktop", None, None, None)
        )
        context = {"device_type": device_type, "user_agent": user_agent}
        context |= {"country": country, "city": city}
        start = sent_at + timedelta(days=1 + 19 * _uniform(seed, "day", user_id, segment_key))
        price = round(40 + 160 * _uniform(seed, "price", user_id, segment_key), 2)
        steps = [("product_view", 0), ("add_to_cart", 2), ("checkout_started", 4), ("purchase", 6)]
        for event_type, minutes in steps:
            rows.append(
                _event(
                    seed, user_id, anonymous_id, event_type, start + timedelta(minutes=minutes),
                    None, context, price if event_type != "product_view" else None,
                    is_purchase=event_type == "purchase", segment_key=segment_key,
                )
            )  # fmt: skip
    report = CampaignReport(sent_at, reminder_at, dict(EFFECTS), len(audience), conversions,
                            len(rows))  # fmt: skip
    frame = pd.DataFrame(rows)
    # The campaign's rows take the file's column types: a copy of a row in another type
    # would be another raw row.
    described = con.execute(f"describe select * from '{events_file}'").fetchall()
    for column, _ in ((row[0], row[1]) for row in described):
        if column not in frame:
            frame[column] = None
    con.register("campaign", frame)
    typed = ", ".join(f'cast("{column}" as {kind}) as "{column}"' for column, kind, *_ in described)
    combined = data_dir / "events.combined.parquet"
    con.execute(
        f"copy (select * from '{events_file}' union all select {typed} from campaign "
        f"order by received_at) to '{combined}' (format parquet, compression zstd)"
    )
    con.close()
    combined.replace(events_file)
    manifest_file = data_dir / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    expected = manifest["expected"]["events"]
    expected["raw_rows"] += len(rows)
    expected["clean_rows"] += len(rows)
    manifest["last_event_at"] = max(
        str(manifest["last_event_at"]), *(str(row["received_at"]) for row in rows)
    )
    manifest["campaign"] = asdict(report)
    manifest_file.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    marker.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
    return report


def _event(
    seed: int,
    user_id: str,
    anonymous_id: str | None,
    event_type: str,
    at: datetime,
    campaign_id: str | None,
    context: dict,
    price: float | None,
    is_purchase: bool = False,
    segment_key: str = "",
) -> dict:
    event_id = hashlib.md5(
        f"{seed}|{user_id}|{event_type}|{at.isoformat()}|{campaign_id}|{segment_key}".encode()
    ).hexdigest()
    return {
        "event_id": event_id,
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "event_type": event_type,
        "occurred_at": at,
        "received_at": at + timedelta(seconds=2),
        "page_url": "https://shop.example.com/checkout" if price else "https://shop.example.com/",
        "product_id": "SKU-CAMPAIGN" if price else None,
        "price": price,
        "quantity": 1 if price else None,
        "revenue": price if is_purchase else None,
        "currency": "EUR" if is_purchase else None,
        "campaign_id": campaign_id,
        **context,
    }
