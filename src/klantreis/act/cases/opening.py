"""Open cases from signals: breaches, at-risk orders, detractors, negative texts, unanswered
questions, each kind one query over its own table.

Idempotent: a case's id is its rule's id and its signal's key (the breach id, the order id, the
survey answer's or text's message id, the ticket or conversation id), and a case that exists is
never opened again, whatever its status. Incremental: each rule remembers up to which moment it
looked (`meta` key `cases.scanned.<rule>`) and next time reads only signals after that, less
`[cases] grace_hours` for events that arrive late, and never older than `max_age_days`; so a run
reads the new signals once, never the whole history (an import of last year's data opens no
cases). "Now" is the store's clock, the latest event, like the at-risk orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from klantreis.act.cases.rules import CaseRule, CaseSettings, active_case_rules
from klantreis.act.cases.table import CASES
from klantreis.store.query import Query
from klantreis.store.store import utcnow

if TYPE_CHECKING:
    from klantreis.model.context import Context

_SIGNAL = (
    "signal",
    "person_id",
    "journey_id",
    "order_id",
    "case_key",
    "expectation_id",
    "signal_at",
    "reason",
)

_BREACH = """
SELECT b.breach_id AS signal, b.person_id, b.journey_id, b.order_id, b.case_key,
       b.expectation_id, b.breached_at AS signal_at, b.detail AS reason
FROM breaches AS b
WHERE b.breached_at > :since AND b.breached_at <= :now
"""

_DETRACTOR = """
SELECT j.message_id AS signal, j.person_id, j.journey_id, j.order_id,
       j.properties ->> '$.survey_id' AS case_key, CAST(NULL AS VARCHAR) AS expectation_id,
       j.timestamp AS signal_at, 'NPS ' || (j.properties ->> '$.score') AS reason
FROM journey_events AS j
WHERE j.event = 'Survey Answered' AND j.timestamp > :since AND j.timestamp <= :now
  AND lower(j.properties ->> '$.kind') = 'nps'
  AND TRY_CAST(j.properties ->> '$.score' AS DOUBLE) <= :max_score
"""

_NEGATIVE_TEXT = """
SELECT v.message_id AS signal, j.person_id, j.journey_id, coalesce(v.order_id, j.order_id)
       AS order_id,
       coalesce(j.properties ->> '$.ticket_id', j.properties ->> '$.review_id',
                j.properties ->> '$.conversation_id') AS case_key,
       CAST(NULL AS VARCHAR) AS expectation_id, v.timestamp AS signal_at,
       v.event || ': sentiment ' || CAST(round(v.sentiment, 2) AS VARCHAR) AS reason
FROM voice AS v JOIN journey_events AS j ON j.message_id = v.message_id
WHERE v.event IN :events AND v.timestamp > :since AND v.timestamp <= :now
  AND j.timestamp > :since AND v.sentiment <= :max_sentiment
"""

_UNANSWERED = """
WITH questions AS (
    SELECT coalesce(properties ->> '$.ticket_id', properties ->> '$.conversation_id') AS thread,
           min(timestamp) AS asked_at, min(person_id) AS person_id,
           min(journey_id) AS journey_id, max(order_id) AS order_id, min(channel) AS channel
    FROM journey_events
    WHERE event IN ('Ticket Created', 'Live Chat Message Sent')
      AND timestamp > :since AND timestamp <= :deadline
    GROUP BY thread
),
replies AS (
    SELECT coalesce(properties ->> '$.ticket_id', properties ->> '$.conversation_id') AS thread,
           timestamp
    FROM journey_events
    WHERE event IN ('Ticket Replied', 'Live Chat Message Received')
      AND coalesce(properties ->> '$.author', 'agent') <> 'customer'
      AND timestamp > :since
)
SELECT q.thread AS signal, q.person_id, q.journey_id, q.order_id, q.thread AS case_key,
       CAST(NULL AS VARCHAR) AS expectation_id, q.asked_at AS signal_at,
       'no reply within ' || CAST(:hours AS VARCHAR) || ' h on ' || coalesce(q.channel, '?')
           AS reason
FROM questions AS q
WHERE q.thread IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM replies AS r
      WHERE r.thread = q.thread AND r.timestamp >= q.asked_at
        AND date_diff('second', q.asked_at, r.timestamp) <= :seconds)
"""

_INSERT = """
INSERT INTO cases BY NAME
SELECT n.case_id, n.rule_id, n.kind, n.signal, n.person_id, p.user_id, n.journey_id, n.order_id,
       n.case_key, n.expectation_id, n.reason, n.priority, n.signal_at, n.opened_at, n.due_at,
       n.owner, 'open' AS status, '[]' AS notes, n.message, 0 AS messages_sent,
       CAST(NULL AS TIMESTAMP) AS last_message_at, n.opened_at AS updated_at,
       CAST(NULL AS TIMESTAMP) AS closed_at
