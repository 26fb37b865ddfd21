"""Behaviour archetypes of the synthetic shop's visitors.

Each archetype is a row of parameters that the generator's SQL reads; together they
populate every segment the project ships (content hobbyists who stopped buying, cart
abandoners, weekend-only visitors, newcomers, loyal subscribers, lapsed high-value
buyers, discount hunters, high-intent shoppers, browsing enthusiasts).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

# Event types a web session can contain after its landing page view, in this order.
SESSION_EVENT_TYPES = (
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "checkout_started",
    "purchase",
    "content_read",
    "video_played",
)


@dataclass(frozen=True)
class Archetype:
    name: str
    share: float  # of persons
    activity: float  # multiplies the power-law session weight
    p_known: float  # chance the person ever logs in
    window_lo: float  # part of the data window the person is active in, 0..1
    window_hi: float
    purchase_until: float  # purchases only before this point of the window, 0..1
    weekend_only: bool
    p_bounce: float
    mean_events: float  # per non-bounce session
    gap_seconds: float  # typical time between events in a session
    focus: float  # chance a product or content event stays in the favourite category
    p_discount: float  # chance a purchase uses a discount code
    price_factor: float
    p_email_open: float
    p_email_click: float  # given an open
    # Relative weights of SESSION_EVENT_TYPES after the landing page.
    mix: tuple[float, ...]


# One archetype a line. Columns follow the Archetype fields; `mix` lists the weights of
# SESSION_EVENT_TYPES separated by slashes.
_TABLE = """
name                share activity known win_lo win_hi buy_until weekend bounce events gap focus discount price open click mix
casual               0.35      0.6  0.30   0.00   1.00      1.00      no   0.45      5  50   0.4     0.05   1.0 0.15  0.10 40/30/8/4/1/1/1/3/2
browsing_enthusiast  0.08      1.6  0.45   0.00   1.00      1.00      no   0.15     12  40   0.9     0.05   1.0 0.25  0.15 15/60/10/5/2/1/1/2/1
high_intent          0.05      1.0  0.75   0.30   1.00      1.00      no   0.05     10  20   0.7     0.05   1.2 0.30  0.20 10/55/10/12/2/6/5/0/0
cart_abandoner       0.08      1.6  0.65   0.50   1.00      1.00      no   0.10      9  45   0.6     0.05   1.0 0.30  0.15 20/40/8/20/4/8/0.3/1/1
content_hobbyist     0.08      1.4  0.60   0.00   1.00      0.40      no   0.10      8  90   0.8     0.05   1.0 0.45  0.25 25/10/5/2/0/1/2/40/20
weekend_warrior      0.06      1.2  0.55   0.00   1.00      1.00     yes   0.20      8  50   0.6     0.10   1.0 0.25  0.15 30/35/8/8/2/4/4/5/4
newcomer             0.08      0.5  0.70   0.93   1.00      1.00      no   0.30      6  50   0.5     0.15   1.0 0.40  0.20 35/35/10/6/1/3/3/4/3
loyal_subscriber     0.06      2.5  0.98   0.00   1.00      1.00      no   0.10      9  40   0.6     0.10   1.3 0.60  0.35 25/35/8/10/2/7/8/3/2
lapsed_high_value    0.04      1.5  0.95   0.00   0.55      0.55      no   0.10      9  45   0.6     0.05   3.0 0.20  0.05 25/35/6/10/1/7/9/4/3
discount_hunter      0.05      1.2  0.85   0.00   1.00      1.00      no   0.15      8  40   0.5     0.85   0.8 0.50  0.30 25/35/10/10/2/6/6/3/3
"""


def _parse(table: str) -> tuple[Archetype, ...]:
    return tuple(_archetype(line.split()) for line in table.strip().splitlines()[1:])


def _archetype(row: list[str]) -> Archetype:
    share, activity, p_known, window_lo, window_hi, purchase_until = map(float, row[1:7])
    p_bounce, mean_events, gap_seconds, focus, p_discount, price_factor, p_open, p_click = map(
        float, row[8:16]
    )
    return Archetype(
        row[0],
        share,
        activity,
        p_known,
        window_lo,
        window_hi,
        purchase_until,
        row[7] == "yes",
        p_bounce,
        mean_events,
        gap_seconds,
        focus,
        p_discount,
        price_factor,
        p_open,
        p_click,
        tuple(float(w) for w in row[16].split("/")),
    )


ARCHETYPES = _parse(_TABLE)


def archetypes_values_sql() -> str:
    """The archetypes as a SQL `values` list with cumulative person shares and event mix."""
    total_share = sum(a.share for a in ARCHETYPES)
    rows = []
    cumulative = 0.0
    for archetype in ARCHETYPES:
        share_lo = cumulative
        cumulative += archetype.share / total_share
        values = list(astuple(archetype))[:-1]
        mix_total = sum(archetype.mix)
        running = 0.0
        mix_cumulative = []
        for weight in archetype.mix:
            running += weight / mix_total
            mix_cumulative.append(round(running, 6))
        expected_events = archetype.p_bounce + (1 - archetype.p_bounce) * archetype.mean_events
        row = [*values, round(share_lo, 6), round(cumulative, 6), mix_cumulative, expected_events]
        rows.append("(" + ", ".join(_sql_literal(v) for v in row) + ")")
    return "\n        , ".join(rows)


def archetype_columns() -> list[str]:
    names = [f.name for f in fields(Archetype)][:-1]
    return [*names, "share_lo", "share_hi", "mix_cumulative", "expected_events"]


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(_sql_literal(v) for v in value) + "]"
    return repr(value)
