"""`deadline`: an `end` event follows a `start` event with the same key in time.

The key is a property (`order_id`, `ticket_id`, `return_id`) or `person` (the same person, each
start its own case); the deadline is `within` (a duration after the start) or `due` (a date
property of the start, else of the end event) plus `grace`. A rule may say when a met case
clearly exceeds the promise (`delight`: `within` after the start or `early_by` before it).
`absence` (its own module) reuses this query with the end allowed at any time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar, Literal

from pydantic import ValidationInfo, field_validator, model_validator
from sqlglot import exp

from klantreis.measure.expectations.conditions import property_text, selector_tree
from klantreis.measure.expectations.kinds.base import (
    Context,
    Phrase,
    RuleKind,
    common,
    interval,
    template,
)
from klantreis.measure.expectations.kinds.registry import register_kind
from klantreis.measure.expectations.rules import (
    Duration,
    RuleSpec,
    Selector,
    _Model,
    format_duration,
    parse_duration,
    property_name,
)
from klantreis.store.query import Query

MATCH = """
WITH a AS (
    SELECT message_id, person_id, journey_id, phase AS event_phase, channel, order_id,
           timestamp AS started_at, :match_key AS match_key,
           TRY_CAST(:due_value AS TIMESTAMP) AS start_due
    FROM :events WHERE :start_filter
),
first_a AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY match_key ORDER BY started_at, message_id)
                  AS n
        FROM a WHERE match_key IS NOT NULL
    ) AS ranked WHERE n = 1 OR :by_person
),
b AS (
    SELECT timestamp AS ended_at, :match_key AS match_key,
           TRY_CAST(:due_value AS TIMESTAMP) AS end_due
    FROM :events WHERE :end_filter
),
x AS (
    SELECT DISTINCT match_key FROM (
        SELECT event, :exclude_key AS match_key FROM :events WHERE :exclude_filter
    ) AS excluded
),
marks AS (
    SELECT match_key, message_id, started_at AS pos, 0 AS is_end,
           CAST(NULL AS TIMESTAMP) AS ended_at, CAST(NULL AS TIMESTAMP) AS end_due
    FROM first_a
    UNION ALL
    SELECT match_key, NULL AS message_id, ended_at + :skew AS pos, 1 AS is_end, ended_at, end_due
    FROM b WHERE match_key IS NOT NULL
),
scanned AS (
    SELECT message_id, is_end,
           min(ended_at) OVER later AS next_end, max(end_due) OVER later AS next_due,
           min(ended_at) OVER every AS any_end, max(end_due) OVER every AS any_due
    FROM marks
    WINDOW later AS (PARTITION BY match_key ORDER BY pos DESC, is_end DESC
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           every AS (PARTITION BY match_key)
),
matched AS (
    SELECT message_id,
           CASE WHEN :any_time THEN any_end ELSE next_end END AS ended_at,
           CASE WHEN :any_time THEN any_due ELSE next_due END AS end_due
    FROM scanned WHERE is_end = 0
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
"""Start and end events matched by key, judged against the deadline (deadline and absence).

Each start's end is the first end event with the same key at or after the start (less the
skew): one pass over starts and ends together, per key in time order from the last one back,
keeping the earliest end seen so far. A join of every start with every end of its key, then a
minimum, is the same answer but grows with starts × ends: a person's searches times their
product views, 16 million pairs at 10 million events."""

ZERO = timedelta(0)


class DeadlineDelight(_Model):
    """When a met deadline case is clearly better than promised: the end event came at most
    `within` after the start, or at least `early_by` before the deadline."""

    within: Duration | None = None
    early_by: Duration | None = None

    @field_validator("within", "early_by", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _one_margin(self) -> DeadlineDelight:
        if (self.within is None) == (self.early_by is None):
            raise ValueError("give exactly one of `within` or `early_by`")
        margin = self.within if self.within is not None else self.early_by
        if margin is not None and margin <= ZERO:
            raise ValueError("the margin must be longer than zero")
        return self

    def describe(self) -> str:
        if self.within is not None:
            return f"within {format_duration(self.within)}"
        assert self.early_by is not None
        return f"early by {format_duration(self.early_by)}"


class DeadlineRule(RuleSpec):
    kind: Literal["deadline"]
    start: Selector
    end: Selector
    key: str = "order_id"
    """The property that ties end to start, or `person` (the same person, each start a case)."""
    within: Duration | None = None
    due: str | None = None
    """A date property of the start (or end) event that is the deadline, e.g. promised date."""
    grace: Duration = ZERO
    compare: Literal["timestamp", "day"] | None = None
    """Lateness by exact timestamp or by calendar day; None takes [expectations] compare."""
    missing: Literal["breach", "skip"] = "breach"
    """A start without end once the deadline passed: a breach, or not a case (skip)."""
    exclude: Selector | None = None
    """Keys with such an event are no cases (e.g. cancelled orders)."""
    skew: Duration = ZERO
    """End events up to this long *before* the start still count: browser and server clocks
    differ, so a confirmation e-mail can carry an earlier time than the order it confirms."""
    delight: DeadlineDelight | None = None
    """When a met case counts as clearly exceeded; None: the rule measures no delight."""

    _key = field_validator("key")(property_name)
    _due = field_validator("due")(lambda v: v if v is None else property_name(v))

    @field_validator("delight")
    @classmethod
    def _inside_the_deadline(
        cls, value: DeadlineDelight | None, info: ValidationInfo
    ) -> DeadlineDelight | None:
        # Declared last, so `within` (when valid) is already in info.data.
        within = info.data.get("within")
        if value is None or within is None:
            return value
        if value.within is not None and value.within >= within:
            raise ValueError(
                f"within ({format_duration(value.within)}) must be shorter than the "
                f"deadline's within ({format_duration(within)})"
            )
        if value.early_by is not None and value.early_by >= within:
            raise ValueError(
                f"early_by ({format_duration(value.early_by)}) must be shorter than the "
                f"deadline's within ({format_duration(within)})"
            )
        return value

    @field_validator("within", "grace", "skew", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _one_deadline(self) -> DeadlineRule:
        if (self.within is None) == (self.due is None):
            raise ValueError("a deadline needs exactly one of `within` or `due`")
        return self

    def named_events(self) -> list[str]:
        return [*self.start.event, *self.end.event]

    def read_events(self) -> list[str]:
        return [*self.named_events(), *(self.exclude.event if self.exclude else [])]


def match_query(
    rule: RuleSpec,
    ctx: Context,
    *,
    start: Selector,
    end: Selector,
    key: str,
    exclude: Selector | None = None,
    any_time: bool = False,
    within: timedelta | None = None,
    due: str | None = None,
    grace: timedelta = ZERO,
    skew: timedelta = ZERO,
    compare: str = "timestamp",
    missing_breach: bool = True,
    delight: DeadlineDelight | None = None,
) -> Query:
    """The cases of a start/end rule: `deadline`, and `absence` with `any_time`."""
    by_person = key == "person"
    return Query(
        template(MATCH),
        **common(rule, ctx),
        by_person=by_person,
        # Expressions, not paths: a person-keyed rule reads no property for its key.
        match_key=exp.column("person_id") if by_person else property_text(key),
        due_value=property_text(due) if due else exp.null(),
        exclude_key=property_text(key) if exclude is not None else exp.null(),
        start_filter=selector_tree(start),
        end_filter=selector_tree(end),
        exclude_filter=selector_tree(exclude),
        any_time=any_time,
        use_within=within is not None,
        within=interval(within or ZERO),
        grace=interval(ZERO if due is None else grace),
        skew=interval(skew),
        by_day=compare == "day",
        missing_breach=missing_breach,
        # Delight `within` counts from the start by the clock; `early_by` counts back from the
        # promised moment (the due date without grace, or start + within) in the rule's
        # compare mode, so by calendar day "a day early" means an earlier calendar day.
        has_delight=delight is not None,
        delight_within=delight is not None and delight.within is not None,
        delight_span=interval(
            (delight.within or delight.early_by or ZERO) if delight is not None else ZERO
        ),
        promise_offset=interval(grace if due else ZERO),
        delight_by_day=delight is not None and delight.early_by is not None and compare == "day",
    )


class Deadline(RuleKind):
    name = "deadline"
    spec = DeadlineRule
    has_delight = True
    terms: ClassVar = {
        "rule_kind": {"deadline": {"en": "deadline", "nl": "termijn", "da": "frist"}},
        "rule_phrase": {
            "within {duration}": {
                "en": "within {duration}",
                "nl": "binnen {duration}",
                "da": "inden for {duration}",
            },
            "by {property}": {
                "en": "by {property}",
                "nl": "uiterlijk op {property}",
                "da": "senest {property}",
            },
            "+ {duration} grace": {
                "en": "+ {duration} grace",
                "nl": "+ {duration} coulance",
                "da": "+ {duration} henstand",
            },
            "delight within {duration}": {
                "en": "delight within {duration}",
                "nl": "positief verrast binnen {duration}",
                "da": "positivt overrasket inden for {duration}",
            },
            "delight {duration} early": {
                "en": "delight {duration} early",
                "nl": "positief verrast bij {duration} eerder",
                "da": "positivt overrasket ved {duration} før tid",
            },
        },
    }

    def cases(self, rule: DeadlineRule, ctx: Context) -> Query:
        # The global (or --compare) mode is about promised dates; a rule that only has a
        # duration ("confirmed within 5 minutes") keeps the clock unless it says otherwise.
        compare = rule.compare or (ctx.compare if rule.due else "timestamp")
        return match_query(
            rule,
            ctx,
            start=rule.start,
            end=rule.end,
            key=rule.key,
            exclude=rule.exclude,
            within=rule.within,
            due=rule.due,
            grace=rule.grace,
            skew=rule.skew,
            compare=compare,
            missing_breach=rule.missing == "breach",
            delight=rule.delight,
        )

    def threshold(self, rule: DeadlineRule) -> list[Phrase]:
        parts = []
        if rule.within is not None:
            parts.append(Phrase("within {duration}", {"duration": rule.within}))
        if rule.due:
            parts.append(Phrase("by {property}", {"property": rule.due}))
        if rule.grace:
            parts.append(Phrase("+ {duration} grace", {"duration": rule.grace}))
        if rule.delight is not None and rule.delight.within is not None:
            parts.append(Phrase("delight within {duration}", {"duration": rule.delight.within}))
        if rule.delight is not None and rule.delight.early_by is not None:
            parts.append(Phrase("delight {duration} early", {"duration": rule.delight.early_by}))
        return parts


register_kind(Deadline())
