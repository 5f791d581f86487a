"""`percentile`: every `cases` event with a numeric `property` is a case, breached above
`limit`; the expectation as a whole is kept when the `percentile` (default 75) of the values is
at most `limit` (the scorecard's `overall`). A case at most `delight.at_most` is delighted."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator
from sqlglot import exp

from klantreis.measure.expectations.conditions import json_path, selector_tree
from klantreis.measure.expectations.kinds.base import (
    Context,
    Overall,
    Phrase,
    Quantity,
    RuleKind,
    common,
    template,
)
from klantreis.measure.expectations.kinds.registry import register_kind
from klantreis.measure.expectations.rules import RuleSpec, Selector, _Model, property_name
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.store.engines.base import Engine

PERCENTILE = """
WITH measured AS (
    SELECT *, TRY_CAST(properties ->> :path AS DOUBLE) AS measured
    FROM :events WHERE :cases_filter
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

OVERALL = """
SELECT quantile_cont(value, :fraction) AS value
FROM expectation_cases
WHERE expectation_id = :rule_id AND status IN ('met', 'breached') AND :cut
"""


class PercentileDelight(_Model):
    """When a met percentile case is clearly better than the limit: its value is `at_most`."""

    at_most: float

    def describe(self) -> str:
        return f"at most {self.at_most:g}"


class PercentileRule(RuleSpec):
    kind: Literal["percentile"]
    cases: Selector
    property: str
    percentile: float = Field(75, gt=0, lt=100)
    limit: float
    unit: str = ""
    delight: PercentileDelight | None = None
    """When a case counts as clearly better than the limit; None: no delight measured."""

    _name = field_validator("property")(property_name)

    @field_validator("delight")
    @classmethod
    def _under_the_limit(
        cls, value: PercentileDelight | None, info: ValidationInfo
    ) -> PercentileDelight | None:
        limit = info.data.get("limit")
        if value is not None and limit is not None and value.at_most >= limit:
            raise ValueError(f"at_most ({value.at_most:g}) must be below the limit ({limit:g})")
        return value

    def named_events(self) -> list[str]:
        return list(self.cases.event)


_SAME = "p{percentile} {property} ≤ {limit}"


class Percentile(RuleKind):
    name = "percentile"
    spec = PercentileRule
    has_delight = True
    terms: ClassVar = {
        "rule_kind": {"percentile": {"en": "percentile", "nl": "percentiel", "da": "percentil"}},
        "rule_phrase": {
            _SAME: {"en": _SAME, "nl": _SAME, "da": _SAME},
            "delight ≤ {limit}": {
                "en": "delight ≤ {limit}",
                "nl": "positief verrast bij ≤ {limit}",
                "da": "positivt overrasket ved ≤ {limit}",
            },
        },
    }

    def cases(self, rule: PercentileRule, ctx: Context) -> Query:
        return Query(
            template(PERCENTILE),
            **common(rule, ctx),
            cases_filter=selector_tree(rule.cases),
            path=json_path(rule.property),
            limit=float(rule.limit),
            has_delight=rule.delight is not None,
            delight_limit=float(rule.delight.at_most) if rule.delight else exp.null(),
        )

    def threshold(self, rule: PercentileRule) -> list[Phrase]:
        parts = [
            Phrase(
                _SAME,
                {
                    "percentile": f"{rule.percentile:g}",
                    "property": rule.property,
                    "limit": Quantity(rule.limit, rule.unit),
                },
            )
        ]
        if rule.delight is not None:
            limit = Quantity(rule.delight.at_most, rule.unit)
            parts.append(Phrase("delight ≤ {limit}", {"limit": limit}))
        return parts

    def delight_margin(self, rule: PercentileRule) -> str | None:
        if rule.delight is None:
            return None
        unit = f" {rule.unit}" if rule.unit else ""
        return rule.delight.describe() + unit

    def overall(self, engine: Engine, rule: PercentileRule, cut: exp.Expression) -> Overall:
        value = engine.scalar(
            Query(OVERALL, fraction=rule.percentile / 100, rule_id=rule.id, cut=cut)
        )
        shown = None if value is None else round(value, 1)
        return Overall(
            name="percentile",
            values={
                "percentile": rule.percentile,
                "value": shown,
                "limit": rule.limit,
                "unit": rule.unit,
            },
            kept=value is not None and value <= rule.limit,
            text=f"p{rule.percentile:g} = {shown} {rule.unit}".strip(),
        )


register_kind(Percentile())
