"""`absence`: a `start` event never goes without an `end` event with the same key.

The end may come at any time, before or after the start; the rule waits `grace` (default an
hour) before calling it missing. Money taken without an order confirmation is the example.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar, Literal

from pydantic import field_validator

from klantreis.measure.expectations.kinds.base import Context, Phrase, RuleKind
from klantreis.measure.expectations.kinds.deadline import match_query
from klantreis.measure.expectations.kinds.registry import register_kind
from klantreis.measure.expectations.rules import (
    Duration,
    RuleSpec,
    Selector,
    parse_duration,
    property_name,
)
from klantreis.store.query import Query


class AbsenceRule(RuleSpec):
    kind: Literal["absence"]
    start: Selector
    end: Selector
    key: str = "order_id"
    grace: Duration = timedelta(hours=1)
    """How long to wait for the end event before its absence is a breach."""

    _key = field_validator("key")(property_name)

    @field_validator("grace", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    def named_events(self) -> list[str]:
        return [*self.start.event, *self.end.event]


class Absence(RuleKind):
    name = "absence"
    spec = AbsenceRule
    terms: ClassVar = {
        "rule_kind": {"absence": {"en": "absence", "nl": "afwezigheid", "da": "fravær"}},
        "rule_phrase": {
            "+ {duration} grace": {
                "en": "+ {duration} grace",
                "nl": "+ {duration} coulance",
                "da": "+ {duration} henstand",
            },
        },
    }

    def cases(self, rule: AbsenceRule, ctx: Context) -> Query:
        # The grace is the deadline: a start becomes a case to judge `grace` after it.
        return match_query(
            rule, ctx, start=rule.start, end=rule.end, key=rule.key, any_time=True,
            within=rule.grace,
        )  # fmt: skip

    def threshold(self, rule: AbsenceRule) -> list[Phrase]:
        return [Phrase("+ {duration} grace", {"duration": rule.grace})] if rule.grace else []


register_kind(Absence())
