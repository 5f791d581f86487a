"""Queries written once, as syntax trees, and generated for whichever engine runs them.

SQL text in klantreis is static (written in the DuckDB dialect, in the source), parsed by
SQLGlot into a tree; user values are bound into that tree as literal nodes by name
(`:name` placeholders), never pasted into text. The tree is then generated in the dialect of the
engine (DuckDB, Spark, ClickHouse), so the same analytics run everywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlglot
from sqlglot import exp

SOURCE_DIALECT = "duckdb"


@functools.lru_cache(maxsize=1024)
def _parse(sql: str) -> exp.Expression:
    parsed = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    if not isinstance(parsed, exp.Expression):  # pragma: no cover - sqlglot raises on bad SQL
        raise ValueError(f"not a statement: {sql[:40]!r}")
    return parsed


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, exp.Expression):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return exp.Tuple(expressions=[_literal(v) for v in value])
    return node(exp.convert(value))


def node(tree: exp.Expr) -> exp.Expression:
    """`tree` as a concrete node. SQLGlot's builders (`exp.convert`, `exp.or_`, `exp.func`)
    are typed as returning one of its abstract bases (`Expr`, `Condition`, `Func`), but what
    they build is always a concrete `Expression`; this says so once, checked, for the places
    that take a node."""
    if not isinstance(tree, exp.Expression):  # pragma: no cover - SQLGlot builds concrete nodes
        raise TypeError(f"not a SQLGlot node: {type(tree).__name__}")
    return tree


def statement(tree: exp.Expr) -> exp.Query:
    """`tree` as a query statement (a SELECT or a set operation), for the builders only a
    statement has (`with_`, `select`, `subquery`); a fragment that is none is a bug here."""
    if not isinstance(tree, exp.Query):
        raise TypeError(f"not a query statement: {tree.sql(SOURCE_DIALECT)[:60]!r}")
    return tree


class Query:
    """A query tree with bound values.

    `Query("SELECT * FROM events WHERE event = :name", name="Order Completed")` binds the event
    name as a string literal. Lists bind as tuples, for `IN :names`.
    """

    __slots__ = ("params", "tree")

    def __init__(self, sql: str | exp.Expr, /, **params: Any) -> None:
        tree = _parse(sql) if isinstance(sql, str) else node(sql)
        self.params: Mapping[str, Any] = params
        if params:
            tree = tree.transform(self._bind, copy=True)
        self.tree = tree

    def _bind(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name:
            if node.name not in self.params:
                raise KeyError(f"query parameter :{node.name} has no value")
            return _literal(self.params[node.name])
        return node

    def sql(self, dialect: str = SOURCE_DIALECT, pretty: bool = False) -> str:
        """The query as text in `dialect` (for running, or reading in a debugger)."""
        return self.tree.sql(dialect=dialect, pretty=pretty)

    def __repr__(self) -> str:
        return f"Query({self.sql()!r})"


def identifier(name: str) -> exp.Identifier:
    """A quoted identifier: the one place where names become SQL."""
    return exp.to_identifier(name, quoted=True)


_READ_AS: ContextVar[Mapping[str, Query] | None] = ContextVar(
    "klantreis_tables_read_as", default=None
)


@contextmanager
def tables_read_as(replacements: Mapping[str, Query]) -> Iterator[None]:
    """Within this block, every query an engine *reads* with (`Engine.fetch`) sees each named
    table as the query given for it: the same rows another way, e.g. the model read in another
    journey definition (`model/translate.py`). Statements that write are left as they are, so
    nothing derived from such a view is ever stored in the table's place."""
    token = _READ_AS.set({**(_READ_AS.get() or {}), **replacements})
    try:
        yield
    finally:
        _READ_AS.reset(token)


def read_as(
    tree: exp.Expression, replacements: Mapping[str, Query] | None = None
) -> exp.Expression:
    """`tree` with the tables of `tables_read_as` (or of `replacements`) replaced by their
    queries, once: the queries put in are not read through the replacements again (a table a
    common table expression of the query names is the query's own and stays)."""
    replacements = (_READ_AS.get() or {}) if replacements is None else replacements
    if not replacements:
        return tree
    own = {cte.alias for cte in tree.find_all(exp.CTE)}

    def replaced(t: exp.Table) -> bool:
        return t.name in replacements and t.name not in own and not t.args.get("db")

    if not any(replaced(t) for t in tree.find_all(exp.Table)):
        return tree
    tree = tree.copy()
    for table in [t for t in tree.find_all(exp.Table) if replaced(t)]:
        inner = replacements[table.name].tree.copy()
        alias = exp.TableAlias(this=exp.to_identifier(table.alias_or_name))
        table.replace(exp.Subquery(this=inner, alias=alias))
    return tree
