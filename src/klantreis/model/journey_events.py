"""`journey_events`: every thing a person did, with its person, phase, touchpoint, session and
journey. What every analysis reads.

Journeys: events before (or at) a purchase belong to the journey of the next order;
after-purchase events belong to the order they name, or else to the person's latest order;
events after the last order form an open journey without a purchase.
"""

from __future__ import annotations

from collections.abc import Mapping

from klantreis.collect.vocabulary import BACK_OFFICE_EVENTS
from klantreis.model.contract import shaped, sourced
from klantreis.model.definition import JourneyDefinition
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

JOURNEY_EVENTS = register_table(
    TableSpec(
        "journey_events",
        columns=columns(
            ("message_id", "VARCHAR"),
            ("person_id", "VARCHAR"),
            ("timestamp", "TIMESTAMP"),
            ("event", "VARCHAR"),
            ("type", "VARCHAR"),
            ("channel", "VARCHAR"),
            ("touchpoint", "VARCHAR"),
            ("direct", "BOOLEAN"),
            ("phase", "VARCHAR"),
            ("phase_index", "INTEGER"),
            ("session_id", "VARCHAR"),
            ("journey_id", "VARCHAR"),
            ("order_id", "VARCHAR"),
            ("properties", "VARCHAR"),
        ),
        key=("message_id",),
        person_id_columns=("person_id",),
        derived=True,
        doc="one row per thing a person did: person, phase, touchpoint, session, journey",
    )
)

# A back-office event (payment captured, refund, ...) is recorded by the shop's systems, not on
# the customer's device: it takes the channel of the order it is about.
_JOURNEY_EVENTS = """
WITH ev AS (
    SELECT e.message_id,
           coalesce(iu.person_id, ia.person_id) AS person_id,
           e.timestamp, e.event, e.type,
           CASE WHEN e.event IN :back_office THEN coalesce(oc.channel, e.channel)
                ELSE e.channel END AS channel,
           e.properties,
           e.properties ->> '$.order_id' AS order_id,
           m.phase, m.phase_index, m.touchpoint, m.direct,
           CASE WHEN e.event = :purchase_event THEN 1 ELSE 0 END AS is_purchase
    FROM events AS e
    LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = e.user_id
    LEFT JOIN identities AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = e.anonymous_id
    JOIN phase_map AS m ON m.event = e.event
    LEFT JOIN order_channels AS oc ON oc.order_id = e.properties ->> '$.order_id'
    WHERE e.type NOT IN ('identify', 'group', 'alias')
),
ordered AS (
    SELECT *,
           CASE WHEN lag(timestamp) OVER w IS NULL
                  OR epoch_us(timestamp) - epoch_us(lag(timestamp) OVER w) > :gap_us
                THEN 1 ELSE 0 END AS new_session,
           sum(is_purchase) OVER (
               PARTITION BY person_id ORDER BY timestamp, is_purchase, message_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS orders_upto
    FROM ev
    WINDOW w AS (PARTITION BY person_id ORDER BY timestamp, is_purchase, message_id)
),
counted AS (
    SELECT *,
           sum(new_session) OVER (
               PARTITION BY person_id ORDER BY timestamp, is_purchase, message_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
    FROM ordered
),
purchases AS (
    SELECT person_id, order_id, min(orders_upto) AS journey_index
    FROM counted WHERE is_purchase = 1 AND order_id IS NOT NULL
    GROUP BY person_id, order_id
)
SELECT c.message_id, c.person_id, c.timestamp, c.event, c.type, c.channel, c.touchpoint,
       c.direct, c.phase, c.phase_index,
       c.person_id || ':s' || CAST(c.session_no AS VARCHAR) AS session_id,
       c.person_id || ':j' || CAST(
           CASE WHEN c.is_purchase = 1 THEN c.orders_upto
                WHEN p.journey_index IS NOT NULL THEN p.journey_index
                WHEN c.phase_index <= :purchase_index THEN c.orders_upto + 1
                ELSE greatest(c.orders_upto, 1) END AS VARCHAR) AS journey_id,
       c.order_id, c.properties
FROM counted AS c
LEFT JOIN purchases AS p ON p.person_id = c.person_id AND p.order_id = c.order_id
"""
"""Window functions are the cost of the build (each sorts every event of every person), so
there are two passes, not three: sessions and journeys share one order, (timestamp, is_purchase,
message_id). Session numbers do not depend on how events at the same moment are ordered: only
the first of such a tie can start a session, and every event of the tie counts it. The quiet
between two events is measured in microseconds: DuckDB's `date_diff('second', ...)` counts the
second boundaries crossed and Spark's the whole seconds elapsed, so 30:00.2 minutes of quiet
was a new session on one engine and none on the other."""


def journey_events_query(
    definition: JourneyDefinition,
    *,
    session_gap_minutes: int,
    sources: Mapping[str, str] | None = None,
) -> Query:
    """The `journey_events` rows of every person, or, with `sources` naming a table of some
    persons' events in place of `events`, exactly the rows of those persons.

    Every window is partitioned by person, so a person's rows depend only on that person's
    events (the channel of back-office events comes from `order_channels`, every order's).
    """
    query = Query(
        _JOURNEY_EVENTS,
        purchase_event=definition.purchase_event,
        purchase_index=definition.phase_ids.index(definition.purchase_phase or ""),
        gap_us=session_gap_minutes * 60 * 1_000_000,
        back_office=list(BACK_OFFICE_EVENTS),
    )
    return shaped(JOURNEY_EVENTS, sourced(query, sources or {}, ctes=("ev",)))
