"""Refresh the model after new events: rebuild only the persons whose events changed, and of a
returning customer only the rows from a session before their new events on.

Events are append-only, so the events since the last build are those past its watermark (the
largest `rowid` and the count of `events` then; an erasure or any other removal fails the count
check and forces a full build). Their ids are added to the identity aggregates and identities
are stitched again from those small tables. A person is *affected* when a new event is theirs,
when one of their ids moved to another person (a new alias or link merging two persons moves
every id of one of them), or when a new purchase names an order their back-office events belong
to. Every window of the model is partitioned by person, so an affected person's rows are made
by the very queries of the full build over that person's events, in one of two ways:

- **From a cut on** (a person with new events whose ids did not move): a row of
  `journey_events` depends on the rows before it (the quiet since the one before starts a
  session; the session number and the purchases so far are running counts, and whether a
  contact comes after a purchase follows from them) and, looking forward, on one thing only:
  an event naming an order takes the journey of that order's first purchase. The cut is the
  start of the person's last stored session that began at or before their earliest new event.
  Rows before it are kept; the rows from it are made from the person's events from it on,
  numbering on from the sessions and purchases before it and joining the orders purchased
  before it to their journeys (`journey_events_query(carried=True)`). `sessions` and
  `session_sources` from the cut are made again whole (a session starts at the cut); a journey
  is no stretch of time (a return joins its order's journey), so every journey holding rows
  from the cut on, before or after, is made again from all its rows; `persons` from the
  person's journeys and every event that may give their traits or consent.
- **Whole**: every row of the person deleted and made again from all their events, when the
  cut cannot be exact: their ids moved (their events may be someone else's now), events no id
  attributes (key ''), a person affected only by an order another placed, a new event before
  their first session or undated, undated rows, and a row before the cut naming an order
  purchased only from the cut on (its journey may be renumbered) or whose channel the new
  purchases changed.

`tests/model/test_refresh.py` and `tests/model/test_refresh_returning.py` compare the refreshed
tables with a full build, row for row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from klantreis.model.contract import shaped, sourced
from klantreis.model.definition import JourneyDefinition
from klantreis.model.identities import add_identifiers, restitch_identities
from klantreis.model.journey_events import journey_events_query
from klantreis.model.journeys import journeys_query
from klantreis.model.orders import add_order_channels
from klantreis.model.persons import persons_query
from klantreis.model.phases import build_phase_map
from klantreis.model.sessions import sessions_query
from klantreis.model.sources import SourceRules, session_sources_query
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

REFRESHED_PERSONS = register_table(
    TableSpec(
        "refreshed_persons",
        columns=columns(("person_id", "VARCHAR")),
        key=("person_id",),
        person_id_columns=("person_id",),
        derived=True,
        doc="the persons the last refresh rebuilt ('' for events no id attributes)",
    )
)
"""What the last refresh changed: whoever keeps results per person (expectation cases) and
holds them for the model before it (`meta` `model_refreshed_from`) need only redo these
persons; after a full build the table is empty and `model_refreshed_from` is blank."""

REQUIRED = (
    "order_channels",
    "identity_nodes",
    "identity_emails",
    "identity_links",
    "identities",
    "phase_map",
    "journey_events",
    "sessions",
    "session_sources",
    "journeys",
    "persons",
)


@dataclass(frozen=True)
class Watermark:
    """How far `events` had come when the model was built: its largest rowid and its count."""

    rowid: int
    count: int

    def __str__(self) -> str:
        return f"{self.rowid}|{self.count}"

    @classmethod
    def parse(cls, text: str | None) -> Watermark | None:
        try:
            rowid, count = (int(part) for part in (text or "").split("|"))
        except ValueError:
            return None
        return cls(rowid, count)

    @classmethod
    def of(cls, engine: Engine) -> Watermark:
        row = engine.rows("SELECT coalesce(max(rowid), -1) AS r, count(*) AS n FROM events")[0]
        return cls(int(row["r"]), int(row["n"]))


_NEW_ATTRIBUTED = """
SELECT coalesce(iu.person_id, ia.person_id, '') AS person_key, e.timestamp,
       CASE WHEN e.event = :purchase_event THEN e.properties ->> '$.order_id' END AS order_id
