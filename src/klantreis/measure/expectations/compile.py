"""Each rule kind as one query tree producing cases in one shape.

Every query returns the columns of `expectation_cases`: one row per case (an order, a ticket, a
search, a page load, an e-mail...), with its status `met`, `breached`, `open` (the deadline has
not passed yet), `unresolved` (no end event and the rule does not count that as a breach) or
`unknown` (no deadline to judge by). Only met and breached cases are counted.

`delighted` says whether a decided case clearly exceeded the promise: TRUE for a met case within
the rule's delight margin, FALSE for every other met or breached case, NULL when the rule has no
delight margin (or the case is not decided), so "no delight measured" never reads as 0 %.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlglot
from sqlglot import exp

from klantreis.measure.expectations.conditions import json_path, property_text, selector_tree
from klantreis.measure.expectations.rules import (
    AbsenceRule,
    ConsentRule,
    DeadlineRule,
    PercentileRule,
    RateRule,
    RepeatRule,
    Rule,
    Selector,
)
from klantreis.store.query import Query

_PROJECTION = """
SELECT
    CAST(:rule_id AS VARCHAR) AS expectation_id,
    CAST(:category AS VARCHAR) AS category,
    CAST(coalesce(:phase, event_phase) AS VARCHAR) AS phase,
    CAST(case_id AS VARCHAR) AS case_id,
    person_id, journey_id, channel, order_id,
    CAST(case_key AS VARCHAR) AS case_key,
    CAST(started_at AS TIMESTAMP) AS started_at,
    CAST(due_at AS TIMESTAMP) AS due_at,
    CAST(ended_at AS TIMESTAMP) AS ended_at,
    CAST(status AS VARCHAR) AS status,
    CAST(detail AS VARCHAR) AS detail,
    CAST(value AS DOUBLE) AS value,
    CAST(delighted AS BOOLEAN) AS delighted
