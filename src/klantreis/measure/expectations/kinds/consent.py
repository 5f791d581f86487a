"""`consent`: a `cases` event (a marketing e-mail) only reaches persons whose latest consent
signal at that moment was a yes: an identify trait (`trait`) or a `consent_event`'s
`consent_property`. No signal before the e-mail counts as no consent."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, ClassVar, Literal

import sqlglot
from pydantic import field_validator
from sqlglot import exp

from klantreis.measure.expectations.conditions import json_path, selector_tree
from klantreis.measure.expectations.kinds.base import (
    Context,
    Phrase,
    RuleKind,
    common,
    template,
)
from klantreis.measure.expectations.kinds.registry import register_kind
from klantreis.measure.expectations.rules import RuleSpec, Selector, property_name
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.store.engines.base import Engine

SIGNALS = """
SELECT coalesce(iu.person_id, ia.person_id) AS person_id, e.timestamp,
       TRY_CAST(e.traits ->> :trait_path AS BOOLEAN) AS consent
FROM events AS e
LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = e.user_id
LEFT JOIN identities AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = e.anonymous_id
WHERE e.type = 'identify' AND e.traits ->> :trait_path IS NOT NULL
UNION ALL
SELECT person_id, timestamp, TRY_CAST(properties ->> :property_path AS BOOLEAN) AS consent
FROM :events
WHERE event = :consent_event AND properties ->> :property_path IS NOT NULL
"""
"""Every consent signal of every person: identify traits (from `events`: identify calls are no
journey events) and consent events (from the shared events, their person already resolved as
`journey_events` resolves it). Neither reads the text of every event's properties."""

_ANY_TRAIT = """
SELECT 1 AS found FROM events
WHERE type = 'identify' AND traits ->> :trait_path IS NOT NULL LIMIT 1
"""
_ANY_EVENT = """
SELECT 1 AS found FROM journey_events
WHERE event = :consent_event AND properties ->> :property_path IS NOT NULL LIMIT 1
"""

CONSENT = """
WITH c AS (SELECT * FROM :events WHERE :cases_filter),
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


class ConsentRule(RuleSpec):
    kind: Literal["consent"]
    cases: Selector
    trait: str = "consent_marketing"
    """Identify trait that carries consent."""
    consent_event: str = "Consent Updated"
    consent_property: str = "marketing"

    _names = field_validator("trait", "consent_property")(property_name)

    def named_events(self) -> list[str]:
        return list(self.cases.event)

    def read_events(self) -> list[str]:
        return [*self.named_events(), self.consent_event]


@functools.cache
def _template() -> exp.Expression:
    tree = template(CONSENT).copy()
    signals = exp.CTE(
        this=sqlglot.parse_one(SIGNALS, read="duckdb"),
        alias=exp.TableAlias(this=exp.to_identifier("signals")),
    )
    with_ = tree.args.get("with_") or tree.args["with"]
    with_.expressions.insert(0, signals)
    return tree


class Consent(RuleKind):
    name = "consent"
    spec = ConsentRule
    terms: ClassVar = {
        "rule_kind": {"consent": {"en": "consent", "nl": "toestemming", "da": "samtykke"}},
    }

    def cases(self, rule: ConsentRule, ctx: Context) -> Query:
        return Query(
            _template(),
            **common(rule, ctx),
            cases_filter=selector_tree(rule.cases),
            trait_path=json_path(rule.trait),
            property_path=json_path(rule.consent_property),
            consent_event=rule.consent_event,
        )

    def threshold(self, rule: ConsentRule) -> list[Phrase]:
        return []

    def no_data(self, rule: ConsentRule, engine: Engine) -> str | None:
        # Two lookups that stop at the first signal, not a count of all of them.
        trait = Query(_ANY_TRAIT, trait_path=json_path(rule.trait))
        event = Query(
            _ANY_EVENT,
            consent_event=rule.consent_event,
            property_path=json_path(rule.consent_property),
        )
        if engine.scalar(trait) is None and engine.scalar(event) is None:
            return "no consent signals (identify trait or consent events)"
        return None


register_kind(Consent())