FROM _kr_new_events AS e
LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = e.user_id
LEFT JOIN identities AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = e.anonymous_id
"""
"""The new events' persons (as the identities stitched with them attribute them), their times
and the orders their purchases name."""

_MOVED = """
SELECT o.person_id AS old_person, n.person_id AS new_person
FROM _kr_old_identities AS o
FULL OUTER JOIN _kr_identity_rows AS n ON n.id = o.id AND n.id_kind = o.id_kind
WHERE o.person_id IS DISTINCT FROM n.person_id
"""

_AFFECTED = """
WITH ordered AS (
    SELECT DISTINCT coalesce(j.person_id, '') AS person_key
    FROM journey_events AS j
    WHERE j.order_id IN (
        SELECT properties ->> '$.order_id' FROM _kr_new_events WHERE event = :purchase_event
    )
)
SELECT DISTINCT person_key FROM _kr_new_attributed
UNION SELECT old_person FROM _kr_moved WHERE old_person IS NOT NULL
UNION SELECT new_person FROM _kr_moved WHERE new_person IS NOT NULL
UNION SELECT person_key FROM ordered
"""
"""Person keys (the person id, or '' for events no id attributes) whose rows must be rebuilt."""

_NEW_ORDERS = """
SELECT DISTINCT order_id FROM _kr_new_attributed WHERE order_id IS NOT NULL
"""

_CHANNELS_BEFORE = """
SELECT order_id, channel FROM order_channels WHERE order_id IN (SELECT order_id FROM _kr_new_orders)
"""

_CHANGED_ORDERS = """
SELECT n.order_id FROM _kr_new_orders AS n
JOIN order_channels AS o ON o.order_id = n.order_id
LEFT JOIN _kr_channels_before AS b ON b.order_id = n.order_id
WHERE b.order_id IS NULL OR o.channel IS DISTINCT FROM b.channel
"""
"""The orders whose channel the new purchases set or changed: the back-office events naming
them take another channel."""

_CUTS = """
WITH firsts AS (
    SELECT person_key, min(timestamp) AS first_new, count(*) - count(timestamp) AS undated
    FROM _kr_new_attributed GROUP BY person_key
),
eligible AS (
    SELECT person_key, first_new FROM firsts
    WHERE person_key <> '' AND undated = 0
      AND person_key NOT IN (SELECT old_person FROM _kr_moved WHERE old_person IS NOT NULL)
      AND person_key NOT IN (SELECT new_person FROM _kr_moved WHERE new_person IS NOT NULL)
)
SELECT e.person_key, max(s.started_at) AS cut
FROM eligible AS e JOIN sessions AS s ON s.person_id = e.person_key
WHERE s.started_at <= e.first_new
GROUP BY e.person_key
"""
"""The persons rebuilt from a cut on, and the cut: the start of their last stored session that
began at or before their earliest new event. Their ids did not move (so every stored event is
still theirs), no new event is undated, and some session began before their new events."""

_UNDATED = """
DELETE FROM _kr_cuts WHERE person_key IN (
    SELECT person_id FROM journey_events WHERE timestamp IS NULL AND person_id IS NOT NULL
)
"""
"""Undated rows sort after every dated one: a person holding some is rebuilt whole."""

_RISKY_ORDERS = """
WITH bought AS (
    SELECT j.person_id AS person_key, j.order_id, j.ordered_at < c.cut AS kept
    FROM journeys AS j JOIN _kr_cuts AS c ON c.person_key = j.person_id
    WHERE j.converted AND j.order_id IS NOT NULL
),
later AS (
    SELECT person_key, order_id FROM bought WHERE NOT kept
    UNION SELECT a.person_key, a.order_id FROM _kr_new_attributed AS a
    WHERE a.order_id IS NOT NULL AND a.person_key IN (SELECT person_key FROM _kr_cuts)
),
unkept AS (
    SELECT person_key, order_id FROM later
    EXCEPT SELECT person_key, order_id FROM bought WHERE kept
)
SELECT person_key, order_id FROM unkept
UNION ALL SELECT NULL AS person_key, order_id FROM _kr_changed_orders
"""
"""Orders whose journey or channel a kept row could no longer have: those a person purchased
from the cut on (before or now) but not before it (an event before the cut naming one takes
the journey of its first purchase, which the new events may renumber), and for anyone, the
orders whose channel changed."""

_UNSAFE = """
DELETE FROM _kr_cuts WHERE person_key IN (
    SELECT j.person_id FROM journey_events AS j
    JOIN _kr_risky_orders AS r ON r.order_id = j.order_id
    JOIN _kr_cuts AS c ON c.person_key = j.person_id
    WHERE j.timestamp < c.cut AND (r.person_key IS NULL OR r.person_key = j.person_id)
)
"""
"""A person with a row before the cut naming a risky order is rebuilt whole."""

_CARRY = """
WITH sessions_before AS (
    SELECT c.person_key, count(*) AS n
    FROM _kr_cuts AS c JOIN sessions AS s ON s.person_id = c.person_key
    WHERE s.started_at < c.cut GROUP BY c.person_key
),
orders_before AS (
    SELECT c.person_key, count(*) AS n
    FROM _kr_cuts AS c JOIN journeys AS j ON j.person_id = c.person_key
    WHERE j.converted AND j.ordered_at < c.cut GROUP BY c.person_key
)
SELECT c.person_key AS person_id,
       CAST(coalesce(s.n, 0) AS INTEGER) AS sessions_before,
       CAST(coalesce(o.n, 0) AS INTEGER) AS orders_before
