"""Small helpers to assemble analysis queries from static SQL fragments.

Fragments are static DuckDB-dialect text parsed once by `Query`; what varies between runs (a step
condition, the name of the previous common table expression) is spliced in as a *tree*, never as
text: values through `:name` placeholders, table names through `rename_tables`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from klantreis.errors import KlantreisError
from klantreis.store.query import Query, identifier, statement

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class AnalysisError(KlantreisError):
    """An analysis asked for something it cannot do (unknown mode, too few steps, ...)."""


def parse_duration(value: str | int | float, name: str = "window") -> int:
    """Seconds in a duration such as `7d`, `12h`, `30m`, `90s`, `2w` (or a number of seconds)."""
    if isinstance(value, int | float):
        seconds = int(value)
    else:
        match = _DURATION.match(value)
        if match is None:
            raise AnalysisError(
                f"{value!r} is not a duration; use e.g. 7d, 12h, 30m, 90s or 2w", field=name
            )
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise AnalysisError(f"must be longer than zero, got {value!r}", field=name)
    return seconds


def rename_tables(tree: exp.Expression, names: Mapping[str, str]) -> exp.Expression:
    """The tree with table references renamed (placeholders such as `prior` → `level_3`)."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
            renamed = exp.Table(this=identifier(names[node.name]))
            if node.alias:
                renamed.set("alias", node.args["alias"].copy())
            return renamed
        return node

    return tree.transform(swap, copy=True)


def fragment(sql: str, tables: Mapping[str, str] | None = None, **params: Any) -> exp.Expression:
    """A static fragment as a tree, with values bound and placeholder tables renamed."""
    tree = Query(sql, **params).tree
    return rename_tables(tree, tables) if tables else tree


def with_ctes(ctes: Sequence[tuple[str, exp.Expression]], final: exp.Expression) -> Query:
    """`WITH name AS (...), ... final` as one query tree."""
    select = statement(final.copy())
    for name, tree in ctes:
        select = select.with_(identifier(name), as_=tree, copy=False)
    return Query(select)


def json_property(path: str) -> exp.Expression:
    """`json_extract_string(properties, '$."key"')` with the key bound as a value."""
    if not _PROPERTY.match(path):
        raise AnalysisError(
            f"property name {path!r}: use letters, digits and underscores (dots for nesting)"
        )
    json_path = "$." + path
    return fragment("json_extract_string(properties, :path)", path=json_path)
