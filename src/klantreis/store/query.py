"""Queries written once, as syntax trees, and generated for whichever engine runs them.

SQL text in klantreis is static (written in the DuckDB dialect, in the source), parsed by
SQLGlot into a tree; user values are bound into that tree as literal nodes by name
(`:name` placeholders), never pasted into text. The tree is then generated in the dialect of the
engine (DuckDB, Spark, ClickHouse), so the same analytics run everywhere.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp

SOURCE_DIALECT = "duckdb"


@functools.lru_cache(maxsize=1024)
def _parse(sql: str) -> exp.Expression:
    parsed = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    if parsed is None:  # pragma: no cover - sqlglot raises on bad SQL
        raise ValueError("empty query")
    return parsed


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, exp.Expression):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return exp.Tuple(expressions=[_literal(v) for v in value])
    return exp.convert(value)


class Query:
    """A query tree with bound values.

    `Query("SELECT * FROM events WHERE event = :name", name="Order Completed")` binds the event
    name as a string literal. Lists bind as tuples, for `IN :names`.
    """

    __slots__ = ("params", "tree")

    def __init__(self, sql: str | exp.Expression, /, **params: Any) -> None:
        tree = _parse(sql) if isinstance(sql, str) else sql
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
