"""Rules → query trees: each rule's kind builds its case query (`kinds/`), and all judged
rules share one pass over the model.

`cases_query(rules, ctx)` is what judging runs: one common table `expectation_events` (the
events any of the rules names, read from `journey_events` once) and, over it, every rule's
cases as one `UNION ALL`. `case_query(rule, ctx)` is one rule alone, over its own events;
`persons_queries` the same for a few persons in two statements (judging them again after a
model refresh). Compiled without a moment (`Context.as_of` None), a query serves every moment
judged at (`at_moment` binds it): compiling every rule takes a second or two.
Every query returns the columns of `expectation_cases` (see `kinds/base.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlglot import exp

from klantreis.measure.expectations.kinds import kind_of
from klantreis.measure.expectations.kinds.base import (
    EVENTS_TABLE,
    MOMENT,
    Context,
    describe,
    interval,
    moment,
)
from klantreis.measure.expectations.rules import Rule
from klantreis.store.query import Query, statement

__all__ = [
    "Context",
    "at_moment",
    "case_query",
    "cases_query",
    "describe",
    "events_apart",
    "interval",
    "persons_queries",
    "union_all",
]

_EVENTS = """
SELECT message_id, person_id, journey_id, phase, channel, order_id, timestamp, event
FROM journey_events WHERE event IN :names
"""
_PROPERTIES = "properties"


def named_events(rules: Iterable[Rule]) -> list[str]:
    """Every event name the rules' queries read, once each, in order."""
    return list(dict.fromkeys(name for rule in rules for name in rule.read_events()))


def _property_reads(tree: exp.Expression) -> list[exp.JSONExtractScalar]:
    """`properties ->> '$.name'` of the events a case query reads (not of other tables')."""
    return [
        node
        for node in tree.find_all(exp.JSONExtractScalar)
        if isinstance(node.this, exp.Column)
        and node.this.name == _PROPERTIES
        and not node.this.table
        and isinstance(node.expression, exp.Literal)
    ]


def _own_tree(query: Query) -> exp.Expression:
    """A copy of the query's tree to rewrite in place: a value bound in several places is one
    node object in all of them, and a kind's template may be cached."""
    return query.tree.copy()


def _prefix_ctes(tree: exp.Expression, prefix: str) -> None:
    """Give a rule's common tables names of its own (`r3_matched`): engines that lift nested
    common tables into the outer WITH (Spark) refuse the same name twice."""
    names: dict[str, str] = {}
    for cte in tree.find_all(exp.CTE):
        names[cte.alias] = prefix + cte.alias
        cte.set("alias", exp.TableAlias(this=exp.to_identifier(names[cte.alias])))
    for table in tree.find_all(exp.Table):
        if not table.db and table.name in names:
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            table.set("this", exp.to_identifier(names[table.name]))


def _of_persons(table: str) -> exp.Expression:
    """`person_id IN (SELECT person_id FROM table)`."""
    persons = exp.select("person_id").from_(exp.to_table(table))
    return exp.column("person_id").isin(query=persons)


def _shared(
    rules: list[Rule], ctx: Context, persons: str | None = None, events_from: str | None = None
) -> tuple[Query, Query]:
    """(the events the rules read, every rule's cases over `expectation_events`).

    The text of `properties` is what makes a read of the events slow (a hundred bytes of JSON
    per event); each property a rule reads becomes a column of its own, extracted once and only
    for the events of the rules that read it. A read the rewrite does not recognise keeps the
    whole `properties` column in the shared events, so any kind's template still works.

    The cases read `expectation_events` as a common table: the events query itself, or with
    `events_from` the table the events were stored in first."""
    trees = [_own_tree(kind_of(rule).cases(rule, ctx)) for rule in rules]
    for i, tree in enumerate(trees):
        _prefix_ctes(tree, f"r{i}_")
    readers: dict[str, list[str]] = {}
    for rule, tree in zip(rules, trees, strict=True):
        for node in _property_reads(tree):
            readers.setdefault(node.expression.this, []).extend(rule.read_events())
    columns = {path: f"_p{i}" for i, path in enumerate(sorted(readers))}
    for tree in trees:
        for node in _property_reads(tree):
            node.replace(exp.column(columns[node.expression.this]))
    keep_text = any(
        column.name == _PROPERTIES and not column.table
        for tree in trees
        for column in tree.find_all(exp.Column)
    )
    events = statement(Query(_EVENTS, names=named_events(rules) or ["-"]).tree)
    for path, name in columns.items():
        extracted = Query(
            "CASE WHEN event IN :names THEN properties ->> :path END",
            names=list(dict.fromkeys(readers[path])),
            path=path,
        ).tree
        events = events.select(exp.alias_(extracted, name), copy=False)
    if keep_text:
        events = events.select(_PROPERTIES, copy=False)
    select = exp.select("*").from_(_union(trees).subquery("cases", copy=False), copy=False)
    if persons is not None:  # their events only, and (for rules reading more) their cases only
        events = events.where(_of_persons(persons), copy=False)
        select = select.where(_of_persons(persons), copy=False)
    if events_from is None:
        return Query(events), Query(select.with_(EVENTS_TABLE, as_=events, copy=False))
    stored = exp.select("*").from_(exp.to_table(events_from))
    return Query(events), Query(select.with_(EVENTS_TABLE, as_=stored, copy=False))


