"""Numbers for people, through Babel (as the dashboard formats them): percentages and durations.

The CLI prints English; the dashboard passes the viewer's language. Durations take the largest
unit that fits, with one decimal (`1.5h`, `12m`, `2.3d`), in the locale's own unit names.
"""

from __future__ import annotations

from typing import Literal

from babel.numbers import format_percent
from babel.units import format_unit

_UNITS = (
    ("duration-day", 86400),
    ("duration-hour", 3600),
    ("duration-minute", 60),
    ("duration-second", 1),
)
NOTHING = "–"


def percent(value: float | None, digits: int = 1, locale: str = "en") -> str:
    """`12.3%` (one decimal by default); a dash for no value."""
    if value is None:
        return NOTHING
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=locale)


def duration(
    seconds: float | None, locale: str = "en", length: Literal["short", "long", "narrow"] = "narrow"
) -> str:
    """`1.5h`, `12m`, `45s`, `2.3d` (narrow English); a dash for no value."""
    if seconds is None:
        return NOTHING
    for unit, size in _UNITS:
        if abs(seconds) >= size or size == 1:
            return format_unit(seconds / size, unit, length=length, format="#,##0.#", locale=locale)
    raise AssertionError("unreachable: the last unit always fits")  # pragma: no cover
