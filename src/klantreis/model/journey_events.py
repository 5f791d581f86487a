"""`journey_events`: every thing a person did, with its person, phase, touchpoint, session and
journey. What every analysis reads.

Contact events the definition lists under `about_an_order` (a store visit, a call, a social
mention) take its phase (service) when they name an order, or name a service topic after a
purchase; they then belong to the order they name or the latest one.

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
from klantreis.store.schema import Column, TableSpec, columns, register_table

JOURNEY_EVENTS = register_table(
    TableSpec(
        "journey_events",
        columns=columns(
            # Message ids are random strings that DuckDB's dictionary and FSST compression
            # hardly shrink, yet analysing and compressing them was 16 % of writing the table
            # at 10M events (docs/scaling.md, "Model build at 10M: message ids stored
            # uncompressed"); stored as they are, the file is 12 % larger.
            Column("message_id", "VARCHAR", compression="uncompressed"),
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
_WIDE = """
WITH ev AS (
    SELECT e.message_id,
           coalesce(iu.person_id, ia.person_id) AS person_id,
           e.timestamp, e.event, e.type,
           CASE WHEN e.event IN :back_office THEN coalesce(oc.channel, e.channel)
                ELSE e.channel END AS channel,
           e.properties,
           e.properties ->> '$.order_id' AS order_id,
           m.phase, m.phase_index, m.touchpoint, m.direct,
           CASE WHEN e.event = :purchase_event THEN 1 ELSE 0 END AS is_purchase,
           CASE WHEN e.event NOT IN :about_events THEN 0
                WHEN e.properties ->> '$.order_id' IS NOT NULL THEN 1
                WHEN lower(coalesce(e.properties ->> '$.topic', e.properties ->> '$.purpose',
                                    e.properties ->> '$.kind')) IN :about_topics THEN 2
                ELSE 0 END AS about
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
placed AS (
    SELECT *,
           min(CASE WHEN is_purchase = 1 AND order_id IS NOT NULL THEN orders_upto END)
               OVER (PARTITION BY person_id, order_id) AS journey_index
    FROM counted
)
SELECT c.message_id, c.person_id, c.timestamp, c.event, c.type, c.channel, c.touchpoint,
       c.direct,
       CASE WHEN c.about = 1 OR (c.about = 2 AND c.orders_upto > 0) THEN :about_phase
            ELSE c.phase END AS phase,
       CASE WHEN c.about = 1 OR (c.about = 2 AND c.orders_upto > 0) THEN :about_index
            ELSE c.phase_index END AS phase_index,
       c.person_id || ':s' || CAST(c.session_no AS VARCHAR) AS session_id,
       c.person_id || ':j' || CAST(
           CASE WHEN c.is_purchase = 1 THEN c.orders_upto
                WHEN c.journey_index IS NOT NULL THEN c.journey_index
                WHEN c.about = 1 OR (c.about = 2 AND c.orders_upto > 0)
                    THEN greatest(c.orders_upto, 1)
                WHEN c.phase_index <= :purchase_index THEN c.orders_upto + 1
                ELSE greatest(c.orders_upto, 1) END AS VARCHAR) AS journey_id,
       c.order_id, c.properties
FROM placed AS c
"""
"""Engines without row ids (Spark): the windows sort the whole rows. Sessions and journeys
share one order, (timestamp, is_purchase, message_id), so there are two passes, not three.
Session numbers do not depend on how events at the same moment are ordered: only the first of
such a tie can start a session, and every event of the tie counts it. The quiet between two
events is measured in microseconds: DuckDB's `date_diff('second', ...)` counts the second
boundaries crossed and Spark's the whole seconds elapsed, so 30:00.2 minutes of quiet was a new
session on one engine and none on the other.

The journey of an event that names an order is that order's purchase's, found by a window over
(person, order) rather than by joining the rows to their own purchases: Spark inlines a common
table expression at each reference, so the join computed the scan, the identity joins, the
shuffle and the windows of every event twice, and shuffled the wide rows once more to join
them. The rows are already partitioned by person, so this window only sorts them again within
each partition (at 1M events the statement's CPU, docs/scaling.md)."""

_NARROW_TEMPLATE = """
WITH ids AS (
    SELECT id, id_kind, person_id, CAST(dense_rank() OVER (ORDER BY person_id) AS INTEGER) AS pk
    FROM identities
),
people AS (SELECT DISTINCT pk, person_id FROM ids),{carry_ctes}
ev AS (
    SELECT e.rowid AS row_id, coalesce(iu.pk, ia.pk) AS pk, e.timestamp, e.message_id,
           CASE WHEN e.event = :purchase_event THEN 1 ELSE 0 END AS is_purchase,
           e.properties ->> '$.order_id' AS order_id, m.phase_index,
           CASE WHEN e.event NOT IN :about_events THEN 0
                WHEN e.properties ->> '$.order_id' IS NOT NULL THEN 1
                WHEN lower(coalesce(e.properties ->> '$.topic', e.properties ->> '$.purpose',
                                    e.properties ->> '$.kind')) IN :about_topics THEN 2
                ELSE 0 END AS about
    FROM events AS e
    LEFT JOIN ids AS iu ON iu.id_kind = 'user_id' AND iu.id = e.user_id
    LEFT JOIN ids AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = e.anonymous_id
    JOIN phase_map AS m ON m.event = e.event
    WHERE e.type NOT IN ('identify', 'group', 'alias')
),
ordered AS (
    SELECT row_id, pk, is_purchase, order_id, phase_index, about,
           CASE WHEN lag(timestamp) OVER w IS NULL
                  OR epoch_us(timestamp) - epoch_us(lag(timestamp) OVER w) > :gap_us
                THEN 1 ELSE 0 END AS new_session,
           CAST(sum(is_purchase) OVER w AS INTEGER) AS orders_upto,
           CAST(row_number() OVER w AS INTEGER) AS seq
    FROM ev
    WINDOW w AS (PARTITION BY pk ORDER BY timestamp, is_purchase, message_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
counted AS (
    SELECT *,
           CAST(sum(new_session) OVER (
               PARTITION BY pk ORDER BY seq
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS INTEGER) AS session_no
    FROM ordered
),{shifted}
purchases AS (
    SELECT pk, order_id, min(orders_upto) AS journey_index
    FROM {purchased} WHERE is_purchase = 1 AND order_id IS NOT NULL
    GROUP BY pk, order_id
),
numbered AS (
    SELECT c.row_id, c.pk, c.order_id, c.session_no,
           c.about = 1 OR (c.about = 2 AND c.orders_upto > 0) AS served,
           CASE WHEN c.is_purchase = 1 THEN c.orders_upto
                WHEN p.journey_index IS NOT NULL THEN p.journey_index
                WHEN c.about = 1 OR (c.about = 2 AND c.orders_upto > 0)
                    THEN greatest(c.orders_upto, 1)
                WHEN c.phase_index <= :purchase_index THEN c.orders_upto + 1
                ELSE greatest(c.orders_upto, 1) END AS journey_no
    FROM {counted} AS c
    LEFT JOIN purchases AS p ON p.pk = c.pk AND p.order_id = c.order_id
)
SELECT e.message_id, who.person_id, e.timestamp, e.event, e.type,
       CASE WHEN e.event IN :back_office THEN coalesce(oc.channel, e.channel)
            ELSE e.channel END AS channel,
       m.touchpoint, m.direct,
       CASE WHEN n.served THEN :about_phase ELSE m.phase END AS phase,
       CASE WHEN n.served THEN :about_index ELSE m.phase_index END AS phase_index,
       who.person_id || ':s' || CAST(n.session_no AS VARCHAR) AS session_id,
       who.person_id || ':j' || CAST(n.journey_no AS VARCHAR) AS journey_id,
       n.order_id, e.properties
FROM events AS e
JOIN numbered AS n ON n.row_id = e.rowid
JOIN phase_map AS m ON m.event = e.event
LEFT JOIN people AS who ON who.pk = n.pk
LEFT JOIN order_channels AS oc ON oc.order_id = n.order_id
"""
"""Engines whose rows have a `rowid`: the same rows as `_WIDE`, with the windows sorting only
narrow columns (a person number from `identities`, the time, the purchase flag, the message id
for ties) and the wide ones (properties, names, channel) joined back by row id, once. Sorting
whole rows is what a build cost (at 1M events the windows were 8 of the 11 CPU seconds of
`journey_events`). The second window orders by the first one's row number, the same order
without the message id; the `properties` JSON is read once, for the order id. The running
counts are cast to 32-bit integers: DuckDB sums integers into 128-bit ones, and the numbered
rows (ten million at 10M events) are held by the windows, the CTE read twice and the hash join
back by row id: at 10M events under a 2GB limit the build's peak fell from 2.26-2.29 to
2.05-2.12 GiB, its CPU unchanged (docs/scaling.md)."""


# `_NARROW_TEMPLATE`'s slots: empty in the full build's query, which is as it was.
_PLAIN = {"carry_ctes": "", "shifted": "", "purchased": "counted", "counted": "counted"}

_CARRIED = {
    "carry_ctes": """
carry AS (
    SELECT p.pk, k.sessions_before, k.orders_before
    FROM journey_carry AS k JOIN people AS p ON p.person_id = k.person_id
),
carried_purchases AS (
    SELECT p.pk, k.order_id, k.journey_index
    FROM journey_carry_orders AS k JOIN people AS p ON p.person_id = k.person_id
),""",
    "shifted": """
shifted AS (
    SELECT c.row_id, c.pk, c.is_purchase, c.order_id, c.phase_index, c.about,
           c.orders_upto + coalesce(k.orders_before, 0) AS orders_upto,
           c.session_no + coalesce(k.sessions_before, 0) AS session_no
    FROM counted AS c LEFT JOIN carry AS k ON k.pk = c.pk
),""",
    "purchased": """(
        SELECT pk, is_purchase, order_id, orders_upto FROM shifted
        UNION ALL SELECT pk, 1, order_id, journey_index FROM carried_purchases
    ) AS u""",
    "counted": "shifted",
}
"""`_NARROW` continuing rows kept from before: the events read are a person's from the start of
one of their sessions on, and two tables say what the rows before carry over (a refresh's
tail, `model/refresh.py`). `journey_carry` (person_id, sessions_before, orders_before): how
many sessions and purchases came before; both running counts start from there, so session and
journey numbers, and whether an event comes after a purchase, are the full build's.
`journey_carry_orders` (person_id, order_id, journey_index): the orders purchased before, so an
event naming one joins that order's journey (an earlier purchase of an order is always the
least). A person without a row carries nothing: all their events are read."""

_NARROW = _NARROW_TEMPLATE.format(**_PLAIN)
_NARROW_CARRIED = _NARROW_TEMPLATE.format(**_CARRIED)


def _about_an_order(definition: JourneyDefinition) -> dict[str, object]:
    """The parameters of the contact events whose phase is what they are about (none: a
    name no event has, so the query keeps one shape)."""
    about = definition.about_an_order
    phase = about.phase if about else definition.default_phase
    return {
        "about_events": (about.events if about else None) or [""],
        "about_topics": [t.lower() for t in (about.topics if about else [])] or [""],
        "about_phase": phase,
        "about_index": definition.phase_ids.index(phase),
    }


def journey_events_query(
    definition: JourneyDefinition,
    *,
    session_gap_minutes: int,
    sources: Mapping[str, str] | None = None,
    row_ids: bool = False,
    carried: bool = False,
) -> Query:
    """The `journey_events` rows of every person, or, with `sources` naming a table of some
    persons' events in place of `events`, exactly the rows of those persons.

    Every window is partitioned by person, so a person's rows depend only on that person's
    events (the channel of back-office events comes from `order_channels`, every order's).
    `row_ids` (the engine's `Capabilities.row_ids`) picks the narrow windows of `_NARROW`.
    `carried` continues rows kept from before (`_CARRIED`; narrow windows only).
    """
    if carried and not row_ids:
        raise ValueError("only the narrow windows carry counts over from kept rows")
    query = Query(
        (_NARROW_CARRIED if carried else _NARROW) if row_ids else _WIDE,
        purchase_event=definition.purchase_event,
        purchase_index=definition.phase_ids.index(definition.purchase_phase or ""),
        gap_us=session_gap_minutes * 60 * 1_000_000,
        back_office=list(BACK_OFFICE_EVENTS),
        **_about_an_order(definition),
    )
    if row_ids:  # `events` is read twice (the narrow pass, the join back), `identities` once
        return shaped(JOURNEY_EVENTS, sourced(query, sources or {}))
    return shaped(JOURNEY_EVENTS, sourced(query, sources or {}, ctes=("ev",)))