FROM _kr_new_cases AS n LEFT JOIN persons AS p ON p.person_id = n.person_id
WHERE n.person_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM cases AS c WHERE c.case_id = n.case_id)
QUALIFY row_number() OVER (PARTITION BY n.case_id ORDER BY n.signal_at) = 1
"""


@dataclass
class OpeningRun:
    """What one pass opened, per rule, and the rules it could not run (with the reason)."""

    now: datetime | None = None
    opened: dict[str, int] = field(default_factory=dict)
    signals: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.opened.values())


def _ts(value: datetime) -> exp.Expression:
    return exp.cast(exp.convert(value.isoformat(sep=" ")), "TIMESTAMP")


def _signals(kr: Context, rule: CaseRule, since: datetime, now: datetime) -> pa.Table | str:
    """The rule's signals after `since`, or why it cannot look (a table not made yet)."""
    engine = kr.engine
    if rule.kind == "breach":
        if not engine.has_table("breaches"):
            return "expectations not judged yet"
        sql = _BREACH + (" AND b.expectation_id IN :expectations" if rule.expectations else "")
        params: dict[str, Any] = {"expectations": list(rule.expectations)}
        return engine.fetch(Query(sql, since=_ts(since), now=_ts(now), **params))
    if rule.kind == "detractor":
        return engine.fetch(
            Query(_DETRACTOR, since=_ts(since), now=_ts(now), max_score=float(rule.max_score))
        )
    if rule.kind == "negative_text":
        if not engine.has_table("voice"):
            return "no voice scores stored yet"
        return engine.fetch(
            Query(
                _NEGATIVE_TEXT,
                since=_ts(since),
                now=_ts(now),
                events=list(rule.events),
                max_sentiment=float(rule.max_sentiment),
            )
        )
    if rule.kind == "unanswered":
        wait = timedelta(hours=rule.hours)
        return engine.fetch(
            Query(
                _UNANSWERED,
                since=_ts(since - wait),
                deadline=_ts(now - wait),
                hours=f"{rule.hours:g}",
                seconds=int(wait.total_seconds()),
            )
        )
    from klantreis.measure.expectations.at_risk import at_risk_orders

    _, orders = at_risk_orders(kr, now=now)
    rows = [
        {
            "signal": r["order_id"],
            "person_id": r["person_id"],
            "journey_id": r["journey_id"],
            "order_id": r["order_id"],
            "case_key": r["order_id"],
            "expectation_id": None,
            "signal_at": now,
            "reason": f"{r['stage']}, {r['hours_left']:g} h before the promised delivery",
        }
        for r in orders.to_pylist()
    ]
    return pa.Table.from_pylist(rows, schema=_SIGNAL_SCHEMA)


_SIGNAL_SCHEMA = pa.schema(
    [pa.field(name, pa.timestamp("us") if name == "signal_at" else pa.string()) for name in _SIGNAL]
)


def _store_now(kr: Context) -> datetime:
    latest = kr.engine.scalar("SELECT max(timestamp) FROM events")
    return latest or datetime(1970, 1, 1)


def open_cases(
    kr: Context,
    *,
    now: datetime | None = None,
    judge: bool = True,
    max_age_days: float | None = None,
) -> OpeningRun:
    """Open a case for every new signal of every active rule; returns what was opened.

    `judge` first brings the expectations up to date; the server's routine passes False, as
    its `cases` job has just done that (and a shop that switched it off reads no breaches).
    `max_age_days` overrides `[cases] max_age_days` (the demo opens its last 60 days)."""
    from klantreis.measure.expectations.cases import ensure_cases

    rules = active_case_rules(kr.settings)
    section = kr.settings.section(CaseSettings)
    store = kr.store
    store.register_table(CASES)
    if judge:
        ensure_cases(kr)
    else:
        from klantreis.model import ensure_built

        ensure_built(kr)
    now = (now or _store_now(kr)).replace(tzinfo=None)
    run = OpeningRun(now=now)
    for rule in rules:
        meta_key = f"cases.scanned.{rule.id}"
        since = now - timedelta(days=max_age_days or section.max_age_days)
        scanned = store.get_meta(meta_key)
        if scanned:
            looked = datetime.fromisoformat(scanned) - timedelta(hours=section.grace_hours)
            since = max(since, looked)
        found = _signals(kr, rule, since, now)
        if isinstance(found, str):
            run.skipped[rule.id] = found
            continue
        run.signals[rule.id] = found.num_rows
        run.opened[rule.id] = _insert(kr, rule, found, now)
        if not scanned or datetime.fromisoformat(scanned) < now:
            store.set_meta(meta_key, now.isoformat())
    return run


def ever_opened(kr: Context) -> bool:
    """Whether cases were ever opened from signals in this store (a rule remembers when it
    looked): before, an empty inbox says nothing about the customers. One read of `meta`."""
    found = kr.store.connection.execute(
        "SELECT count(*) FROM meta WHERE key LIKE 'cases.scanned.%'"
    ).fetchall()
    return bool(found[0][0])


def _insert(kr: Context, rule: CaseRule, signals: pa.Table, now: datetime) -> int:
    """Insert the signals not yet a case; returns how many cases were opened."""
    if not signals.num_rows:
        return 0
    rows = signals.select(list(_SIGNAL)).cast(_SIGNAL_SCHEMA).to_pylist()
    opened = utcnow()
    for row in rows:
        row.update(
            case_id=f"{rule.id}:{row['signal']}",
            rule_id=rule.id,
            kind=rule.kind,
            priority=rule.priority,
            opened_at=opened,
            due_at=(row["signal_at"] or now) + timedelta(hours=rule.due_hours),
            owner=rule.owner,
            message=rule.message,
        )
    table = pa.Table.from_pylist(rows)
    store = kr.store
    con = store.connection
    with store.write_lock:
        before = con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
        con.register("_kr_new_cases", table)
        try:
            con.execute(_INSERT).fetchall()
        finally:
            con.unregister("_kr_new_cases")
        after = con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
    return int(after) - int(before)
