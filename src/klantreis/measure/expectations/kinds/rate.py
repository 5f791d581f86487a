"""`rate`: every `cases` event is a case, breached when it also matches `breach_if`."""

from __future__ import annotations

from typing import ClassVar, Literal

from klantreis.measure.expectations.conditions import selector_tree
from klantreis.measure.expectations.kinds.base import (
    Context,
    Phrase,
    RuleKind,
    common,
    describe,
    template,
)
from klantreis.measure.expectations.kinds.registry import register_kind
from klantreis.measure.expectations.rules import RuleSpec, Selector
from klantreis.store.query import Query

RATE = """
WITH shaped AS (
    SELECT message_id AS case_id, person_id, journey_id, phase AS event_phase, channel,
           order_id, NULL AS case_key, timestamp AS started_at, NULL AS due_at, NULL AS ended_at,
           CASE WHEN :breach_filter THEN 'breached' ELSE 'met' END AS status,
           CASE WHEN :breach_filter THEN :breach_label END AS detail, NULL AS value,
           NULL AS delighted
    FROM :events WHERE :cases_filter
)
SELECT * FROM shaped
"""


class RateRule(RuleSpec):
    kind: Literal["rate"]
    cases: Selector
    breach_if: Selector

    def named_events(self) -> list[str]:
        return [*self.cases.event, *self.breach_if.event]


class Rate(RuleKind):
    name = "rate"
    spec = RateRule
    terms: ClassVar = {
        "rule_kind": {"rate": {"en": "rate", "nl": "aandeel", "da": "andel"}},
    }

    def cases(self, rule: RateRule, ctx: Context) -> Query:
        return Query(
            template(RATE),
            **common(rule, ctx),
            cases_filter=selector_tree(rule.cases),
            breach_filter=selector_tree(rule.breach_if),
            breach_label=describe(rule.breach_if),
        )

    def threshold(self, rule: RateRule) -> list[Phrase]:
        return []


register_kind(Rate())