FROM _kr_cuts AS c
LEFT JOIN sessions_before AS s ON s.person_key = c.person_key
LEFT JOIN orders_before AS o ON o.person_key = c.person_key
"""
"""What the rows before a cut carry over: the sessions before it (numbered 1 to n, the kept
ones, whole: a session starts at the cut), and the purchases before it (each is the only
purchase of its journey, so the converted journeys ordered before the cut)."""

_CARRY_ORDERS = """
SELECT j.person_id, j.order_id, min(j.journey_index) AS journey_index
FROM journeys AS j JOIN _kr_cuts AS c ON c.person_key = j.person_id
WHERE j.converted AND j.ordered_at < c.cut AND j.order_id IS NOT NULL
GROUP BY j.person_id, j.order_id
"""

_WHOLE = """
SELECT person_key FROM _kr_affected WHERE person_key NOT IN (SELECT person_key FROM _kr_cuts)
"""

_SCOPE_IDENTITIES = """
SELECT * FROM identities WHERE person_id IN (SELECT person_key FROM _kr_affected)
"""

_SCOPE_ROWS = """
WITH scope_ids AS (
    SELECT i.id_kind, i.id, c.cut
    FROM _kr_scope_identities AS i LEFT JOIN _kr_cuts AS c ON c.person_key = i.person_id
),
candidates AS (
    SELECT e.rowid AS row_id, e.user_id, e.anonymous_id, e.timestamp, e.type, e.event
    FROM events AS e
    LEFT JOIN scope_ids AS u ON u.id_kind = 'user_id' AND u.id = e.user_id
    LEFT JOIN scope_ids AS a ON a.id_kind = 'anonymous_id' AND a.id = e.anonymous_id
    WHERE (u.id IS NOT NULL OR a.id IS NOT NULL)
      AND (e.type = 'identify' OR e.event = 'Consent Updated'
           OR CASE WHEN u.id IS NOT NULL THEN u.cut ELSE a.cut END IS NULL
           OR e.timestamp >= CASE WHEN u.id IS NOT NULL THEN u.cut ELSE a.cut END)
),
attributed AS (
    SELECT c.row_id, coalesce(iu.person_id, ia.person_id, '') AS person_key, c.timestamp,
           c.type, c.event
    FROM candidates AS c
    LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = c.user_id
    LEFT JOIN _kr_scope_identities AS ia
        ON ia.id_kind = 'anonymous_id' AND ia.id = c.anonymous_id
)
SELECT * FROM attributed WHERE person_key IN (SELECT person_key FROM _kr_affected)
"""
"""The events of the affected persons that the rows are made from (a person's all, or from
their cut on) and those that may describe them (any time), attributed as the full build
attributes them, with what decides whether each is read (its time, against the person's cut;
whether it may describe the person). An event is its user id's person, else its anonymous
id's: so it carries an id of its person, and the pass over `events` probes only the affected
persons' ids (a few thousand) instead of joining every event to every identity (about a
million at 10M events). The same id says whose cut applies before the event is attributed: a
user id of an affected person makes the event that person's; an anonymous id of one does when
the event's user id is nobody's, which attributing then checks. So the events before a cut
(most of a returning customer's) are left out before they are attributed: when a +1 % of
returning customers' events affected 39 % of the events at 10M, four million were attributed
for 1.5 million read. The candidates are then attributed exactly: by every user id (whose
person may be another), else by the affected persons' anonymous ids (an anonymous id of
anyone else attributes an event to someone unaffected). Found on narrow columns, then read
whole (`_SCOPE_EVENTS`), which reads the wide JSON columns of those rows only."""

_UNATTRIBUTED_SCOPE_ROWS = """
WITH attributed AS (
    SELECT e.rowid AS row_id, coalesce(iu.person_id, ia.person_id, '') AS person_key,
           e.timestamp, e.type, e.event
    FROM events AS e
    LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = e.user_id
    LEFT JOIN identities AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = e.anonymous_id
)
SELECT * FROM attributed WHERE person_key IN (SELECT person_key FROM _kr_affected)
"""
"""The same rows when events no id attributes are affected (their key ''): those carry no id
of an affected person, so every event is attributed."""

_SCOPE_EVENTS = """
SELECT e.* FROM events AS e SEMI JOIN (
    SELECT s.row_id FROM _kr_scope_rows AS s
    LEFT JOIN _kr_cuts AS c ON c.person_key = s.person_key
    WHERE c.cut IS NULL OR s.timestamp >= c.cut
) AS s ON e.rowid = s.row_id
"""
"""The events the rows are made from: an affected person's all, or from their cut on."""

