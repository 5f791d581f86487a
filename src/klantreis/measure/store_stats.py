"""What a store holds, for `klantreis stats` and `GET /api/stats`.

`events` counts every stored message; `journey_events` only those on a customer journey (the
model leaves out identify, group and alias messages, which say who someone is, not what they
did): `identity_messages` is the difference, so the two figures never look contradictory.
`identity_quarantine_by_reason` counts the links identity stitching refused (see
`model/identities.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klantreis.measure.contract import AnalysisQuery, AnalysisResult
from klantreis.measure.registry import analysis
from klantreis.model import ensure_built
from klantreis.model.identities import REASONS

if TYPE_CHECKING:
    from klantreis.model.context import Context


class StatsQuery(AnalysisQuery):
    """`kr.stats()`, `klantreis stats`, `GET /api/stats`: no parameters."""


class EventCount(AnalysisResult):
    event: str | None
    count: int


class ReasonCount(AnalysisResult):
    reason: str | None
    count: int


class RefusedLinks(AnalysisResult):
    """Links identity stitching refused for one reason, and the messages that carried them."""

    reason: str
    meaning: str
    count: int
    messages: int


class StoreStats(AnalysisResult):
    """What a store holds (`as_json()` is `klantreis stats --json` and `GET /api/stats`)."""

    store: str
    engine: str
    events: int
    journey_events: int
    identity_messages: int
    """Stored messages that are no journey step: identify, alias and group."""
    persons: int
    journeys: int
    sessions: int
    quarantined: int
    events_by_name: list[EventCount]
    quarantine_by_reason: list[ReasonCount]
    identity_quarantined: int
    identity_quarantine_by_reason: list[RefusedLinks]


@analysis("stats", query=StatsQuery, result=StoreStats)
def store_stats(kr: Context) -> StoreStats:
    """Events by name, persons, journeys, quarantine and refused identity links."""
    ensure_built(kr)
    engine = kr.engine
    by_name = engine.rows(
        "SELECT event, count(*) AS count FROM events GROUP BY event ORDER BY count DESC, event"
    )
    reasons = kr.store.engine.rows(
        "SELECT reason, count(*) AS count FROM quarantine GROUP BY reason ORDER BY count DESC"
    )
    refused = engine.rows(
        "SELECT reason, count(*) AS count, sum(messages) AS messages FROM identity_quarantine "
        "GROUP BY reason ORDER BY count DESC, reason"
    )
    journey_events = engine.scalar("SELECT count(*) FROM journey_events") or 0
    total = sum(r["count"] for r in by_name)
    return StoreStats(
        store=str(kr.settings.store),
        engine=kr.engine.capabilities.name,
        events=total,
        journey_events=journey_events,
        identity_messages=total - journey_events,
        persons=engine.scalar("SELECT count(*) FROM persons") or 0,
        journeys=engine.scalar("SELECT count(*) FROM journeys") or 0,
        sessions=engine.scalar("SELECT count(*) FROM sessions") or 0,
        quarantined=sum(r["count"] for r in reasons),
        events_by_name=[EventCount(**r) for r in by_name],
        quarantine_by_reason=[ReasonCount(**r) for r in reasons],
        identity_quarantined=sum(r["count"] for r in refused),
        identity_quarantine_by_reason=[
            RefusedLinks(
                reason=r["reason"],
                meaning=REASONS.get(r["reason"], r["reason"]),
                count=r["count"],
                messages=int(r["messages"] or 0),
            )
            for r in refused
        ],
    )