FROM shaped
"""

_DEADLINE = """
WITH a AS (
    SELECT message_id, person_id, journey_id, phase AS event_phase, channel, order_id,
           timestamp AS started_at,
           CASE WHEN :by_person THEN person_id ELSE properties ->> :key_path END AS match_key,
           TRY_CAST(properties ->> :due_path AS TIMESTAMP) AS start_due
    FROM journey_events WHERE :start_filter
),
first_a AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY match_key ORDER BY started_at, message_id)
                  AS n
        FROM a WHERE match_key IS NOT NULL
    ) AS ranked WHERE n = 1 OR :by_person
),
b AS (
    SELECT CASE WHEN :by_person THEN person_id ELSE properties ->> :key_path END AS match_key,
           timestamp AS ended_at,
           TRY_CAST(properties ->> :due_path AS TIMESTAMP) AS end_due
    FROM journey_events WHERE :end_filter
),
x AS (
    SELECT DISTINCT properties ->> :key_path AS match_key
    FROM journey_events WHERE :exclude_filter
),
matched AS (
    SELECT a.message_id, min(b.ended_at) AS ended_at, max(b.end_due) AS end_due
    FROM first_a AS a
    JOIN b ON b.match_key = a.match_key
     AND (:any_time OR b.ended_at >= a.started_at - :skew)
    GROUP BY a.message_id
),
timed AS (
    SELECT a.message_id, a.person_id, a.journey_id, a.event_phase, a.channel, a.order_id,
           a.started_at, a.match_key, m.ended_at,
           CASE WHEN :use_within THEN a.started_at + :within
                ELSE coalesce(a.start_due, m.end_due) + :grace END AS due_at
    FROM first_a AS a
    LEFT JOIN matched AS m ON m.message_id = a.message_id
    LEFT JOIN x ON x.match_key = a.match_key
    WHERE x.match_key IS NULL
),
judged AS (
    SELECT *,
           CASE
               WHEN ended_at IS NOT NULL AND (:any_time OR ended_at <= due_at
                    OR (:by_day AND CAST(ended_at AS DATE) <= CAST(due_at AS DATE)))
                   THEN 'met'
               WHEN due_at IS NULL THEN 'unknown'
               WHEN ended_at IS NOT NULL THEN 'breached'
               WHEN due_at > :as_of THEN 'open'
               WHEN :missing_breach THEN 'breached'
               ELSE 'unresolved'
           END AS status,
           CASE WHEN :delight_within THEN started_at + :delight_span
                ELSE due_at - :promise_offset - :delight_span END AS delight_at
    FROM timed
),
shaped AS (
    SELECT *,
           CASE WHEN :by_person THEN message_id ELSE match_key END AS case_id,
           CASE WHEN :by_person THEN NULL ELSE match_key END AS case_key,
           CASE WHEN status <> 'breached' THEN NULL
                WHEN ended_at IS NOT NULL THEN 'late' ELSE 'missing' END AS detail,
           CASE WHEN NOT :any_time
                THEN date_diff('second', due_at, ended_at) / 3600.0 END AS value,
           CASE WHEN NOT :has_delight OR status NOT IN ('met', 'breached') THEN NULL
                WHEN status = 'met' AND (ended_at <= delight_at
                     OR (:delight_by_day AND CAST(ended_at AS DATE) <= CAST(delight_at AS DATE)))
                    THEN TRUE
                ELSE FALSE END AS delighted
    FROM judged
)
SELECT * FROM shaped
"""

_RATE = """
WITH shaped AS (
    SELECT message_id AS case_id, person_id, journey_id, phase AS event_phase, channel,
           order_id, NULL AS case_key, timestamp AS started_at, NULL AS due_at, NULL AS ended_at,
           CASE WHEN :breach_filter THEN 'breached' ELSE 'met' END AS status,
           CASE WHEN :breach_filter THEN :breach_label END AS detail, NULL AS value,
           NULL AS delighted
    FROM journey_events WHERE :cases_filter
)
SELECT * FROM shaped
"""

_PERCENTILE = """
WITH measured AS (
    SELECT *, TRY_CAST(properties ->> :path AS DOUBLE) AS measured
    FROM journey_events WHERE :cases_filter
),
shaped AS (
    SELECT message_id AS case_id, person_id, journey_id, phase AS event_phase, channel,
           order_id, NULL AS case_key, timestamp AS started_at, NULL AS due_at, NULL AS ended_at,
           CASE WHEN measured <= :limit THEN 'met' ELSE 'breached' END AS status,
           CASE WHEN measured > :limit THEN 'over limit' END AS detail, measured AS value,
           CASE WHEN NOT :has_delight THEN NULL
                WHEN measured <= :limit AND measured <= :delight_limit THEN TRUE
                ELSE FALSE END AS delighted
    FROM measured WHERE measured IS NOT NULL
)
SELECT * FROM shaped
"""

_REPEAT = """
WITH a AS (
    SELECT message_id, person_id, journey_id, phase AS event_phase, channel, order_id,
           timestamp AS started_at, :same_key AS same_key
    FROM journey_events WHERE :cases_filter
),
again AS (
    SELECT a.message_id, min(b.started_at) AS again_at
    FROM a JOIN a AS b
      ON b.person_id = a.person_id AND b.same_key = a.same_key
     AND b.started_at > a.started_at AND b.started_at <= a.started_at + :window
    GROUP BY a.message_id
),
shaped AS (
    SELECT a.message_id AS case_id, a.person_id, a.journey_id, a.event_phase, a.channel,
           a.order_id, a.same_key AS case_key, a.started_at, NULL AS due_at,
           g.again_at AS ended_at,
           CASE WHEN g.again_at IS NOT NULL THEN 'breached'
                WHEN a.started_at + :window > :as_of THEN 'open'
                ELSE 'met' END AS status,
           CASE WHEN g.again_at IS NOT NULL THEN 'raised again' END AS detail,
           date_diff('second', a.started_at, g.again_at) / 86400.0 AS value,
           NULL AS delighted
    FROM a LEFT JOIN again AS g ON g.message_id = a.message_id
)
SELECT * FROM shaped
"""

_CONSENT_SIGNALS = """
SELECT coalesce(iu.person_id, ia.person_id) AS person_id, e.timestamp,
       CASE WHEN e.type = 'identify' THEN TRY_CAST(e.traits ->> :trait_path AS BOOLEAN)
            ELSE TRY_CAST(e.properties ->> :property_path AS BOOLEAN) END AS consent
