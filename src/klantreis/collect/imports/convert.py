"""Typed column values as SQL trees, each with the condition under which the row is invalid.

A mapping says "column `price` is a number"; this module turns that into a DuckDB expression
(`TRY_CAST`, `try_strptime`, ...) over the file's column, plus an `invalid` test (the cell has
text but it did not convert) and a reason naming the type and the bad value. Column names enter
as quoted identifiers and constants as literal nodes, through SQLGlot, never as pasted text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from klantreis.collect.imports.mapping import Value, json_path, template_parts
from klantreis.store.query import identifier

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_NESTED = ("STRUCT", "MAP", "[]", "JSON", "UNION")


def col(name: str) -> exp.Column:
    return exp.Column(this=identifier(name))


def lit(value: Any) -> exp.Expr:
    return exp.convert(value)


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def cast(value: exp.Expr, to: str, *, try_: bool = False) -> exp.Expr:
    node = exp.TryCast if try_ else exp.Cast
    return node(this=value, to=exp.DataType.build(to, dialect="duckdb"))


def is_null(value: exp.Expr) -> exp.Expr:
    return exp.Is(this=value, expression=exp.Null())


def not_null(value: exp.Expr) -> exp.Expr:
    return exp.Not(this=is_null(value))


def null() -> exp.Expr:
    return exp.Null()


def text(value: exp.Expr, source_type: str) -> exp.Expr:
    """A column as text; nested values (structs, lists) as JSON text."""
    if any(marker in source_type.upper() for marker in _NESTED):
        return cast(fn("to_json", value), "VARCHAR")
    return value if source_type.upper() == "VARCHAR" else cast(value, "VARCHAR")


def template(pattern: str, columns: dict[str, str]) -> exp.Expr:
    """`shop:order:{id}` as `'shop:order:' || id`; any empty column makes it NULL."""
    parts: list[exp.Expr] = []
    for literal, column in template_parts(pattern):
        if literal:
            parts.append(lit(literal))
        if column:
            parts.append(text(col(column), columns.get(column, "VARCHAR")))
    value = parts[0] if parts else lit("")
    for part in parts[1:]:
        # `||`, not concat(): NULL in, NULL out.
        value = exp.DPipe(this=value, expression=part, safe=False)
    return value


@dataclass(frozen=True)
class Converted:
    """A typed value; `invalid` is None when the conversion cannot fail."""

    value: exp.Expr
    column: str | None = None
    invalid: exp.Expr | None = None
    reason: exp.Expr | None = None
    raw: exp.Expr | None = None
    """The cell before conversion (inside its JSON when the mapping gives a `path`)."""


def prepared(spec: Value, columns: dict[str, str]) -> tuple[exp.Expr, str]:
    """The cell a value is read from, and its type: the key at `path` inside a JSON column,
    texts in `null_if` as NULL, then raw texts replaced by `values`."""
    assert spec.column is not None
    source_type = columns.get(spec.column, "VARCHAR")
    raw: exp.Expr = col(spec.column)
    if spec.path is None and spec.values is None and not spec.null_if:
        return raw, source_type
    if spec.path is not None:
        raw = fn("json_extract_string", text(raw, source_type), lit(json_path(spec.path)))
    else:
        raw = text(raw, source_type)
    if spec.null_if:
        empty = exp.In(this=fn("trim", raw), expressions=[lit(v) for v in spec.null_if])
        raw = exp.Case(ifs=[exp.If(this=empty, true=null())], default=raw)
    if spec.values is not None:
        ifs = [
            exp.If(this=exp.EQ(this=raw, expression=lit(key)), true=lit(_as_text(value)))
            for key, value in spec.values.items()
        ]
        raw = exp.Case(ifs=ifs, default=raw)
    return raw, "VARCHAR"


def convert(spec: Value, columns: dict[str, str], as_type: str | None = None) -> Converted:
    """The SQL for one mapped value (`as_type` overrides the spec's type, e.g. timestamp)."""
    kind = as_type or spec.type
    if spec.template is not None:
        return Converted(template(spec.template, columns))
    if spec.column is None:
        return Converted(_constant(spec.value, kind))
    raw, source_type = prepared(spec, columns)
    is_text = source_type.upper() == "VARCHAR"
    value, label = _typed(raw, kind, spec.format, source_type, is_text)
    if kind == "string":
        if spec.hash == "sha256":
            value = fn("sha256", fn("lower", fn("trim", value)))
        return Converted(value, spec.column, raw=raw)
    invalid: exp.Expr = exp.and_(not_null(raw), is_null(value))
    if kind == "timestamp":
        # A parsed timestamp far outside the shop's lifetime is a typo, not a date.
        year = fn("year", value)
        out_of_range = exp.or_(
            exp.LT(this=year, expression=lit(1990)), exp.GT(this=year, expression=lit(2200))
        )
        invalid = exp.or_(invalid, exp.and_(not_null(value), out_of_range))
        if spec.plus is not None:
            value, invalid = _plus(value, invalid, spec.plus, columns)
        value = exp.Case(
            ifs=[
                exp.If(
                    this=exp.and_(not_null(value), exp.Not(this=exp.Paren(this=out_of_range))),
                    true=value,
                )
            ]
        )
    shown = fn("to_json", fn("left", text(raw, source_type), lit(60)))
    reason = exp.DPipe(this=lit(f"{label}: "), expression=cast(shown, "VARCHAR"), safe=True)
    return Converted(value, spec.column, invalid, reason, raw)


_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def _plus(
    value: exp.Expr, invalid: exp.Expr, spec: Value, columns: dict[str, str]
) -> tuple[exp.Expr, exp.Expr]:
    """A timestamp moved by a duration column (`created_at` + the first reply's minutes)."""
    amount = convert(spec, columns, as_type="number")
    seconds = exp.Mul(this=amount.value, expression=lit(_SECONDS[spec.unit or "seconds"]))
    moved = exp.Add(this=value, expression=fn("to_microseconds", _micros(seconds)))
    if amount.invalid is not None:
        invalid = exp.or_(invalid, amount.invalid)
    return moved, invalid


def _micros(seconds: exp.Expr) -> exp.Expr:
    return cast(fn("round", exp.Mul(this=seconds, expression=lit(1_000_000))), "BIGINT", try_=True)


def _as_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _typed(
    raw: exp.Expr, kind: str, fmt: str | None, source_type: str, is_text: bool
) -> tuple[exp.Expr, str]:
    trimmed = fn("trim", raw) if is_text else raw
    if kind == "string":
        return text(raw, source_type), "text"
    if kind == "int":
        if not is_text:
            return cast(raw, "BIGINT", try_=True), "not an integer"
        whole = fn("regexp_full_match", trimmed, lit(r"[+-]?\d+(\.0*)?"))
        as_double = cast(trimmed, "DOUBLE", try_=True)
        value = exp.Case(ifs=[exp.If(this=whole, true=cast(as_double, "BIGINT", try_=True))])
        return value, "not an integer"
    if kind == "number":
        number = cast(trimmed, "DOUBLE", try_=True)
        return exp.Case(ifs=[exp.If(this=fn("isfinite", number), true=number)]), "not a number"
    if kind == "bool":
        if not is_text:
            return cast(raw, "BOOLEAN", try_=True), "not a boolean"
        lowered = fn("lower", trimmed)
        value = exp.Case(
            ifs=[
                exp.If(
                    this=exp.In(this=lowered, expressions=[lit(v) for v in _TRUE]), true=exp.true()
                ),
                exp.If(
                    this=exp.In(this=lowered, expressions=[lit(v) for v in _FALSE]),
                    true=exp.false(),
                ),
            ]
        )
        return value, "not a boolean (true/false)"
    if kind == "json":
        if not is_text:
            return cast(fn("to_json", raw), "JSON"), "not valid JSON"
        value = exp.Case(ifs=[exp.If(this=fn("json_valid", trimmed), true=cast(trimmed, "JSON"))])
        return value, "not valid JSON"
    if kind == "timestamp":
        return _timestamp(raw, trimmed, fmt, is_text)
    raise ValueError(f"unknown type {kind!r}")  # pragma: no cover - mapping validates types


def _timestamp(
    raw: exp.Expr, trimmed: exp.Expr, fmt: str | None, is_text: bool
) -> tuple[exp.Expr, str]:
    """Naive UTC: text with an offset is converted, text without one is kept as given."""
    if fmt == "epoch":
        parsed = fn("to_timestamp", cast(trimmed, "DOUBLE", try_=True))
        label = "not epoch seconds"
    elif fmt == "epoch_ms":
        parsed = fn("epoch_ms", cast(trimmed, "BIGINT", try_=True))
        label = "not epoch milliseconds"
    elif fmt and is_text:
        parsed = fn("try_strptime", trimmed, lit(fmt))
        label = f"not a timestamp in format {fmt}"
    else:
        parsed = cast(trimmed, "TIMESTAMPTZ", try_=True)
        label = "not a timestamp"
    value = fn("timezone", lit("UTC"), cast(parsed, "TIMESTAMPTZ", try_=True))
    return cast(value, "TIMESTAMP"), label


def _constant(value: Any, kind: str) -> exp.Expr:
    if value is None:
        return null()
    if kind == "json":
        return cast(lit(json.dumps(value)), "JSON")
    if kind == "timestamp":
        return cast(lit(str(value)), "TIMESTAMP")
    return lit(value)
