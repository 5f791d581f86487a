"""Build `expectation_cases`, `breaches` and `delights` from the model, rebuilt when anything
they rest on changes (events, journey definition, rules, the comparison mode, the moment judged
at).

`breaches` is what the journey map (pain points) and the customer timeline read: one row per
breached case with its person, journey, phase, order/ticket key and the moment it broke.
`delights` is its counterpart: one row per met case that clearly exceeded the promise (within
the rule's delight margin), with the moment it was delivered.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from klantreis.measure.expectations.compile import Context as RuleContext
from klantreis.measure.expectations.compile import cases_query
from klantreis.measure.expectations.kinds import kind_of, kinds
from klantreis.measure.expectations.rules import Rule
from klantreis.measure.expectations.ruleset import ExpectationSettings, active_rules
from klantreis.measure.names import stored_events
from klantreis.model import ensure_built, load_definition
from klantreis.model.build import configured_definition
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table

if TYPE_CHECKING:
    from klantreis.model.context import Context

BUILD_VERSION = "2"

_judging = threading.Lock()
register_table(TableSpec("expectation_cases", "", person_id_columns=("person_id",), derived=True))
register_table(TableSpec("breaches", "", person_id_columns=("person_id",), derived=True))
register_table(TableSpec("delights", "", person_id_columns=("person_id",), derived=True))

_BREACHES = """
SELECT expectation_id || ':' || case_id AS breach_id, expectation_id, category, phase,
       person_id, journey_id, order_id, case_key,
       coalesce(due_at, ended_at, started_at) AS breached_at,
       started_at, due_at, ended_at, detail, value
FROM expectation_cases WHERE status = 'breached'
"""

_DELIGHTS = """
SELECT expectation_id || ':' || case_id AS delight_id, expectation_id, category, phase,
       person_id, journey_id, order_id, case_key,
       coalesce(ended_at, started_at) AS delighted_at,
       started_at, due_at, ended_at, value
FROM expectation_cases WHERE status = 'met' AND delighted
"""


@dataclass
class CaseSet:
    """The rules judged, the ones that could not be (and why), and when they were judged."""

    rules: list[Rule]
    no_data: dict[str, str] = field(default_factory=dict)
    as_of: datetime | None = None
    compare: str = "timestamp"
    rebuilt: bool = False

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def _as_of(kr: Context, now: datetime | None) -> datetime:
    if now is not None:
        return now.replace(tzinfo=None)
    latest = kr.engine.scalar("SELECT max(timestamp) FROM events")
    return latest or datetime(1970, 1, 1)


def _no_data(kr: Context, rules: list[Rule]) -> dict[str, str]:
    """Rules that cannot be judged, with the reason: events they need that the store has
    never seen (from the model's one-row-per-name `phase_map`), or the kind's own reason."""
    present = stored_events(kr.engine)
    reasons: dict[str, str] = {}
    for rule in rules:
        missing = [e for e in dict.fromkeys(rule.required_events()) if e not in present]
        if missing:
            reasons[rule.id] = "no " + ", ".join(f"'{e}'" for e in missing) + " events"
        elif (reason := kind_of(rule).no_data(rule, kr.engine)) is not None:
            reasons[rule.id] = reason
    return reasons


_NO_DATA: dict[tuple[str, str, tuple[str, ...]], dict[str, str]] = {}
"""Reasons per (store, model fingerprint, rules): they change only with the events."""


def _no_data_of(kr: Context, rules: list[Rule], model: str) -> dict[str, str]:
    key = (str(kr.settings.store), model, tuple(_key(r) for r in rules))
    if not model or key not in _NO_DATA:
        if len(_NO_DATA) > 64:
            _NO_DATA.clear()
        _NO_DATA[key] = _no_data(kr, rules)
    return dict(_NO_DATA[key])


_NO_CASES = """
SELECT CAST(NULL AS VARCHAR) AS expectation_id, CAST(NULL AS VARCHAR) AS category,
       CAST(NULL AS VARCHAR) AS phase, CAST(NULL AS VARCHAR) AS case_id,
       CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS journey_id,
       CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS VARCHAR) AS order_id,
       CAST(NULL AS VARCHAR) AS case_key, CAST(NULL AS TIMESTAMP) AS started_at,
       CAST(NULL AS TIMESTAMP) AS due_at, CAST(NULL AS TIMESTAMP) AS ended_at,
       CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS detail,
       CAST(NULL AS DOUBLE) AS value, CAST(NULL AS BOOLEAN) AS delighted
