"""How the model's queries meet their table declarations, and how one query serves two builds.

Every derived table is declared once (`TableSpec` with columns, in the module that builds it).
`shaped` casts a query's result to exactly those columns, so the model produces the declared
contract by construction and the tests that feed analyses a hand-made `journey_events` use the
same schema. `sourced` lets the same query run over a subset: a refresh swaps `events` for the
affected persons' events and the result is the full build's rows for those persons.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from klantreis.store.query import Query
from klantreis.store.schema import TableSpec


def shaped(spec: TableSpec, query: Query | str) -> Query:
    """`query` with its result cast to the declared columns of `spec`, in declared order."""
    tree = query.tree if isinstance(query, Query) else Query(query).tree
    casts = [
        exp.alias_(
            exp.cast(exp.column(c.name, quoted=True), exp.DataType.build(c.type)),
            c.name,
            quoted=True,
        )
        for c in spec.columns
    ]
    return Query(
        exp.select(*casts).from_(exp.Subquery(this=tree, alias=exp.to_identifier("shaped")))
    )


def sourced(query: Query, sources: Mapping[str, str], ctes: tuple[str, ...] = ()) -> Query:
    """`query` reading other tables in place of `sources`' keys (all of them, or only inside
    the common table expressions named in `ctes`)."""
    sources = {k: v for k, v in sources.items() if k != v}
    if not sources:
        return query
    tree = query.tree.copy()
    if not ctes:
        return Query(exp.replace_tables(tree, sources, copy=False))
    for cte in tree.find_all(exp.CTE):
        if cte.alias in ctes:
            cte.set("this", exp.replace_tables(cte.this, sources, copy=False))
    return Query(tree)