FROM events AS e
LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = e.user_id
LEFT JOIN identities AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = e.anonymous_id
WHERE (e.type = 'identify' AND e.traits ->> :trait_path IS NOT NULL)
   OR (e.event = :consent_event AND e.properties ->> :property_path IS NOT NULL)
"""

_CONSENT = """
WITH c AS (SELECT * FROM journey_events WHERE :cases_filter),
latest AS (
    SELECT c.message_id, arg_max(s.consent, s.timestamp) AS consent
    FROM c JOIN signals AS s ON s.person_id = c.person_id AND s.timestamp <= c.timestamp
    GROUP BY c.message_id
),
shaped AS (
    SELECT c.message_id AS case_id, c.person_id, c.journey_id, c.phase AS event_phase,
           c.channel, c.order_id, NULL AS case_key, c.timestamp AS started_at,
           NULL AS due_at, NULL AS ended_at,
           CASE WHEN l.consent THEN 'met' ELSE 'breached' END AS status,
           CASE WHEN l.consent IS NULL THEN 'no consent known'
                WHEN NOT l.consent THEN 'no consent' END AS detail,
           NULL AS value, NULL AS delighted
    FROM c LEFT JOIN latest AS l ON l.message_id = c.message_id
)
SELECT * FROM shaped
"""


@dataclass(frozen=True)
class Context:
    """What every rule query needs besides the rule: when is now, how to compare dates."""

    as_of: datetime
    compare: str = "timestamp"
    phases: tuple[str, ...] = ()
    """Phase ids of the active journey definition; a rule phase outside it falls back to the
    phase of the event where the case happened."""


@functools.cache
def _template(sql: str) -> exp.Expression:
    """A rule template whose final `SELECT * FROM shaped` gets the common case columns."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    projection = sqlglot.parse_one(_PROJECTION, read="duckdb")
    tree.set("expressions", [e.copy() for e in projection.expressions])
    return tree


@functools.cache
def _consent_template() -> exp.Expression:
    tree = _template(_CONSENT).copy()
    signals = exp.CTE(
        this=sqlglot.parse_one(_CONSENT_SIGNALS, read="duckdb"),
        alias=exp.TableAlias(this=exp.to_identifier("signals")),
    )
    with_ = tree.args.get("with_") or tree.args["with"]
    with_.expressions.insert(0, signals)
    return tree


def interval(delta: timedelta) -> exp.Expression:
    seconds = round(delta.total_seconds())
    return exp.Interval(this=exp.Literal.string(str(seconds)), unit=exp.var("SECOND"))


def _common(rule: Rule, ctx: Context) -> dict[str, object]:
    return {
        "rule_id": rule.id,
        "category": rule.category,
        "phase": rule.phase if rule.phase in ctx.phases else exp.null(),
        "as_of": exp.cast(exp.convert(ctx.as_of.isoformat(sep=" ")), "TIMESTAMP"),
    }


