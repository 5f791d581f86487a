"""Build the model from stored events: persons, sessions, journeys and the phase of each event.

All of it is SQL over the `events` table (see docs/architecture.md for the derived tables), run
by whichever engine is configured. Journeys: events before (or at) a purchase belong to the
journey of the next order; after-purchase events belong to the order they name, or else to the
person's latest order; events after the last order form an open journey without a purchase.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sqlglot import exp

from klantreis.collect.vocabulary import BACK_OFFICE_EVENTS
from klantreis.config import SectionSettings
from klantreis.model.definition import JourneyDefinition, load_definition
from klantreis.model.identities import build_identities
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table

if TYPE_CHECKING:
    from klantreis.model.context import Context

SESSION_GAP_MINUTES = 30
MODEL_VERSION = "3"
"""Bumped when the model's meaning changes (2: identity stitching with caps and placeholders;
3: back-office events on their order's channel), so stores built by older code are rebuilt."""

for _spec in (
    TableSpec("identities", "", person_id_columns=("person_id",), derived=True),
    TableSpec("persons", "", person_id_columns=("person_id",), derived=True),
    TableSpec("journey_events", "", person_id_columns=("person_id",), derived=True),
    TableSpec("sessions", "", person_id_columns=("person_id",), derived=True),
    TableSpec("journeys", "", person_id_columns=("person_id",), derived=True),
    TableSpec("phase_map", "", derived=True),
):
    register_table(_spec)


@dataclass
class ModelSummary:
    persons: int
    journeys: int
    sessions: int
    events: int
    identity_rounds: int
    definition: str


def phase_map_query(engine: Engine, definition: JourneyDefinition) -> Query:
    """A VALUES table (event, phase, phase_index, touchpoint, direct) for the stored events."""
    names = [
        r["event"] for r in engine.rows("SELECT DISTINCT event FROM events WHERE event IS NOT NULL")
    ]
    index = {phase: i for i, phase in enumerate(definition.phase_ids)}
    rows = []
    for name in sorted(names):
        phase = definition.phase_of(name) or definition.default_phase
        touchpoint, direct = definition.touchpoint_of(name)
        rows.append(
            exp.Tuple(
                expressions=[
                    exp.convert(name),
                    exp.convert(phase),
                    exp.convert(index[phase]),
                    exp.convert(touchpoint),
                    exp.convert(direct),
                ]
            )
        )
    columns = ["event", "phase", "phase_index", "touchpoint", "direct"]
    if not rows:
        empty = (
            "SELECT CAST(NULL AS VARCHAR) AS event, CAST(NULL AS VARCHAR) AS phase, "
            "CAST(NULL AS INTEGER) AS phase_index, CAST(NULL AS VARCHAR) AS touchpoint, "
            "CAST(NULL AS BOOLEAN) AS direct WHERE 1 = 0"
        )
        return Query(empty)
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(
            this=exp.to_identifier("v"), columns=[exp.to_identifier(c) for c in columns]
        ),
    )
    return Query(exp.select(*columns).from_(values))


# A back-office event (payment captured, refund, ...) is recorded by the shop's systems, not on
# the customer's device: it takes the channel of the order it is about.
_JOURNEY_EVENTS = """
WITH order_channel AS (
    SELECT properties ->> '$.order_id' AS order_id, arg_min(channel, timestamp) AS channel
    FROM events WHERE event = :purchase_event AND properties ->> '$.order_id' IS NOT NULL
    GROUP BY 1
),
ev AS (
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
    LEFT JOIN order_channel AS oc ON oc.order_id = e.properties ->> '$.order_id'
    WHERE e.type NOT IN ('identify', 'group', 'alias')
),
ordered AS (
    SELECT *,
           CASE WHEN lag(timestamp) OVER w IS NULL
                  OR date_diff('second', lag(timestamp) OVER w, timestamp) > :gap_seconds
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
the first of such a tie can start a session, and every event of the tie counts it."""

_SESSIONS = """
SELECT session_id, person_id, min(timestamp) AS started_at, max(timestamp) AS ended_at,
       count(*) AS events
FROM journey_events GROUP BY session_id, person_id
"""

_JOURNEYS = """
SELECT journey_id, person_id,
       CAST(substr(journey_id, length(person_id) + 3) AS INTEGER) AS journey_index,
       min(timestamp) AS started_at, max(timestamp) AS ended_at,
       min(CASE WHEN event = :purchase_event THEN order_id END) AS order_id,
       min(CASE WHEN event = :purchase_event THEN timestamp END) AS ordered_at,
       max(CASE WHEN event = :purchase_event THEN 1 ELSE 0 END) = 1 AS converted,
       max(phase_index) AS last_phase_index,
       count(*) AS events
FROM journey_events GROUP BY journey_id, person_id
"""

