"""One person's every touchpoint across channels in time order: the service team's overview.

Reads `journey_events` (the model's stitched view; every channel of one person) and, when the
expectations module has run, that person's rows in `breaches` and `delights` (the promises
missed and those clearly exceeded). A loyal customer has hundreds of events, so the page
groups them by journey (one purchase cycle, with its order) and, inside, by session; each
journey says which phases it reached and what was breached or delighted, so a reader sees the
story before opening any group.
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
WITH mine AS MATERIALIZED (
    SELECT timestamp, event, channel, touchpoint, direct, phase, phase_index, session_id,
           journey_id,
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
)
SELECT * FROM mine
ORDER BY timestamp, event
LIMIT 2000
"""
"""A person's rows selected apart (a materialized CTE) and ordered outside it: under the
top-N DuckDB adds the ordering's dynamic filter to the scan and reads every row group, where
the plain equality filter alone finds the rows by the routine's index
(`klantreis.model.person_index`)."""

_BUSY = """
SELECT person_id, count(*) AS events, count(DISTINCT channel) AS channels,
       max(timestamp) AS last_seen
FROM journey_events
GROUP BY person_id
ORDER BY channels DESC, events DESC, person_id
LIMIT 12
"""

_PERSON = "SELECT * FROM persons WHERE person_id = :person"
_JOURNEYS = """
SELECT journey_id, journey_index, order_id, started_at, ended_at
FROM journeys WHERE person_id = :person
"""
_BREACHES = "SELECT * FROM breaches WHERE person_id = :person"
_DELIGHTS = "SELECT * FROM delights WHERE person_id = :person"
_CASES = """SELECT case_id, kind, expectation_id, reason, signal_at, journey_id, order_id, owner,
    status, messages_sent FROM cases WHERE person_id = :person ORDER BY signal_at"""


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
    session_id: str | None = None
    journey_id: str | None = None
    phase_index: int | None = None
    expectation: bool = False
    """`what` is an expectation id (a breach or delight), not an event name."""
    case: str | None = None
    """A case of the inbox (its id; `what` is its kind): it stands between the sessions."""

    @property
    def alarming(self) -> bool:
        return self.breach or bool(self.late)


@dataclass
class SessionGroup:
    """One session's entries (a breach or delight judged outside any session has its own)."""

    id: str | None
    entries: list[Entry] = field(default_factory=list)

    @property
    def started(self) -> datetime | None:
        return next((e.at for e in self.entries if e.at), None)

    @property
    def ended(self) -> datetime | None:
        return next((e.at for e in reversed(self.entries) if e.at), None)

    @property
    def channels(self) -> list[str]:
        return list(dict.fromkeys(e.channel for e in self.entries if e.channel))


@dataclass
class JourneyGroup:
    """One purchase cycle of the person: its order, dates, phases reached, breaches, delights."""

    id: str | None
    index: int | None = None
    order_id: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    sessions: list[SessionGroup] = field(default_factory=list)

    @property
    def entries(self) -> list[Entry]:
        return [e for s in self.sessions for e in s.entries]

    @property
    def events(self) -> int:
        return sum(1 for e in self.entries if not e.expectation)

    @property
    def phases(self) -> list[str]:
        """Phases reached, in journey order."""
        seen = {e.phase: e.phase_index for e in self.entries if e.phase and not e.expectation}
        return sorted(seen, key=lambda p: (seen[p] is None, seen[p] or 0))

    @property
    def breaches(self) -> list[Entry]:
        return [e for e in self.entries if e.breach]

    @property
    def delights(self) -> list[Entry]:
        return [e for e in self.entries if e.delight]

    @property
    def moments(self) -> list[Entry]:
        """Breaches and delights, in time order."""
        return [e for e in self.entries if e.breach or e.delight]


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


def _number(value: Any) -> Any:
    """A property sent as text ("21.77") as a number, so the page writes it the reader's way."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def timeline(store: Store, person_id: str) -> tuple[dict[str, Any], list[Entry]]:
    person = store.engine.rows(Query(_PERSON, person=person_id))
    entries: list[Entry] = []
    for row in store.engine.rows(Query(_EVENTS, person=person_id)):
        late = None
        promised = _day(row["promised"]) if row["promised"] else None
        if row["event"] == "Order Delivered" and promised and row["timestamp"]:
            late = row["timestamp"].date() > promised
        if promised:
            row["promised"] = promised
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
        for k in ("rating", "score", "total"):
            if k in detail:
                detail[k] = _number(detail[k])
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
                session_id=row["session_id"],
                journey_id=row["journey_id"],
                phase_index=row["phase_index"],
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
                    journey_id=row.get("journey_id"),
                    expectation=True,
                )
            )
    entries.extend(_cases(store, person_id))
    entries.sort(key=lambda e: (e.at is None, e.at or datetime.min))
    return (person[0] if person else {}), entries


def _cases(store: Store, person_id: str) -> list[Entry]:
    """The person's cases (the inbox), at the moment their signal happened."""
    if not store.engine.has_table("cases"):
        return []
    return [
        Entry(
            row["signal_at"],
            row["kind"],
            detail={
                k: row[k]
                for k in ("expectation_id", "order_id", "reason", "status", "owner")
                if row.get(k)
            },
            journey_id=row["journey_id"],
            case=row["case_id"],
        )
        for row in store.engine.rows(Query(_CASES, person=person_id))
    ]


def group(store: Store, person_id: str, entries: list[Entry]) -> list[JourneyGroup]:
    """Entries by journey (in time order) and, inside, by session; a breach or delight goes
    to the session it happened in, or stands alone between them."""
    known: dict[str | None, JourneyGroup] = {}
    if store.engine.has_table("journeys"):
        for row in store.engine.rows(Query(_JOURNEYS, person=person_id)):
            known[row["journey_id"]] = JourneyGroup(
                row["journey_id"],
                row["journey_index"],
                row["order_id"],
                row["started_at"],
                row["ended_at"],
            )
    journeys: dict[str | None, JourneyGroup] = {}
    for entry in entries:
        journey = journeys.get(entry.journey_id)
        if journey is None:
            journey = known.get(entry.journey_id) or JourneyGroup(entry.journey_id)
            journeys[entry.journey_id] = journey
        session = journey.sessions[-1] if journey.sessions else None
        if entry.expectation or entry.case:
            if session is None or not _within(session, entry.at):
                session = SessionGroup(None)
                journey.sessions.append(session)
        elif session is None or session.id != entry.session_id:
            session = SessionGroup(entry.session_id)
            journey.sessions.append(session)
        session.entries.append(entry)
    for journey in journeys.values():
        journey.started = journey.started or journey.sessions[0].started
        journey.ended = journey.ended or journey.sessions[-1].ended
    return sorted(journeys.values(), key=lambda j: (j.started is None, j.started or datetime.min))


def _within(session: SessionGroup, at: datetime | None) -> bool:
    """A judged expectation stays with the session it was judged in (the same minute range)."""
    if session.id is None:
        return True
    return (
        at is not None
        and session.started is not None
        and session.ended is not None
        and (session.started <= at <= session.ended)
    )