def case_query(rule: Rule, ctx: Context) -> Query:
    """The cases of one rule, reading only the events it names."""
    return _shared([rule], ctx)[1]


def cases_query(rules: list[Rule], ctx: Context, persons: str | None = None) -> Query:
    """The cases of every rule in one query: the events they name read once, shared; with
    `persons` (a table of person ids) only theirs, from their events."""
    return _shared(rules, ctx, persons)[1]


def persons_queries(
    rules: list[Rule], ctx: Context, persons: str, stored: str
) -> tuple[Query, Query]:
    """(the events the rules read of the persons in table `persons`, their cases over those
    events once stored as table `stored`): two statements, so the read of `journey_events`
    for a few persons runs alone (in one statement with the rules' many readers of the shared
    events, the engine reads the wide columns of every event before it narrows them down)."""
    return _shared(rules, ctx, persons, stored)


def events_apart(query: Query) -> tuple[Query | None, list[Query]]:
    """(the shared events of `cases_query`, the cases of each rule reading them as the table
    `expectation_events`; None and the query as it is when it has no shared events): the
    events stored first, then one statement per rule, for an engine that would otherwise
    keep the common table of every event the rules read for each of its readers (about
    forty of them) and every rule's sorts and windows at once.

    DuckDB hands a common table read many times to each reader as it is made; when its cap
    is short every reader's copy of the events spills. A stored table is written once and
    scanned per reader for the columns and events it needs. Measured with `klantreis
    expectations --now` (docs/scaling.md): 10M events under a 1.2GB cap 138 s of CPU and
    8–21 GB written as one statement, 43 s and 0.47 GB a rule at a time; 1M events under
    120MB ran out of memory as one statement and are judged a rule at a time."""
    tree = query.tree.copy()
    with_ = tree.find(exp.With)
    if with_ is None or with_.parent is not tree:
        return None, [query]
    ctes = list(with_.expressions)
    shared = next((c for c in ctes if c.alias == EVENTS_TABLE), None)
    if shared is None:
        return None, [query]
    rest = [c for c in ctes if c is not shared]
    if rest:
        with_.set("expressions", rest)
    else:
        with_.pop()
    return Query(shared.this.copy()), _each_rule(tree)


def _each_rule(tree: exp.Expression) -> list[Query]:
    """The rules' case queries of `SELECT * FROM (<rule> UNION ALL ...) AS cases` (`_union`),
    each alone; the query whole when it is not that shape (a filter on persons, a WITH)."""
    source = tree.args.get("from_") if isinstance(tree, exp.Select) else None
    whole = [Query(tree)]
    if (
        source is None
        or tree.args.get("where") is not None
        or tree.args.get("with_") is not None
        or not isinstance(source.this, exp.Subquery)
        or source.this.alias != "cases"
    ):
        return whole
    parts: list[exp.Expression] = []
    node = source.this.this
    while isinstance(node, exp.Union) and not node.args.get("distinct"):
        parts.append(node.expression)
        node = node.this
    parts.append(node)
    rules = []
    for part in reversed(parts):
        inner = part.args.get("from_") if isinstance(part, exp.Select) else None
        if inner is None or not isinstance(inner.this, exp.Subquery):
            return whole
        rules.append(Query(inner.this.this.copy()))
    return rules


def at_moment(query: Query, as_of: datetime) -> Query:
    """A query compiled without a moment (`Context.as_of` None) judged at `as_of`."""
    return Query(query.tree, **{MOMENT: moment(as_of)})


def _union(trees: list[exp.Expression]) -> exp.Query:
    """`SELECT * FROM (t0) UNION ALL SELECT * FROM (t1) ...`, built in place: `exp.union`
    copies its left side at every step, quadratic in the number of rules."""
    selects = [
        exp.select("*").from_(statement(tree).subquery(f"rule_{i}", copy=False), copy=False)
        for i, tree in enumerate(trees)
    ]
    union: exp.Query = selects[0]
    for select in selects[1:]:
        union = exp.Union(this=union, expression=select, distinct=False)
    return union


def union_all(queries: list[Query]) -> Query:
    """One query with the cases of every query (each as a subquery)."""
    return Query(_union([q.tree for q in queries]))
