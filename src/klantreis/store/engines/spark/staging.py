"""Which common table expressions of a query Spark computes once, before the query.

Spark inlines every deterministic common table expression at each reference (its `InlineCTE`
rule): a chain of funnel levels, each read by the next level and by the summary, is planned
again at every reference, and an expression read twice is computed twice unless both copies
plan to the same exchange (a filter pushed into one copy and not the other is enough to lose
that). Computing such an expression once as a checkpointed view costs a Spark job and keeps its
rows in the executors' block store for the query; worth it only when the expression is read
more than once and is itself more than a scan (`STAGED_WORK`). Every other expression stays in
the query, where Spark may push the query's filters into it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlglot import exp

from klantreis.store.engines.spark.dialect import rename_tables

STAGED_WORK: tuple[type[exp.Expr], ...] = (
    exp.Join,
    exp.Group,
    exp.Window,
    exp.Distinct,
    exp.SetOperation,
    exp.AggFunc,
)
"""Nodes that make an expression's body cost a shuffle or more (a join, an aggregate, a window,
a DISTINCT, a UNION): recomputing it costs that again. A filtered projection of one table is a
scan, cheaper than the job and the block-store copy a checkpoint takes."""


def _ctes(tree: exp.Expression) -> list[exp.CTE]:
    with_ = tree.args.get("with_")
    return list(with_.expressions) if isinstance(with_, exp.With) else []


def _nested_name(table: exp.Table, top: exp.Expression) -> bool:
    """Whether a `WITH` below `top` and around `table` defines the table's name (then the
    reference reads that nested expression)."""
    scope = table.parent
    while scope is not None and scope is not top:
        with_ = scope.args.get("with_") if isinstance(scope, exp.Query) else None
        if isinstance(with_, exp.With) and any(c.alias == table.name for c in with_.expressions):
            return True
        scope = scope.parent
    return False


def references(tree: exp.Expression) -> Counter[str]:
    """How often the query and its other expressions read each top-level expression."""
    names = {cte.alias for cte in _ctes(tree)}
    return Counter(
        table.name
        for table in tree.find_all(exp.Table)
        if table.name in names and not table.args.get("db") and not _nested_name(table, tree)
    )


def to_stage(tree: exp.Expression) -> list[str]:
    """The top-level expressions computed once, in the order the query defines them: read
    more than once and more than a scan. An expression that reads another one is as costly
    as that one unless it is staged itself (then reading it is a scan of its view): a
    projection of a join read three times computed the join three times."""
    counts = references(tree)
    chosen: list[str] = []
    costly: set[str] = set()
    for cte in _ctes(tree):
        reads = {t.name for t in cte.this.find_all(exp.Table) if not t.args.get("db")}
        if cte.this.find(*STAGED_WORK) is not None or reads & (costly - set(chosen)):
            costly.add(cte.alias)
            if counts[cte.alias] > 1:
                chosen.append(cte.alias)
    return chosen


@dataclass(frozen=True)
class Stage:
    """One expression to compute as the view `view` before the query."""

    view: str
    query: exp.Expression


def hoisted(tree: exp.Expression) -> exp.Expression:
    """The query with the `WITH` of the one subquery it selects from moved up to it, when that
    is all it reads (the model's `SELECT CAST(...) ... FROM (WITH ... SELECT ...) AS shaped`,
    `model/contract.py`); otherwise the query as it is.

    The same rows: the outer select reads no table a moved expression could now stand for.
    Without it no model table's expressions were ever staged (they were not at the top): the
    journey sources' landing visits, read three times, were aggregated and joined to every
    event three times on Spark."""
    if not isinstance(tree, exp.Select) or tree.args.get("with_") or tree.args.get("joins"):
        return tree
    source = tree.args.get("from_")
    inner = source.this if isinstance(source, exp.From) else None
    if not isinstance(inner, exp.Subquery) or not isinstance(inner.this, exp.Query):
        return tree
    with_ = inner.this.args.get("with_")
    if not isinstance(with_, exp.With) or with_.args.get("recursive"):
        return tree
    outer = tree.copy()
    outer.set("from_", None)
    if outer.find(exp.Table) is not None:
        return tree
    moved = tree.copy()
    body = moved.args["from_"].this.this
    moved.set("with_", body.args["with_"])
    body.set("with_", None)
    return moved


def staged(tree: exp.Expression, prefix: str) -> tuple[list[Stage], exp.Expression]:
    """(the stages, in order, and the query reading their views instead).

    Each stage is its expression with the unstaged expressions before it (which it may read),
    reading earlier stages' views; the query keeps its unstaged expressions."""
    tree = hoisted(tree)
    chosen = to_stage(tree)
    if not chosen:
        return [], tree
    views = {name: prefix + name for name in chosen}
    ctes = _ctes(tree)
    stages = []
    for at, cte in enumerate(ctes):
        if cte.alias not in views:
            continue
        kept = [c.copy() for c in ctes[: at + 1] if c.alias not in views or c is cte]
        query = exp.select("*").from_(exp.to_identifier(cte.alias))
        query.set("with_", exp.With(expressions=kept))
        stages.append(Stage(views[cte.alias], rename_tables(query, views)))
    rest = tree.copy()
    left = [c for c in _ctes(rest) if c.alias not in views]
    rest.set("with_", exp.With(expressions=left) if left else None)
    return stages, rename_tables(rest, views)
