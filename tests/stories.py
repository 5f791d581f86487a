"""Events written like a story, for tests: `story({"anna": [("Product Viewed", "09:00"), ...]})`.

Deterministic message ids; times are minutes or HH:MM on a given day, or full datetimes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa

from klantreis.store.schema import EVENT_ARROW_SCHEMA

DAY = datetime(2026, 3, 2)


def _when(value: str | int | datetime, day: datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int):
        return day + timedelta(minutes=value)
    if "T" in value or "-" in value:
        return datetime.fromisoformat(value)
    hours, minutes = value.split(":")
    return day + timedelta(hours=int(hours), minutes=int(minutes))


def event_row(
    person: str,
    event: str,
    when: str | int | datetime,
    *,
    day: datetime = DAY,
    seq: int = 0,
    anonymous: bool = False,
    type: str = "track",
    properties: dict[str, Any] | None = None,
    traits: dict[str, Any] | None = None,
    anonymous_id: str | None = None,
    channel: str = "web",
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ts = _when(when, day)
    return {
        "message_id": f"{person}-{seq}-{event}-{ts.isoformat()}",
        "type": type,
        "event": event,
        "name": None,
        "user_id": None if anonymous else person,
        "anonymous_id": anonymous_id or (person if anonymous else None),
        "previous_id": None,
        "group_id": None,
        "timestamp": ts,
        "received_at": ts,
        "channel": channel,
        "properties": orjson.dumps(properties).decode() if properties is not None else "{}",
        "traits": orjson.dumps(traits).decode() if traits is not None else None,
        "context": orjson.dumps(context).decode() if context is not None else None,
        "source": "test",
    }


def story(people: dict[str, list[tuple[Any, ...]]], day: datetime = DAY) -> pa.Table:
    """Each step: (event, when) or (event, when, {options for event_row})."""
    rows = []
    for person, steps in people.items():
        for seq, step in enumerate(steps):
            event, when, *rest = step
            options = rest[0] if rest else {}
            rows.append(event_row(person, event, when, day=day, seq=seq, **options))
    return pa.Table.from_pylist(rows, schema=EVENT_ARROW_SCHEMA)