def _deadline(rule: DeadlineRule | AbsenceRule, ctx: Context) -> Query:
    absence = isinstance(rule, AbsenceRule)
    within = rule.grace if absence else rule.within
    # The global (or --compare) mode is about promised dates; a rule that only has a duration
    # ("confirmed within 5 minutes") keeps the clock unless the rule itself says otherwise.
    if absence:
        compare = "timestamp"
    elif rule.compare:
        compare = rule.compare
    else:
        compare = ctx.compare if rule.due else "timestamp"
    by_person = rule.key == "person"
    delight = None if absence else rule.delight
    return Query(
        _template(_DEADLINE),
        **_common(rule, ctx),
        by_person=by_person,
        key_path=json_path(rule.key),
        due_path=json_path(rule.due) if not absence and rule.due else exp.null(),
        start_filter=selector_tree(rule.start),
        end_filter=selector_tree(rule.end),
        exclude_filter=selector_tree(None if absence else rule.exclude),
        any_time=absence,
        use_within=within is not None,
        within=interval(within or timedelta(0)),
        grace=interval(timedelta(0) if absence else rule.grace),
        skew=interval(timedelta(0) if absence else rule.skew),
        by_day=compare == "day",
        missing_breach=absence or rule.missing == "breach",
        # Delight `within` counts from the start by the clock; `early_by` counts back from the
        # promised moment (the due date without grace, or start + within) in the rule's
        # compare mode, so by calendar day "a day early" means an earlier calendar day.
        has_delight=delight is not None,
        delight_within=delight is not None and delight.within is not None,
        delight_span=interval(
            (delight.within or delight.early_by or timedelta(0))
            if delight is not None
            else timedelta(0)
        ),
        promise_offset=interval(rule.grace if not absence and rule.due else timedelta(0)),
        delight_by_day=delight is not None and delight.early_by is not None and compare == "day",
    )


def describe(selector: Selector) -> str:
    """A selector in words for a breach's `detail`: `Products Searched: results eq 0`."""
    events = " or ".join(selector.event)
    conditions = ", ".join(
        f"{c.property} {c.op}" + ("" if c.op in ("exists", "missing") else f" {c.value}")
        for c in selector.where
    )
    return f"{events}: {conditions}" if conditions else events


def _same_key(names: list[str]) -> exp.Expression:
    if not names:
        return exp.Literal.string("")
    parts = [exp.func("coalesce", property_text(n), exp.Literal.string("")) for n in names]
    key = parts[0]
    for part in parts[1:]:
        key = exp.DPipe(
            this=exp.DPipe(this=key, expression=exp.Literal.string("|")), expression=part
        )
    return key


def case_query(rule: Rule, ctx: Context) -> Query:
    """The query that lists the cases of `rule`."""
    common = _common(rule, ctx)
    if isinstance(rule, (DeadlineRule, AbsenceRule)):
        return _deadline(rule, ctx)
    if isinstance(rule, RateRule):
        return Query(
            _template(_RATE),
            **common,
            cases_filter=selector_tree(rule.cases),
            breach_filter=selector_tree(rule.breach_if),
            breach_label=describe(rule.breach_if),
        )
    if isinstance(rule, PercentileRule):
        return Query(
            _template(_PERCENTILE),
            **common,
            cases_filter=selector_tree(rule.cases),
            path=json_path(rule.property),
            limit=float(rule.limit),
            has_delight=rule.delight is not None,
            delight_limit=float(rule.delight.at_most) if rule.delight else exp.null(),
        )
    if isinstance(rule, RepeatRule):
        return Query(
            _template(_REPEAT),
            **common,
            cases_filter=selector_tree(rule.cases),
            same_key=_same_key(rule.same),
            window=interval(rule.window),
        )
    if isinstance(rule, ConsentRule):
        return Query(
            _consent_template(),
            **common,
            cases_filter=selector_tree(rule.cases),
            trait_path=json_path(rule.trait),
            property_path=json_path(rule.consent_property),
            consent_event=rule.consent_event,
        )
    raise TypeError(f"unknown rule kind {type(rule).__name__}")  # pragma: no cover


def consent_signals(rule: ConsentRule) -> Query:
    """Every consent signal of every person: identify traits and consent events."""
    return Query(
        _CONSENT_SIGNALS,
        trait_path=json_path(rule.trait),
        property_path=json_path(rule.consent_property),
        consent_event=rule.consent_event,
    )


def union_all(queries: list[Query]) -> Query:
    """One query with the cases of every rule (each rule's query as a subquery)."""
    selects = [
        exp.select("*").from_(
            exp.Subquery(this=q.tree, alias=exp.TableAlias(this=exp.to_identifier(f"rule_{i}")))
        )
        for i, q in enumerate(queries)
    ]
    tree: exp.Expression = selects[0]
    for select in selects[1:]:
        tree = exp.union(tree, select, distinct=False)
    return Query(tree)