WHERE 1 = 0
"""
"""`expectation_cases` without rows (no rule can be judged yet), in its columns and types."""


@functools.lru_cache(maxsize=16)
def _compiled(
    rules: tuple[str, ...], kind_ids: tuple[int, ...], ctx: RuleContext
) -> tuple[Query, str]:
    """The shared case query and its SQL text, per ruleset (and the moment judged at): building
    and printing the tree of every rule takes a second, and every page asks for the cases."""
    del kind_ids  # part of the key only: a kind registered anew compiles anew
    judged = [_RULES[key] for key in rules]
    query = cases_query(judged, ctx) if judged else Query(_NO_CASES)
    return query, query.sql()


_RULES: dict[str, Rule] = {}
"""Rules by their JSON, so the compile cache can be keyed by text."""


def _key(rule: Rule) -> str:
    text = f"{rule.kind}:{rule.model_dump_json()}"
    _RULES.setdefault(text, rule)
    return text


def ensure_cases(
    kr: Context,
    *,
    now: datetime | None = None,
    compare: str | None = None,
    rules: list[Rule] | None = None,
) -> CaseSet:
    """The model and the case tables, (re)built when stale; returns what was judged."""
    ensure_built(kr)
    settings = ExpectationSettings.from_settings(kr.settings)
    rules = active_rules(settings) if rules is None else rules
    compare = compare or settings.compare
    definition = load_definition(configured_definition(kr))
    as_of = _as_of(kr, now)
    engine = kr.engine
    model = str(
        kr.store.get_meta("model_fingerprint")
        if engine.capabilities.writable
        else engine.get_state("model_fingerprint") or ""
    )
    no_data = _no_data_of(kr, rules, model)
    judged = [r for r in rules if r.id not in no_data]
    ctx = RuleContext(as_of=as_of, compare=compare, phases=tuple(definition.phase_ids))
    kind_ids = tuple(id(k) for k in kinds().values())
    query, query_sql = _compiled(tuple(_key(r) for r in judged), kind_ids, ctx)
    fingerprint = hashlib.sha256(
        "|".join(
            [
                BUILD_VERSION,
                model,
                definition.name,
                compare,
                as_of.isoformat(),
                query_sql,
            ]
        ).encode()
    ).hexdigest()
    result = CaseSet(rules=rules, no_data=no_data, as_of=as_of, compare=compare)
    # Its own lock, not the store's write lock: judging takes seconds on a large store and the
    # collector must keep committing meanwhile; the transaction makes the three tables change
    # together.
    with _judging, kr.store.transaction() if engine.capabilities.writable else nullcontext():
        if engine.capabilities.writable:
            built = kr.store.get_meta("expectations_fingerprint")
        else:
            built = getattr(engine, "_klantreis_expectations_fingerprint", None)
        if built == fingerprint and engine.has_table("breaches") and engine.has_table("delights"):
            return result
        engine.create_table_as("expectation_cases", query)
        engine.create_table_as("breaches", _BREACHES)
        engine.create_table_as("delights", _DELIGHTS)
        if engine.capabilities.writable:
            kr.store.set_meta("expectations_fingerprint", fingerprint)
        else:
            engine._klantreis_expectations_fingerprint = fingerprint  # type: ignore[attr-defined]
    result.rebuilt = True
    return result
