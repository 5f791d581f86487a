"""`repeat`: a `cases` event is breached when the same person has another one with the same
`same` properties (e.g. `topic`) within `window` after it."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator
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
from klantreis.measure.expectations.rules import Duration, RuleSpec, Selector, parse_duration
from klantreis.measure.expectations.rules import property_name as _property_name
from klantreis.store.query import Query, node

REPEAT = """
WITH a AS (
    SELECT message_id, person_id, journey_id, phase AS event_phase, channel, order_id,
           timestamp AS started_at, :same_key AS same_key
    FROM :events WHERE :cases_filter
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


class RepeatRule(RuleSpec):
    kind: Literal["repeat"]
    cases: Selector
    same: list[str] = Field(default_factory=list)
    window: Duration

    @field_validator("same")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return [_property_name(v) for v in value]

    @field_validator("window", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    def named_events(self) -> list[str]:
        return list(self.cases.event)


def same_key(names: list[str]) -> exp.Expression:
    """The `same` properties joined into one text (`delivery|nl`), '' without any."""
    if not names:
        return exp.Literal.string("")
    parts = [exp.func("coalesce", property_text(n), exp.Literal.string("")) for n in names]
    key: exp.Expr = parts[0]
    for part in parts[1:]:
        key = exp.DPipe(
            this=exp.DPipe(this=key, expression=exp.Literal.string("|")), expression=part
        )
    return node(key)


class Repeat(RuleKind):
    name = "repeat"
    spec = RepeatRule
    terms: ClassVar = {
        "rule_kind": {"repeat": {"en": "repeat", "nl": "herhaling", "da": "gentagelse"}},
        "rule_phrase": {
            "not again within {duration}": {
                "en": "not again within {duration}",
                "nl": "niet opnieuw binnen {duration}",
                "da": "ikke igen inden for {duration}",
            },
        },
    }

    def cases(self, rule: RepeatRule, ctx: Context) -> Query:
        return Query(
            template(REPEAT),
            **common(rule, ctx),
            cases_filter=selector_tree(rule.cases),
            same_key=same_key(rule.same),
            window=interval(rule.window),
        )

    def threshold(self, rule: RepeatRule) -> list[Phrase]:
        return [Phrase("not again within {duration}", {"duration": rule.window})]


register_kind(Repeat())
