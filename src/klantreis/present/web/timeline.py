"""One person's every touchpoint across channels in time order: the service team's overview.

Reads `journey_events` (the model's stitched view; every channel of one person) and, when the
expectations module has run, that person's rows in `breaches` and `delights` (the promises
missed and those clearly exceeded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from klantreis.store import Store
from klantreis.store.query import Query

_FIND = """
SELECT person_id FROM identities WHERE id = :q
UNION SELECT person_id FROM persons WHERE person_id = :q OR user_id = :q
LIMIT 1
"""

_EVENTS = """
SELECT timestamp, event, channel, touchpoint, direct, phase,
       properties ->> '$.order_id' AS order_id,
       properties ->> '$.ticket_id' AS ticket_id,
       properties ->> '$.promised_delivery_date' AS promised,
       properties ->> '$.rating' AS rating,
       properties ->> '$.score' AS score,
       properties ->> '$.kind' AS kind,
       properties ->> '$.title' AS title,
       coalesce(properties ->> '$.text', properties ->> '$.review_body',
                properties ->> '$.message_body', properties ->> '$.comment',
                properties ->> '$.subject', properties ->> '$.reason',
                properties ->> '$.query') AS text,
       coalesce(properties ->> '$.total', properties ->> '$.revenue') AS total,
       properties ->> '$.carrier' AS carrier
FROM journey_events WHERE person_id = :person
ORDER BY timestamp, event
LIMIT 2000
"""

_BUSY = """
SELECT person_id, count(*) AS events, count(DISTINCT channel) AS channels,
       max(timestamp) AS last_seen
FROM journey_events
GROUP BY person_id
ORDER BY channels DESC, events DESC, person_id
LIMIT 12
"""

_PERSON = "SELECT * FROM persons WHERE person_id = :person"
_BREACHES = "SELECT * FROM breaches WHERE person_id = :person"
_DELIGHTS = "SELECT * FROM delights WHERE person_id = :person"


KEY_MOMENTS = frozenset(
    {
        "Order Completed",
        "Order Cancelled",
        "Payment Failed",
        "Order Shipped",
        "Order Delivered",
        "Delivery Failed",
        "Return Requested",
        "Order Refunded",
        "Ticket Created",
        "Ticket Replied",
        "Ticket Resolved",
        "Ticket Reopened",
        "Live Chat Conversation Started",
        "Live Chat Message Sent",
        "Live Chat Message Received",
        "Review Submitted",
        "Product Reviewed",
        "Survey Answered",
    }
)
"""What a service conversation needs: orders, deliveries, returns, tickets, chats, reviews."""


@dataclass
class Entry:
    at: datetime | None
    what: str
    channel: str | None = None
    touchpoint: str | None = None
    phase: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    late: bool | None = None
    breach: bool = False
    direct: bool | None = None
    delight: bool = False


def find_person(store: Store, query: str) -> str | None:
    if not query or not store.engine.has_table("identities"):
        return None
    value = store.engine.scalar(Query(_FIND, q=query.strip()))
    return None if value is None else str(value)


def busy_persons(store: Store) -> list[dict[str, Any]]:
    if not store.engine.has_table("journey_events"):
        return []
    return store.engine.rows(Query(_BUSY))


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def timeline(store: Store, person_id: str) -> tuple[dict[str, Any], list[Entry]]:
    person = store.engine.rows(Query(_PERSON, person=person_id))
    entries: list[Entry] = []
    for row in store.engine.rows(Query(_EVENTS, person=person_id)):
        late = None
        promised = _day(row["promised"]) if row["promised"] else None
        if row["event"] == "Order Delivered" and promised and row["timestamp"]:
            late = row["timestamp"].date() > promised
        detail = {
            k: row[k]
            for k in (
                "order_id",
                "ticket_id",
                "promised",
                "rating",
                "score",
                "kind",
                "total",
                "carrier",
                "title",
            )
            if row[k]
        }
        entries.append(
            Entry(
                row["timestamp"],
                row["event"],
                row["channel"],
                row["touchpoint"],
                row["phase"],
                detail,
                row["text"],
                late,
                direct=row["direct"],
            )
        )
    for table, query, kind in (
        ("breaches", _BREACHES, "breach"),
        ("delights", _DELIGHTS, "delight"),
    ):
        if not store.engine.has_table(table):
            continue
        for row in store.engine.rows(Query(query, person=person_id)):
            at = next(
                (
                    row[k]
                    for k in ("at", "timestamp", "occurred_at", f"{kind}ed_at", f"{kind}d_at")
                    if isinstance(row.get(k), datetime)
                ),
                None,
            )
            label = next(
                (
                    str(row[k])
                    for k in ("expectation", "expectation_id", "label", "rule")
                    if row.get(k)
                ),
                kind,
            )
            detail = {
                k: row[k]
                for k in ("category", "order_id", "detail", "value")
                if row.get(k) is not None
            }
            entries.append(
                Entry(
                    at,
                    label,
                    phase=row.get("phase"),
                    detail=detail,
                    breach=kind == "breach",
                    delight=kind == "delight",
                )
            )
    entries.sort(key=lambda e: (e.at is None, e.at or datetime.min))
    return (person[0] if person else {}), entries