_ALL_SCOPE_EVENTS = (
    "SELECT e.* FROM events AS e SEMI JOIN _kr_scope_rows AS s ON e.rowid = s.row_id"
)

_DESCRIBING_EVENTS = """
SELECT e.* FROM events AS e SEMI JOIN (
    SELECT row_id FROM _kr_scope_rows WHERE type = 'identify' OR event = 'Consent Updated'
) AS s ON e.rowid = s.row_id
"""
"""Every event of an affected person that may give their traits or consent (`persons`)."""

NOBODY = "SELECT NULL AS person_id WHERE 1 = 0"
_REFRESHED = "SELECT person_key AS person_id FROM _kr_affected"

_DELETE = """
DELETE FROM journey_events
WHERE coalesce(person_id, '') IN (SELECT person_key FROM _kr_whole)
"""

_DELETE_TAIL = """
DELETE FROM {table} WHERE rowid IN (
    SELECT t.rowid FROM {table} AS t JOIN _kr_cuts AS c ON c.person_key = t.person_id
    WHERE t.{time} >= c.cut
)
"""
"""A cut person's rows from the cut on: rows at or after it, sessions and visits that start at
or after it (a session begins at the cut, so the kept ones end before it)."""

_TOUCHED_JOURNEYS = """
SELECT j.journey_id FROM journeys AS j JOIN _kr_cuts AS c ON c.person_key = j.person_id
WHERE j.ended_at >= c.cut
UNION SELECT journey_id FROM _kr_scope_journey_events
WHERE person_id IN (SELECT person_key FROM _kr_cuts)
"""
"""A cut person's journeys holding rows from the cut on, before or after: a journey is not a
stretch of time (an event naming an order joins that order's journey), so these are made again
from all their rows, kept ones too."""

_JOURNEY_ROWS = """
SELECT journey_id, person_id, timestamp, event, order_id, phase_index
FROM _kr_scope_journey_events
WHERE coalesce(person_id, '') IN (SELECT person_key FROM _kr_whole)
UNION ALL
SELECT journey_id, person_id, timestamp, event, order_id, phase_index
FROM journey_events WHERE journey_id IN (SELECT journey_id FROM _kr_touched_journeys)
"""

