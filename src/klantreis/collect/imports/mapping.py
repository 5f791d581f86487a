"""The declarative column mapping: which columns of an export become which events.

A mapping is YAML (format in docs/mappings.md). It names, per event: the event name (a constant
or a column's value through a value map), the timestamp column, the message id (a column or a
template over columns), the user columns, the channel and typed properties. Filters are
structured (column + equals / in / not_in / not_null), so nothing a user writes becomes SQL text.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from klantreis.collect.imports.errors import MappingError
from klantreis.collect.imports.jsonpath import json_path
from klantreis.collect.imports.readers import FORMATS
from klantreis.collect.imports.yamlfile import read_yaml_object, validate_mapping

BUILTIN_DIR = Path(__file__).parent / "mappings"
ValueType = Literal["string", "int", "number", "bool", "timestamp", "json"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def template_parts(template: str) -> list[tuple[str, str | None]]:
    """Literal text and column names of `shop:order:{id}`, in order."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"bad template {template!r}: {exc}") from None
    if any(name == "" for _text, name, _spec, _conv in parsed):
        raise ValueError(f"bad template {template!r}: `{{}}` must name a column")
    return [(text, name) for text, name, _spec, _conv in parsed]


class Value(_Strict):
    """A value from a column (converted to `type`), a template over columns, a constant, or
    (in an event with `group_by`) the list of `items`, one object per row of the group."""

    column: str | None = None
    template: str | None = None
    value: Any = None
    items: dict[str, Value] | None = None
    """`products: {items: {sku: Lineitem sku, price: {column: Lineitem price, type: number}}}`."""
    type: ValueType = "string"
    format: str | None = None
    """strptime format for `timestamp` (`%Y-%m-%d %H:%M:%S`), or `epoch` / `epoch_ms`."""
    path: str | None = None
    """A key inside a column holding JSON (nested exports): `via.channel`, `events.-1.time`."""
    values: dict[str, Any] | None = None
    """Raw text -> value before the type applies (`{ONE: 1, TWO: 2}`); others are kept."""
    null_if: list[str] = Field(default_factory=list)
    """Texts that mean "no value" in this export (`"0"` for a guest's customer id)."""
    hash: Literal["sha256"] | None = None
    """Store the SHA-256 of the trimmed, lower-cased text (an e-mail as a person id)."""
    plus: Value | None = None
    """A timestamp moved by a duration: `{column: created_at, plus: {column: reply_minutes,
    unit: minutes}}` (when an export gives a duration, not the time it ended)."""
    unit: Literal["seconds", "minutes", "hours", "days"] | None = None
    """The unit of a `plus` duration (default seconds)."""

    @field_validator("plus", mode="before")
    @classmethod
    def _plus_shorthand(cls, raw: Any) -> Any:
        return _as_value(raw)

    @field_validator("items", mode="before")
    @classmethod
    def _item_shorthand(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            return {key: _as_value(value) for key, value in raw.items()}
        return raw

    @model_validator(mode="after")
    def _one_source(self) -> Value:
        sources = (self.column, self.template, self.value, self.items)
        if sum(v is not None for v in sources) != 1:
            raise ValueError("give exactly one of `column`, `template`, `value` or `items`")
        if self.template is not None:
            template_parts(self.template)
        if self.path is not None:
            if self.column is None:
                raise ValueError("`path` reads inside a `column`")
            json_path(self.path)
        if self.items is not None and any(v.items is not None for v in self.items.values()):
            raise ValueError("`items` cannot hold `items`")
        if self.hash is not None and self.type != "string":
            raise ValueError("`hash` makes text: leave `type` out")
        if self.plus is not None and self.column is None:
            raise ValueError("`plus` moves a timestamp read from a `column`")
        return self

    def columns(self) -> list[str]:
        if self.template is not None:
            return [name for _text, name in template_parts(self.template) if name]
        if self.items is not None:
            return [c for value in self.items.values() for c in value.columns()]
        extra = self.plus.columns() if self.plus is not None else []
        return ([self.column] if self.column is not None else []) + extra


class EventName(_Strict):
    """The event name from a column; `values` maps raw values to event names."""

    column: str
    values: dict[str, str] | None = None
    unmapped: Literal["quarantine", "skip"] = "quarantine"


class Template(_Strict):
    """A message id: `column`, or `template` with `{column}` fields (`shop:order:{id}`)."""

    column: str | None = None
    template: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Template:
        if (self.column is None) == (self.template is None):
            raise ValueError("give exactly one of `column` or `template`")
        if self.template is not None and not self.columns():
            # A constant id would make every row the same event.
            raise ValueError(f"template {self.template!r} names no column")
        return self

    def parts(self) -> list[tuple[str, str | None]]:
        """Literal text and column names, in order: [("shop:order:", "id")]."""
        if self.column is not None:
            return [("", self.column)]
        assert self.template is not None
        return template_parts(self.template)

    def columns(self) -> list[str]:
        return [name for _text, name in self.parts() if name]


class Filter(_Strict):
    """Keep a row only when `column` equals a value, is (not) one of values, or is (not) empty."""

    column: str
    path: str | None = None
    """A key inside a column holding JSON, as for values."""
    equals: str | int | float | bool | None = None
    in_: list[str | int | float | bool] | None = Field(default=None, alias="in")
    not_in: list[str | int | float | bool] | None = None
    not_null: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Filter:
        tests = [self.equals, self.in_, self.not_in, self.not_null]
        if sum(test is not None for test in tests) != 1:
            raise ValueError("give exactly one of `equals`, `in`, `not_in` or `not_null`")
        if self.path is not None:
            json_path(self.path)
        return self


def _as_value(raw: Any) -> Any:
    """`total: price` is shorthand for `{column: price}`."""
    return {"column": raw} if isinstance(raw, str) else raw


class EventMapping(_Strict):
    """One event made from each row (that passes `where`)."""

    event: str | EventName
    type: Literal["track", "identify"] = "track"
    timestamp: Value | None = None
    message_id: Template | None = None
    user_id: Value | None = None
    anonymous_id: Value | None = None
    channel: Value | None = None
    where: list[Filter] = Field(default_factory=list)
    properties: dict[str, Value] = Field(default_factory=dict)
    group_by: list[str] = Field(default_factory=list)
    """Columns naming one event across rows (an order export with a row per line item): each
    value is the group's first non-empty one, `items` a list over the group's rows."""

    @field_validator("group_by", mode="before")
    @classmethod
    def _one_column(cls, raw: Any) -> Any:
        return [raw] if isinstance(raw, str) else raw

    @model_validator(mode="after")
    def _items_need_groups(self) -> EventMapping:
        for key, value in self.properties.items():
            if value.items is not None and not self.group_by:
                raise ValueError(f"properties.{key}: `items` needs `group_by` on the event")
        return self

    @field_validator("timestamp", "user_id", "anonymous_id", mode="before")
    @classmethod
    def _column_shorthand(cls, raw: Any) -> Any:
        return _as_value(raw)

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_constant(cls, raw: Any) -> Any:
        return {"value": raw} if isinstance(raw, str) else raw

    @field_validator("message_id", mode="before")
    @classmethod
    def _id_shorthand(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            return {"template": raw} if "{" in raw else {"column": raw}
        return raw

    @field_validator("properties", mode="before")
    @classmethod
    def _property_shorthand(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            return {key: _as_value(value) for key, value in raw.items()}
        return raw


class CsvOptions(_Strict):
    """Reader settings; each left out is detected by DuckDB's CSV sniffer."""

    delimiter: str | None = Field(default=None, min_length=1, max_length=4)
    quote: str | None = Field(default=None, max_length=1)
    encoding: Literal["utf-8", "utf-16", "latin-1"] | None = None


class JsonOptions(_Strict):
    """Reader settings for JSON: `records` names the key holding the list of objects."""

    records: str | None = Field(default=None, min_length=1)
    """`reviews` for `{"reviews": [{...}, ...]}` (an API response saved as a file)."""


class Mapping(_Strict):
    """A whole mapping file: defaults shared by its events, and the events."""

    name: str = "csv"
    """Label in the events' `source` (`import:<name>:<file>`) and default message ids."""
    description: str | None = None
    format: Literal["csv", "jsonl", "parquet"] | None = None
    csv: CsvOptions = Field(default_factory=CsvOptions)
    json_: JsonOptions = Field(default_factory=JsonOptions, alias="json")
    timestamp: Value | None = None
    user_id: Value | None = None
    anonymous_id: Value | None = None
    channel: Value | None = None
    events: list[EventMapping] = Field(min_length=1)

    @field_validator("timestamp", "user_id", "anonymous_id", mode="before")
    @classmethod
    def _column_shorthand(cls, raw: Any) -> Any:
        return _as_value(raw)

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_constant(cls, raw: Any) -> Any:
        return {"value": raw} if isinstance(raw, str) else raw

    @model_validator(mode="after")
    def _fill_defaults(self) -> Mapping:
        for index, event in enumerate(self.events):
            for key in ("timestamp", "user_id", "anonymous_id", "channel"):
                if getattr(event, key) is None:
                    setattr(event, key, getattr(self, key))
            if event.timestamp is None:
                raise ValueError(f"events.{index}.timestamp: every event needs a timestamp")
            if event.user_id is None and event.anonymous_id is None:
                raise ValueError(f"events.{index}: give user_id or anonymous_id")
        groups = {tuple(event.group_by) for event in self.events if event.group_by}
        if len(groups) > 1:
            raise ValueError("every event with `group_by` must group by the same columns")
        return self

    def columns_used(self) -> list[tuple[str, str]]:
        """(mapping key, column) for every column the mapping reads."""
        used: list[tuple[str, str]] = []
        for index, event in enumerate(self.events):
            prefix = f"events.{index}"
            if isinstance(event.event, EventName):
                used.append((f"{prefix}.event.column", event.event.column))
            for key in ("timestamp", "user_id", "anonymous_id", "channel"):
                value = getattr(event, key)
                if value is not None:
                    used += [(f"{prefix}.{key}", column) for column in value.columns()]
            if event.message_id is not None:
                used += [(f"{prefix}.message_id", c) for c in event.message_id.columns()]
            used += [(f"{prefix}.where.{i}.column", f.column) for i, f in enumerate(event.where)]
            used += [(f"{prefix}.group_by", column) for column in event.group_by]
            for key, value in event.properties.items():
                used += [(f"{prefix}.properties.{key}", column) for column in value.columns()]
        return used

    def group_keys(self) -> list[str]:
        """Columns whose equal values must be read in one batch (every event's `group_by`)."""
        return list(dict.fromkeys(c for event in self.events for c in event.group_by))

    def check_columns(self, columns: list[str], data_file: Path, origin: str) -> None:
        """A one-line error naming the mapping key and the absent column."""
        available = set(columns)
        for key, column in self.columns_used():
            if column not in available:
                shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
                raise MappingError(
                    f"{origin}: {key}: column {column!r} is not in {data_file} (columns: {shown})"
                )


def builtin_mappings() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


def load_mapping(spec: str | Path | dict[str, Any] | Mapping) -> tuple[Mapping, str]:
    """A mapping and where it came from: a YAML file, a built-in name, or a dict."""
    if isinstance(spec, Mapping):
        return spec, f"mapping {spec.name}"
    if isinstance(spec, dict):
        return _validate(spec, "mapping"), "mapping"
    path = Path(spec)
    if not path.exists() and path.suffix == "" and (BUILTIN_DIR / f"{path.name}.yaml").exists():
        path = BUILTIN_DIR / f"{path.name}.yaml"
        origin = f"built-in mapping {spec}"
    else:
        origin = str(path)
    if not path.exists():
        raise MappingError(
            f"{path}: no such mapping file (built-in mappings: {', '.join(builtin_mappings())})"
        )
    raw = read_yaml_object(path, origin, "a mapping must be a YAML object with an `events` list")
    return _validate(raw, origin), origin


def _validate(raw: dict[str, Any], origin: str) -> Mapping:
    return validate_mapping(Mapping, raw, origin)


__all__ = [
    "FORMATS",
    "EventMapping",
    "Filter",
    "JsonOptions",
    "Mapping",
    "Value",
    "json_path",
    "load_mapping",
]
