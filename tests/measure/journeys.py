"""`journeys_for({"anna": [("Product Viewed", "09:00"), ...]})`: journey_events as a story.

Builds the derived `journey_events` table directly (no model run), so analytics tests state the
exact rows they are about. Times are minutes after DAY, "HH:MM", ISO text or datetimes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa

from klantreis.model.journey_events import JOURNEY_EVENTS

DAY = datetime(2026, 3, 2)

PHASES = {
    "Products Searched": ("orientation", 1, "search"),
    "Product Viewed": ("consideration", 2, "product page"),
    "Product Added": ("consideration", 2, "cart"),
    "Checkout Started": ("purchase", 3, "checkout"),
    "Order Completed": ("purchase", 3, "checkout"),
    "Order Delivered": ("service", 4, "carrier"),
    "Review Submitted": ("evaluation", 5, "review site"),
}

JOURNEY_EVENTS_SCHEMA = JOURNEY_EVENTS.arrow_schema
"""The declared contract of `journey_events` (`model/journey_events.py`), as the model makes it."""


def when(value: str | int | datetime, day: datetime = DAY) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int):
        return day + timedelta(minutes=value)
    if "T" in value or "-" in value:
        return datetime.fromisoformat(value)
    hours, minutes = value.split(":")
    return day + timedelta(hours=int(hours), minutes=int(minutes))


def journeys_for(people: dict[str, list[tuple[Any, ...]]], day: datetime = DAY) -> pa.Table:
    """Each event: (event, when) or (event, when, {"properties": {...}, "session": "s1", ...})."""
    rows = []
    for person, events in people.items():
        for seq, (event, at, *rest) in enumerate(events):
            options = rest[0] if rest else {}
            phase, index, touchpoint = PHASES.get(event, ("orientation", 1, "web page"))
            rows.append(
                {
                    "message_id": f"{person}-{seq:06d}",
                    "person_id": person,
                    "timestamp": when(at, day),
                    "event": event,
                    "type": "track",
                    "channel": options.get("channel", "web"),
                    "touchpoint": options.get("touchpoint", touchpoint),
                    "direct": True,
                    "phase": options.get("phase", phase),
                    "phase_index": options.get("phase_index", index),
                    "session_id": f"{person}-{options.get('session', 's1')}",
                    "journey_id": f"{person}-{options.get('journey', 'j1')}",
                    "order_id": options.get("order_id"),
                    "properties": orjson.dumps(options.get("properties", {})).decode(),
                }
            )
    return pa.Table.from_pylist(rows, schema=JOURNEY_EVENTS_SCHEMA)


def from_columns(person: list[str], ts_us: list[int], event: list[str]) -> pa.Table:
    """journey_events from plain columns (generated logs for property tests)."""
    n = len(person)
    return pa.table(
        {
            "message_id": [f"m{i:08d}" for i in range(n)],
            "person_id": person,
            "timestamp": pa.array(ts_us, pa.timestamp("us")),
            "event": event,
            "type": ["track"] * n,
            "channel": ["web"] * n,
            "touchpoint": ["web page"] * n,
            "direct": [True] * n,
            "phase": ["consideration"] * n,
            "phase_index": pa.array([2] * n, pa.int32()),
            "session_id": [f"{p}-s1" for p in person],
            "journey_id": [f"{p}-j1" for p in person],
            "order_id": pa.nulls(n, pa.string()),
            "properties": ["{}"] * n,
        },
        schema=JOURNEY_EVENTS_SCHEMA,
    )
