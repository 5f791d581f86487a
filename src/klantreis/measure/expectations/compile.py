"""Rules → query trees: each rule's kind builds its case query (`kinds/`), and all judged
rules share one pass over the model.

`cases_query(rules, ctx)` is what judging runs: one common table `expectation_events` (the
events any of the rules names, read from `journey_events` once) and, over it, every rule's
cases as one `UNION ALL`. `case_query(rule, ctx)` is one rule alone, over its own events.
Every query returns the columns of `expectation_cases` (see `kinds/base.py`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from klantreis.measure.expectations.kinds import kind_of
from klantreis.measure.expectations.kinds.base import EVENTS_TABLE, Context, describe, interval
from klantreis.measure.expectations.rules import Rule
from klantreis.store.query import Query

__all__ = ["Context", "case_query", "cases_query", "describe", "interval", "union_all"]

_EVENTS = """
SELECT message_id, person_id, journey_id, phase, channel, order_id, timestamp, event,
       properties
FROM journey_events WHERE event IN :names
"""


def named_events(rules: Iterable[Rule]) -> list[str]:
    """Every event name the rules' queries read, once each, in order."""
    return list(dict.fromkeys(name for rule in rules for name in rule.read_events()))


def _with_events(tree: exp.Expression, names: list[str]) -> Query:
    """`tree` under `WITH expectation_events AS (the events named ...)`."""
    events = Query(_EVENTS, names=names or ["-"]).tree
    select = exp.select("*").from_(tree.subquery("cases"))
    return Query(select.with_(EVENTS_TABLE, as_=events))


def case_query(rule: Rule, ctx: Context) -> Query:
    """The cases of one rule, reading only the events it names."""
    return _with_events(kind_of(rule).cases(rule, ctx).tree, named_events([rule]))


def cases_query(rules: list[Rule], ctx: Context) -> Query:
    """The cases of every rule in one query: the events they name read once, shared."""
    return _with_events(_union([kind_of(r).cases(r, ctx).tree for r in rules]), named_events(rules))


def _union(trees: list[exp.Expression]) -> exp.Expression:
    selects = [
        exp.select("*").from_(tree.subquery(f"rule_{i}", copy=False))
        for i, tree in enumerate(trees)
    ]
    union: exp.Expression = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False)
    return union


def union_all(queries: list[Query]) -> Query:
    """One query with the cases of every query (each as a subquery)."""
    return Query(_union([q.tree for q in queries]))
