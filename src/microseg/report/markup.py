"""Escaping, data attributes and number formats shared by the charts and the page."""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

DASH = "\N{EN DASH}"  # what a table shows for a missing number


def esc(value: object) -> str:
    """Text from the data (segment names are user configuration), safe in any element or
    attribute of HTML and inline SVG."""
    return html.escape("" if value is None else str(value), quote=True)


def number(value: object) -> float | None:
    """A finite float, or None for null, NaN, infinity and anything that is not a number."""
    if value is None or isinstance(value, str) or value is pd.NA or value is pd.NaT:
        return None
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def whole(value: object) -> int | None:
    """An integer count, or None for a null."""
    parsed = number(value)
    return None if parsed is None else round(parsed)


def data_value(value: object) -> str:
    """A value as a test or a script reads it back: booleans true/false, integers as they
    are, floats round-tripping exactly (repr), nulls empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str):  # a numpy scalar
        return data_value(value.item())
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def data_attrs(values: dict[str, Any]) -> str:
    """` data-member-count="123" ...` from {"member_count": 123, ...}, in the given order."""
    return "".join(
        f' data-{key.replace("_", "-")}="{esc(data_value(value))}"' for key, value in values.items()
    )


def count(value: object) -> str:
    parsed = number(value)
    return DASH if parsed is None else f"{round(parsed):,}"


def share(value: object, digits: int = 1) -> str:
    parsed = number(value)
    return DASH if parsed is None else f"{parsed:.{digits}%}"


def money(value: object) -> str:
    parsed = number(value)
    return DASH if parsed is None else f"{parsed:,.2f}"


def decimal(value: object, digits: int = 3) -> str:
    parsed = number(value)
    return DASH if parsed is None else f"{parsed:,.{digits}f}"


def points(value: object) -> str:
    """A difference of two rates in percentage points, signed."""
    parsed = number(value)
    return DASH if parsed is None else f"{parsed * 100:+.1f} pp"


def p_value(value: object) -> str:
    parsed = number(value)
    if parsed is None:
        return DASH
    return "< 0.001" if parsed < 0.001 else f"{parsed:.3f}"


def timestamp(value: object) -> str:
    """A timestamp to the second, UTC as stored."""
    if value is None or value is pd.NaT or value is pd.NA:
        return DASH
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(value)