_DELETE_JOURNEYS = """
DELETE FROM journeys
WHERE coalesce(person_id, '') IN (SELECT person_key FROM _kr_whole)
   OR journey_id IN (SELECT journey_id FROM _kr_touched_journeys)
"""

_PERSON_JOURNEYS = """
SELECT * FROM journeys WHERE person_id IN (SELECT person_key FROM _kr_affected)
"""

_WORK_TABLES = (
    "_kr_new_events",
    "_kr_new_attributed",
    "_kr_moved",
    "_kr_new_orders",
    "_kr_channels_before",
    "_kr_changed_orders",
    "_kr_new_identity_nodes",
    "_kr_new_identity_emails",
    "_kr_new_identity_links",
    "_kr_old_identities",
    "_kr_identity_rows",
    "_kr_affected",
    "_kr_cuts",
    "_kr_risky_orders",
    "_kr_carry",
    "_kr_carry_orders",
    "_kr_whole",
    "_kr_scope_rows",
    "_kr_scope_events",
    "_kr_describing_events",
    "_kr_scope_identities",
    "_kr_scope_journey_events",
    "_kr_touched_journeys",
    "_kr_journey_rows",
    "_kr_scope_journeys",
    "_kr_person_journeys",
)


def refresh(
    engine: Engine,
    definition: JourneyDefinition,
    since: Watermark,
    *,
    session_gap_minutes: int,
    progress: Callable[[str], None] | None = None,
    source_rules: SourceRules | None = None,
) -> int | None:
    """Bring the model built at `since` up to the events stored now.

    Returns how many persons were rebuilt, or None when only a full build can do it (events
    were removed, or a derived table is missing). Runs inside the caller's transaction.
    """
    if not all(engine.has_table(name) for name in REQUIRED):
        return None
    kept = engine.scalar(Query("SELECT count(*) FROM events WHERE rowid <= :r", r=since.rowid))
    if kept != since.count:
        return None
    say = progress or (lambda _msg: None)
    engine.create_work_table(
        "_kr_new_events", Query("SELECT * FROM events WHERE rowid > :r", r=since.rowid)
    )
    if not engine.scalar("SELECT count(*) FROM _kr_new_events"):
        engine.create_table_as("refreshed_persons", shaped(REFRESHED_PERSONS, NOBODY))
        _drop(engine)
        return 0
    say("stitching the new events' identities")
    add_identifiers(engine, "_kr_new_events")
    restitch_identities(engine, progress)
    purchase = definition.purchase_event
    engine.create_work_table("_kr_new_attributed", Query(_NEW_ATTRIBUTED, purchase_event=purchase))
    engine.create_work_table("_kr_moved", _MOVED)
    engine.create_work_table("_kr_affected", Query(_AFFECTED, purchase_event=purchase))
    affected = int(engine.scalar("SELECT count(*) FROM _kr_affected") or 0)
    say(f"rebuilding {affected} persons")
    new_names = engine.rows(
        "SELECT DISTINCT event FROM _kr_new_events WHERE event IS NOT NULL "
        "AND event NOT IN (SELECT event FROM phase_map)"
    )
    if new_names:
        names = [r["event"] for r in engine.rows("SELECT event FROM phase_map")]
        build_phase_map(engine, definition, names + [r["event"] for r in new_names])
    engine.create_work_table("_kr_cuts", _CUTS)
    if not engine.capabilities.row_ids:
        engine.execute("DELETE FROM _kr_cuts")
    tails = bool(engine.scalar("SELECT count(*) FROM _kr_cuts"))
    if tails:  # returning customers: the cut's checks and carry (new customers need none)
        engine.create_work_table("_kr_new_orders", _NEW_ORDERS)
        engine.create_work_table("_kr_channels_before", _CHANNELS_BEFORE)
        add_order_channels(engine, definition, "_kr_new_events")
        _cut(engine)
        cut = int(engine.scalar("SELECT count(*) FROM _kr_cuts") or 0)
        say(f"{cut} of them from a session before their new events on")
    else:
        add_order_channels(engine, definition, "_kr_new_events")
    engine.create_work_table("_kr_whole", _WHOLE)
    engine.create_work_table("_kr_scope_identities", _SCOPE_IDENTITIES)
    unattributed = engine.scalar("SELECT count(*) FROM _kr_affected WHERE person_key = ''")
    engine.create_work_table(
        "_kr_scope_rows", _UNATTRIBUTED_SCOPE_ROWS if unattributed else _SCOPE_ROWS
    )
    read = int(engine.scalar("SELECT count(*) FROM _kr_scope_rows") or 0)
    say(f"reading {read} of their events")
    engine.create_work_table("_kr_scope_events", _SCOPE_EVENTS if tails else _ALL_SCOPE_EVENTS)
    if tails:
        engine.create_work_table("_kr_describing_events", _DESCRIBING_EVENTS)
    engine.create_work_table(
        "_kr_scope_journey_events",
        journey_events_query(
            definition,
            session_gap_minutes=session_gap_minutes,
            sources={
                "events": "_kr_scope_events",
                "identities": "_kr_scope_identities",
                "journey_carry": "_kr_carry",
                "journey_carry_orders": "_kr_carry_orders",
            },
            row_ids=engine.capabilities.row_ids,
            carried=tails,
        ),
    )
    if tails:
        engine.create_work_table("_kr_touched_journeys", _TOUCHED_JOURNEYS)
    for table in ("journey_events", "sessions", "session_sources", "persons"):
        engine.execute(sourced(Query(_DELETE), {"journey_events": table}))
    if tails:
        engine.execute(_DELETE_JOURNEYS)
        for table, time in (
            ("journey_events", "timestamp"),
            ("sessions", "started_at"),
            ("session_sources", "started_at"),
        ):
            engine.execute(_DELETE_TAIL.format(table=table, time=time))
        engine.execute("DELETE FROM persons WHERE person_id IN (SELECT person_key FROM _kr_cuts)")
    else:
        engine.execute(sourced(Query(_DELETE), {"journey_events": "journeys"}))
    engine.insert_into("journey_events", "SELECT * FROM _kr_scope_journey_events")
    scoped = {"journey_events": "_kr_scope_journey_events"}
    engine.insert_into("sessions", sessions_query(scoped))
    engine.insert_into(
        "session_sources",
        session_sources_query(source_rules, {**scoped, "events": "_kr_scope_events"}),
    )
    if tails:
        engine.create_work_table("_kr_journey_rows", _JOURNEY_ROWS)
        scoped = {"journey_events": "_kr_journey_rows"}
    engine.create_work_table("_kr_scope_journeys", journeys_query(definition, scoped))
    engine.insert_into("journeys", "SELECT * FROM _kr_scope_journeys")
    if tails:
        engine.create_work_table("_kr_person_journeys", _PERSON_JOURNEYS)
    engine.insert_into(
        "persons",
        persons_query(
            definition,
            {
                "events": "_kr_describing_events" if tails else "_kr_scope_events",
                "identities": "_kr_scope_identities",
                "journeys": "_kr_person_journeys" if tails else "_kr_scope_journeys",
            },
        ),
    )
    engine.create_table_as("refreshed_persons", shaped(REFRESHED_PERSONS, _REFRESHED))
    _drop(engine)
    return affected


def _cut(engine: Engine) -> None:
    """Narrow `_kr_cuts` to the persons whose rows before the cut stay exact, and make
    `_kr_carry` and `_kr_carry_orders` (what those rows carry over). Runs once the new
    purchases are in `order_channels` (`_kr_channels_before` holds their orders' rows before)."""
    engine.create_work_table("_kr_changed_orders", _CHANGED_ORDERS)
    engine.execute(_UNDATED)
    engine.create_work_table("_kr_risky_orders", _RISKY_ORDERS)
    engine.execute(_UNSAFE)
    engine.create_work_table("_kr_carry", _CARRY)
    engine.create_work_table("_kr_carry_orders", _CARRY_ORDERS)


def _drop(engine: Engine) -> None:
    for name in _WORK_TABLES:
        engine.execute(f"DROP TABLE IF EXISTS {name}")
