"""The model read in another journey definition, without building it again.

A definition decides, per event, its phase, touchpoint and directness (a function of the event
name, and for the contact events of `about_an_order` of its order id, its topic and whether the
person bought before), and through the phase which journey an event joins: an event of a phase
up to the purchase phase belongs to the next purchase, a later one to the last (unless it names
an order). Persons, sessions, orders and purchases do not depend on it as long as the purchase
event is the same. So the model built in one definition (the configured one) holds everything
another needs: the phase of every event is read through a small per-definition table of event
names, and only the events whose journey can differ (those whose phase falls on the other side
of the purchase phase in the other definition, and the contact events) are placed again, by
counting the person's purchases before them in `journeys`. A map in AIDA on a six-phase store is
then a read of the stored model, not a second build (minutes at shop scale) that also replaced
the first.

`tests/model/test_translate.py` compares every column of `journey_events` and `journeys` read
this way with a full build in the other definition, on a simulated shop.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from klantreis.model.contract import shaped
from klantreis.model.definition import JourneyDefinition
from klantreis.model.journey_events import JOURNEY_EVENTS, _about_an_order
from klantreis.model.journeys import journeys_query
from klantreis.model.phases import phase_map_query
from klantreis.store.query import Query, read_as, tables_read_as

if TYPE_CHECKING:
    from klantreis.store.engines.base import Engine

_READ = """
WITH moved AS (
    SELECT je.message_id, je.person_id, je.timestamp, je.event, je.type, je.channel,
           je.session_id, je.journey_id, je.order_id, je.properties,
           m.phase, m.phase_index, m.touchpoint, m.direct
    FROM journey_events AS je JOIN phase_map AS m ON m.event = je.event
    WHERE je.event IN :moved
),
bought AS (SELECT person_id, journey_index, order_id, ordered_at FROM journeys WHERE converted),
placed AS (
    SELECT mv.message_id,
           sum(CASE WHEN b.ordered_at < mv.timestamp THEN 1 ELSE 0 END) AS orders_before,
           min(CASE WHEN b.order_id = mv.order_id THEN b.journey_index END) AS order_journey
    FROM moved AS mv LEFT JOIN bought AS b ON b.person_id = mv.person_id
    GROUP BY mv.message_id
),
served AS (
    SELECT mv.*, p.orders_before, p.order_journey,
           mv.event IN :about_events AND (mv.order_id IS NOT NULL OR (
               lower(coalesce(mv.properties ->> '$.topic', mv.properties ->> '$.purpose',
                              mv.properties ->> '$.kind')) IN :about_topics
               AND p.orders_before > 0)) AS served
    FROM moved AS mv JOIN placed AS p ON p.message_id = mv.message_id
)
SELECT je.message_id, je.person_id, je.timestamp, je.event, je.type, je.channel,
       m.touchpoint, m.direct, m.phase, m.phase_index, je.session_id, je.journey_id,
       je.order_id, je.properties
FROM journey_events AS je JOIN phase_map AS m ON m.event = je.event
WHERE je.event NOT IN :moved
UNION ALL
SELECT message_id, person_id, timestamp, event, type, channel, touchpoint, direct,
       CASE WHEN served THEN :about_phase ELSE phase END AS phase,
       CASE WHEN served THEN :about_index ELSE phase_index END AS phase_index,
       session_id,
       CASE WHEN event = :purchase_event THEN journey_id
            ELSE person_id || ':j' || CAST(
                CASE WHEN order_journey IS NOT NULL THEN order_journey
                     WHEN served THEN greatest(orders_before, 1)
                     WHEN phase_index <= :purchase_index THEN orders_before + 1
                     ELSE greatest(orders_before, 1) END AS VARCHAR) END AS journey_id,
       order_id, properties
FROM served
"""
"""The built `journey_events` and `journeys` in the definition they were built in; `phase_map`
is the other definition's (the query is given it in place of the stored one)."""


@dataclass(frozen=True)
class Translation:
    """How the model built in `built` reads in `wanted`: the queries that stand for its tables."""

    built: JourneyDefinition
    wanted: JourneyDefinition
    tables: dict[str, Query]


def translatable(built: JourneyDefinition, wanted: JourneyDefinition) -> bool:
    """Whether a model built in `built` can be read in `wanted`: the same purchase event, so
    the same sessions, purchases and journeys before them."""
    return built.purchase_event == wanted.purchase_event


def _moved(built: JourneyDefinition, wanted: JourneyDefinition, names: list[str]) -> list[str]:
    """Event names whose journey can differ between the two definitions: their phase is on the
    other side of the purchase phase, or they are contact events of either."""

    def before_purchase(d: JourneyDefinition, name: str) -> bool:
        phase = d.phase_of(name) or d.default_phase
        return d.phase_ids.index(phase) <= d.phase_ids.index(d.purchase_phase or "")

    about = {
        name
        for d in (built, wanted)
        if d.about_an_order is not None
        for name in d.about_an_order.events
    }
    return sorted(
        n for n in names if n in about or before_purchase(built, n) != before_purchase(wanted, n)
    )


def phase_in(built: JourneyDefinition, wanted: JourneyDefinition, phase: str) -> str | None:
    """A phase of `built` in `wanted`: itself if `wanted` has it, else the phase of `wanted`
    that holds most of its events (what a result kept per phase, without its events, reads as)."""
    if phase in wanted.phase_ids:
        return phase
    spec = next((p for p in built.phases if p.id == phase), None)
    if spec is None:
        return None
    votes = Counter(wanted.phase_of(name) for name in spec.events)
    votes.pop(None, None)
    return votes.most_common(1)[0][0] if votes else None


def translation(engine: Engine, built: JourneyDefinition, wanted: JourneyDefinition) -> Translation:
    """The queries that read `journey_events`, `journeys` and `phase_map` in `wanted` from a
    model built in `built` (both must be `translatable`)."""
    names = [r["event"] for r in engine.rows("SELECT event FROM phase_map")]
    phase_map = phase_map_query(engine, wanted, names)
    events = shaped(
        JOURNEY_EVENTS,
        Query(
            _READ,
            moved=_moved(built, wanted, names) or [""],
            purchase_event=wanted.purchase_event,
            purchase_index=wanted.phase_ids.index(wanted.purchase_phase or ""),
            **_about_an_order(wanted),
        ),
    )
    with tables_read_as({"phase_map": phase_map}):
        events = Query(read_as(events.tree))
    with tables_read_as({"journey_events": events}):
        journeys = Query(read_as(journeys_query(wanted).tree))
    return Translation(
        built=built,
        wanted=wanted,
        tables={"journey_events": events, "journeys": journeys, "phase_map": phase_map},
    )
