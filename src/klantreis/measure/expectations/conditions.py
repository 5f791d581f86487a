"""Structured conditions and event selectors as SQL trees over `journey_events`.

A condition names a property, an operator and a value; each operator has one static SQL
template and the property path and value are bound as literals, so a rule file can never
inject SQL.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from klantreis.measure.expectations.rules import Condition, Selector
from klantreis.store.query import Query, node

_TEXT = {
    "eq": "properties ->> :path = :value",
    "ne": "properties ->> :path IS DISTINCT FROM :value",
    "lt": "properties ->> :path < :value",
    "le": "properties ->> :path <= :value",
    "gt": "properties ->> :path > :value",
    "ge": "properties ->> :path >= :value",
    "in": "properties ->> :path IN :value",
    "not_in": "properties ->> :path IS NULL OR properties ->> :path NOT IN :value",
}
_NUMBER = {
    "eq": "TRY_CAST(properties ->> :path AS DOUBLE) = :value",
    "ne": "TRY_CAST(properties ->> :path AS DOUBLE) IS DISTINCT FROM :value",
    "lt": "TRY_CAST(properties ->> :path AS DOUBLE) < :value",
    "le": "TRY_CAST(properties ->> :path AS DOUBLE) <= :value",
    "gt": "TRY_CAST(properties ->> :path AS DOUBLE) > :value",
    "ge": "TRY_CAST(properties ->> :path AS DOUBLE) >= :value",
    "in": "TRY_CAST(properties ->> :path AS DOUBLE) IN :value",
    "not_in": "TRY_CAST(properties ->> :path AS DOUBLE) IS NULL "
    "OR TRY_CAST(properties ->> :path AS DOUBLE) NOT IN :value",
}
_PRESENCE = {
    "exists": "properties ->> :path IS NOT NULL",
    "missing": "properties ->> :path IS NULL",
}


def json_path(name: str) -> str:
    """The JSON path of a top-level property (names are checked by the rule model)."""
    return f"$.{name}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def condition_tree(condition: Condition) -> exp.Expression:
    path = json_path(condition.property)
    if condition.op in _PRESENCE:
        return Query(_PRESENCE[condition.op], path=path).tree
    value = condition.value
    if condition.op in ("in", "not_in"):
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if not values:
            raise ValueError(f"condition on {condition.property!r}: `{condition.op}` needs values")
        numeric = all(_is_number(v) for v in values)
        bound: Any = [float(v) if numeric else _as_text(v) for v in values]
    else:
        numeric = _is_number(value)
        bound = float(value) if numeric else _as_text(value)
    template = (_NUMBER if numeric else _TEXT)[condition.op]
    return exp.paren(Query(template, path=path, value=bound).tree, copy=False)


def selector_tree(selector: Selector | None) -> exp.Expression:
    """`event IN (...) AND <conditions>`; FALSE for no selector."""
    if selector is None:
        return exp.false()
    parts = [Query("event IN :names", names=list(selector.event)).tree]
    parts.extend(condition_tree(c) for c in selector.where)
    return node(exp.and_(*parts))


def property_text(name: str) -> exp.Expression:
    return Query("properties ->> :path", path=json_path(name)).tree