_PERSONS = """
WITH ids AS (
    SELECT person_id, min(CASE WHEN id_kind = 'user_id' THEN id END) AS user_id
    FROM identities GROUP BY person_id
),
described AS (
    SELECT coalesce(iu.person_id, ia.person_id) AS person_id, e.timestamp, e.traits,
           e.event, e.properties
    FROM events AS e
    LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = e.user_id
    LEFT JOIN identities AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = e.anonymous_id
    WHERE (e.type = 'identify' AND e.traits IS NOT NULL) OR e.event = 'Consent Updated'
),
traits AS (
    SELECT person_id,
           arg_max(traits, timestamp) FILTER (WHERE traits IS NOT NULL) AS traits,
           arg_max(CAST(properties ->> '$.marketing' AS BOOLEAN), timestamp)
               FILTER (WHERE event = 'Consent Updated') AS consent_event,
           arg_max(CAST(traits ->> '$.consent_marketing' AS BOOLEAN), timestamp)
               FILTER (WHERE traits IS NOT NULL) AS consent_trait,
           max(timestamp) FILTER (WHERE event = 'Consent Updated') AS consent_event_at,
           max(timestamp) FILTER (WHERE traits IS NOT NULL) AS consent_trait_at
    FROM described GROUP BY person_id
),
activity AS (
    SELECT person_id, min(timestamp) AS first_seen, max(timestamp) AS last_seen,
           count(*) AS events,
           count(DISTINCT CASE WHEN event = :purchase_event THEN order_id END) AS orders
    FROM journey_events GROUP BY person_id
)
SELECT ids.person_id, ids.user_id, a.first_seen, a.last_seen,
       coalesce(a.events, 0) AS events, coalesce(a.orders, 0) AS orders, t.traits,
       CASE WHEN t.consent_event_at IS NOT NULL
                 AND (t.consent_trait_at IS NULL OR t.consent_event_at >= t.consent_trait_at)
            THEN t.consent_event ELSE t.consent_trait END AS consent_marketing
FROM ids
LEFT JOIN activity AS a ON a.person_id = ids.person_id
LEFT JOIN traits AS t ON t.person_id = ids.person_id
"""


def build(
    engine: Engine,
    definition: JourneyDefinition | str | None = None,
    *,
    session_gap_minutes: int = SESSION_GAP_MINUTES,
    progress: Callable[[str], None] | None = None,
) -> ModelSummary:
    """(Re)build every derived table of the model from `events`."""
    if not isinstance(definition, JourneyDefinition):
        definition = load_definition(definition)
    say = progress or (lambda _msg: None)
    say("stitching identities")
    rounds = build_identities(engine, progress)
    say("mapping events to phases and touchpoints")
    engine.create_table_as("phase_map", phase_map_query(engine, definition))
    purchase_index = definition.phase_ids.index(definition.purchase_phase or "")
    say("assigning sessions and journeys")
    engine.create_table_as(
        "journey_events",
        Query(
            _JOURNEY_EVENTS,
            purchase_event=definition.purchase_event,
            purchase_index=purchase_index,
            gap_seconds=session_gap_minutes * 60,
            back_office=list(BACK_OFFICE_EVENTS),
        ),
    )
    engine.create_table_as("sessions", _SESSIONS)
    engine.create_table_as("journeys", Query(_JOURNEYS, purchase_event=definition.purchase_event))
    say("describing persons")
    engine.create_table_as("persons", Query(_PERSONS, purchase_event=definition.purchase_event))
    counts = engine.fetch(
        "SELECT (SELECT count(*) FROM persons) AS persons, "
        "(SELECT count(*) FROM journeys) AS journeys, "
        "(SELECT count(*) FROM sessions) AS sessions, "
        "(SELECT count(*) FROM journey_events) AS events"
    ).to_pylist()[0]
    return ModelSummary(identity_rounds=rounds, definition=definition.name, **counts)


_build_lock = threading.Lock()


def ensure_built(
    kr: Context,
    definition: str | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> bool:
    """Rebuild the model when events, the definition or the model code changed.

    Returns whether it rebuilt. The state is kept in the store's `meta` table (DuckDB) or on
    the engine object (read-only engines such as Spark), so repeated calls are cheap.
    """
    definition = definition or configured_definition(kr)
    resolved = load_definition(definition)
    # Not the store's write lock: the build only reads `events` (a snapshot) and replaces
    # derived tables, so the collector keeps committing while a model is built beside it.
    with _build_lock:
        fingerprint = "|".join(
            (MODEL_VERSION, resolved.model_dump_json(), kr.store.events_fingerprint())
        )
        engine = kr.engine
        if engine.capabilities.writable:
            built = kr.store.get_meta("model_fingerprint")
        else:
            built = getattr(engine, "_klantreis_model_fingerprint", None)
        if built == fingerprint and engine.has_table("journey_events"):
            return False
        if engine.capabilities.writable:
            with kr.store.transaction():  # the whole model or the previous one, never half
                build(engine, resolved, progress=progress)
                kr.store.set_meta("model_fingerprint", fingerprint)
                kr.store.set_meta("model_definition", resolved.name)
        else:
            build(engine, resolved, progress=progress)
            engine._klantreis_model_fingerprint = fingerprint  # type: ignore[attr-defined]
        return True


class JourneySettings(SectionSettings):
    """`[journey] definition`: a built-in definition's name or a definition file."""

    SECTION: ClassVar[str] = "journey"
    definition: str = "six-phase"


_IN_USE: ContextVar[str | None] = ContextVar("journey_definition_in_use", default=None)


@contextmanager
def definition_in_use(definition: str) -> Iterator[None]:
    """Within this block, analyses read the model in `definition` instead of the configured one.

    A journey map in another definition than the configured one calls other analyses (pain
    points, emotion, opportunities); without this each would rebuild the model in the
    configured definition under the map's feet, and their phases would not be the map's.
    """
    token = _IN_USE.set(definition)
    try:
        yield
    finally:
        _IN_USE.reset(token)


def configured_definition(kr: Context) -> str:
    """The definition in use for this call (see `definition_in_use`), else the configured one."""
    in_use = _IN_USE.get()
    if in_use:
        return in_use
    return kr.settings.section(JourneySettings).definition
