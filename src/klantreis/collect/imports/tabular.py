"""A mapping compiled into two queries over a batch of rows: its events and its rejects.

Per mapped event, a row either becomes a canonical event (every check passes) or a quarantine
row naming the first column that failed and why; rows a filter leaves out become nothing. Both
queries are built once per import as SQLGlot trees and run on every batch of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from klantreis.collect.imports.convert import (
    Converted,
    cast,
    col,
    convert,
    fn,
    is_null,
    lit,
    not_null,
    null,
    text,
)
from klantreis.collect.imports.convert import template as convert_template
from klantreis.collect.imports.mapping import (
    EventMapping,
    EventName,
    Filter,
    Mapping,
    Template,
    Value,
    json_path,
)
from klantreis.collect.imports.readers import LINE_COLUMN
from klantreis.collect.vocabulary import default_channel
from klantreis.store.schema import EVENT_COLUMNS

BATCH_TABLE = "klantreis_batch"
GROUPS_TABLE = "klantreis_groups"


@dataclass(frozen=True)
class Check:
    """A reason a row cannot become this event: `invalid` true means quarantine."""

    invalid: exp.Expr
    column: str
    reason: exp.Expr


@dataclass(frozen=True)
class CompiledMapping:
    events_sql: str
    quarantine_sql: str


def compile_mapping(
    mapping: Mapping, columns: dict[str, str], *, source: str, file: str, received_at: datetime
) -> CompiledMapping:
    """The events query and the quarantine query for batches of this file."""
    event_selects, quarantine_selects = [], []
    grouped = [(index, e) for index, e in enumerate(mapping.events) if e.group_by]
    groups, group_columns = grouped_frame(grouped, columns) if grouped else (None, columns)
    for index, event in enumerate(mapping.events):
        frame: exp.Expr = exp.to_table(GROUPS_TABLE if event.group_by else BATCH_TABLE)
        frame_columns = group_columns if event.group_by else columns
        raw = _raw_row(columns)
        keep, checks, row = _event(index, event, frame_columns, raw, mapping.name)
        valid = exp.Not(this=exp.Paren(this=exp.or_(*[c.invalid for c in checks])))
        values = {
            **row,
            "received_at": cast(lit(received_at.isoformat(sep=" ")), "TIMESTAMP"),
            "source": lit(source),
        }
        event_selects.append(
            exp.select(*[_alias(values.get(name, null()), name, t) for name, t in EVENT_COLUMNS])
            .from_(frame)
            .where(exp.and_(keep, valid))
        )
        first_failed = exp.Case(ifs=[exp.If(this=c.invalid, true=lit(c.column)) for c in checks])
        reason = exp.Case(ifs=[exp.If(this=c.invalid, true=c.reason) for c in checks])
        line = col(LINE_COLUMN)
        quarantine_id = fn(
            "md5",
            exp.DPipe(
                this=lit(f"{source}|{file}|{index}|"),
                expression=cast(line, "VARCHAR"),
                safe=True,
            ),
        )
        quarantine_selects.append(
            exp.select(
                exp.alias_(quarantine_id, "quarantine_id"),
                exp.alias_(values["received_at"], "received_at"),
                exp.alias_(lit(source), "source"),
                exp.alias_(lit(file), "file"),
                exp.alias_(line, "line"),
                exp.alias_(first_failed, "column_name"),
                exp.alias_(reason, "reason"),
                exp.alias_(cast(raw, "VARCHAR"), "raw"),
                exp.alias_(row["message_id"], "message_id"),
                exp.alias_(row.get("user_id", null()), "user_id"),
                exp.alias_(row.get("anonymous_id", null()), "anonymous_id"),
            )
            .from_(frame)
            .where(exp.and_(keep, exp.Not(this=valid)))
        )
    return CompiledMapping(_union(event_selects, groups), _union(quarantine_selects, groups))


def _event(
    index: int, event: EventMapping, columns: dict[str, str], raw: exp.Expr, mapping_name: str
) -> tuple[exp.Expr, list[Check], dict[str, exp.Expr]]:
    keep: list[exp.Expr] = [_filter(f, columns) for f in event.where]
    checks: list[Check] = []

    if isinstance(event.event, EventName):
        name, name_column = _mapped_name(event.event, columns)
        if event.event.values is not None and event.event.unmapped == "skip":
            keep.append(not_null(name))
        else:
            reason = exp.DPipe(
                this=lit("no event name for value: "),
                expression=cast(fn("to_json", text(col(name_column), "VARCHAR")), "VARCHAR"),
                safe=True,
            )
            checks.append(Check(is_null(name), name_column, reason))
    else:
        name = lit(event.event)

    for key in event.group_by:
        checks.append(Check(is_null(col(key)), key, lit(f"missing {key} (group_by)")))

    assert event.timestamp is not None  # filled from the defaults by the mapping
    timestamp = convert(event.timestamp, columns, as_type="timestamp")
    checks += _required(timestamp, "missing timestamp")

    message_id, id_column = _message_id(event.message_id, columns, name, raw, mapping_name)
    checks.append(Check(is_null(message_id), id_column, lit("missing message id")))

    ids = {
        key: convert(spec, columns, as_type="string")
        for key, spec in (("user_id", event.user_id), ("anonymous_id", event.anonymous_id))
        if spec is not None
    }
    user_column = next((c.column for c in ids.values() if c.column), "user_id")
    checks.append(
        Check(
            exp.and_(*[is_null(c.value) for c in ids.values()]),
            user_column,
            lit("missing user id (" + " and ".join(ids) + ")"),
        )
    )

    channel = convert(event.channel, columns, as_type="string") if event.channel else None
    properties: list[exp.Expr] = []
    for key, spec in event.properties.items():
        if spec.items is not None:
            checks += _item_checks(index, key, spec)
            properties += [lit(key), cast(col(_items_column(index, key)), "JSON")]
            continue
        converted = convert(spec, columns)
        checks += _type_check(converted)
        value = converted.value
        if spec.type == "timestamp":
            value = fn("strftime", value, lit("%Y-%m-%dT%H:%M:%S"))
        properties += [lit(key), value]
    payload = cast(fn("json_object", *properties), "VARCHAR")

    row = {
        "message_id": message_id,
        "type": lit(event.type),
        "event": name if event.type == "track" else lit("Identify"),
        "user_id": ids["user_id"].value if "user_id" in ids else null(),
        "anonymous_id": ids["anonymous_id"].value if "anonymous_id" in ids else null(),
        "timestamp": timestamp.value,
        # An empty channel cell falls back to the event's channel in the vocabulary.
        "channel": fn("coalesce", channel.value, _default_channel(event, name))
        if channel
        else _default_channel(event, name),
        "properties" if event.type == "track" else "traits": payload,
    }
    return exp.and_(*keep) if keep else exp.true(), checks, row


def _items_column(index: int, key: str) -> str:
    return f"__items:{index}:{key}"


def _bad_item_column(index: int, key: str, item: str) -> str:
    return f"__bad:{index}:{key}:{item}"


def grouped_frame(
    events: list[tuple[int, EventMapping]], columns: dict[str, str]
) -> tuple[exp.Select, dict[str, str]]:
    """The batch with one row per group, computed once for every grouped event: each
    column's first non-empty value in file order, the group's first line, and per `items`
    property the JSON list of its rows' objects (with the first bad cell of each item column).

    A row whose group key is empty stays a group of its own, so it is quarantined by its line.
    """
    keys = events[0][1].group_by  # the mapping checks every grouped event uses the same
    line = col(LINE_COLUMN)
    selects: list[exp.Expr] = []
    frame_columns = dict(columns)
    for name in columns:
        if name in keys:
            selects.append(col(name))
        else:
            first = exp.Filter(
                this=fn("arg_min", col(name), line), expression=exp.Where(this=not_null(col(name)))
            )
            selects.append(exp.alias_(first, name, quoted=True))
    selects.append(exp.alias_(fn("min", line), LINE_COLUMN, quoted=True))
    for index, event in events:
        for key, spec in event.properties.items():
            if spec.items is not None:
                items, hidden = _items(index, key, spec.items, columns)
                selects += items
                frame_columns |= dict.fromkeys(hidden, "VARCHAR")
    alone = exp.Case(ifs=[exp.If(this=exp.or_(*[is_null(col(k)) for k in keys]), true=line)])
    frame = exp.select(*selects).from_(BATCH_TABLE).group_by(*[col(k) for k in keys], alone)
    return frame, frame_columns


def _items(
    index: int, key: str, items: dict[str, Value], columns: dict[str, str]
) -> tuple[list[exp.Expr], list[str]]:
    """The aggregates of one `items` property: its list, and the first bad cell per column."""
    line = col(LINE_COLUMN)
    selects: list[exp.Expr] = []
    fields: list[exp.Expr] = []
    present: list[exp.Expr] = []
    for item, value_spec in items.items():
        converted = convert(value_spec, columns)
        value = converted.value
        if value_spec.type == "timestamp":
            value = fn("strftime", value, lit("%Y-%m-%dT%H:%M:%S"))
        fields += [lit(item), value]
        if converted.raw is not None:
            present.append(not_null(converted.raw))
        if converted.invalid is not None and converted.reason is not None:
            bad = exp.Filter(
                this=fn("arg_min", converted.reason, line),
                expression=exp.Where(this=converted.invalid),
            )
            selects.append(exp.alias_(bad, _bad_item_column(index, key, item), quoted=True))
    ordered: exp.Expr = exp.ArrayAgg(
        this=exp.Order(this=fn("json_object", *fields), expressions=[exp.Ordered(this=line)])
    )
    if present:
        ordered = exp.Filter(this=ordered, expression=exp.Where(this=exp.or_(*present)))
    listed = fn("coalesce", cast(fn("to_json", ordered), "VARCHAR"), lit("[]"))
    selects.append(exp.alias_(listed, _items_column(index, key), quoted=True))
    hidden = [_items_column(index, key)] + [
        _bad_item_column(index, key, item) for item in items if _can_fail(items[item])
    ]
    return selects, hidden


def _can_fail(spec: Value) -> bool:
    return spec.type != "string" and spec.column is not None


def _item_checks(index: int, key: str, spec: Value) -> list[Check]:
    """A bad cell in any row of the group quarantines the grouped event, naming the column."""
    assert spec.items is not None
    checks = []
    for item, value_spec in spec.items.items():
        if not _can_fail(value_spec):
            continue
        bad = col(_bad_item_column(index, key, item))
        checks.append(Check(not_null(bad), value_spec.column or item, bad))
    return checks


def _default_channel(event: EventMapping, name: exp.Expr) -> exp.Expr:
    """The vocabulary's channel for the event name (`Order Shipped` -> carrier), else web."""
    if isinstance(event.event, str):
        return lit(default_channel(event.event) or "web")
    if event.event.values is None:
        return lit("web")
    ifs = [
        exp.If(this=exp.EQ(this=name, expression=lit(value)), true=lit(default_channel(value)))
        for value in sorted(set(event.event.values.values()))
        if default_channel(value)
    ]
    return exp.Case(ifs=ifs, default=lit("web")) if ifs else lit("web")


def _required(converted: Converted, missing: str) -> list[Check]:
    checks = []
    if converted.column is not None:
        cell = converted.raw if converted.raw is not None else col(converted.column)
        checks.append(Check(is_null(cell), converted.column, lit(missing)))
    checks += _type_check(converted)
    if converted.column is not None:  # e.g. a `plus` duration that is empty
        checks.append(Check(is_null(converted.value), converted.column, lit(missing)))
    return checks


def _type_check(converted: Converted) -> list[Check]:
    if converted.invalid is None or converted.reason is None or converted.column is None:
        return []
    return [Check(converted.invalid, converted.column, converted.reason)]


def _mapped_name(spec: EventName, columns: dict[str, str]) -> tuple[exp.Expr, str]:
    value = text(col(spec.column), columns.get(spec.column, "VARCHAR"))
    if spec.values is None:
        return value, spec.column
    ifs = [
        exp.If(this=exp.EQ(this=value, expression=lit(raw)), true=lit(name))
        for raw, name in spec.values.items()
    ]
    return exp.Case(ifs=ifs), spec.column


def _message_id(
    spec: Template | None,
    columns: dict[str, str],
    name: exp.Expr,
    raw: exp.Expr,
    mapping_name: str,
) -> tuple[exp.Expr, str]:
    """The id a re-import recognises: from the mapping, or a hash of the row's content."""
    if spec is None:
        digest = fn("md5", exp.DPipe(this=name, expression=cast(raw, "VARCHAR"), safe=True))
        return exp.DPipe(this=lit(f"{mapping_name}:"), expression=digest, safe=True), "message_id"
    value = (
        convert_template(spec.template, columns)
        if spec.template
        else text(col(spec.column or ""), columns.get(spec.column or "", "VARCHAR"))
    )
    return value, spec.columns()[0] if spec.columns() else "message_id"


def _filter(spec: Filter, columns: dict[str, str]) -> exp.Expr:
    value = text(col(spec.column), columns.get(spec.column, "VARCHAR"))
    if spec.path is not None:
        value = fn("json_extract_string", value, lit(json_path(spec.path)))
    if spec.not_null is not None:
        return not_null(value) if spec.not_null else is_null(value)
    if spec.in_ is not None:
        return exp.In(this=value, expressions=[lit(_as_text(v)) for v in spec.in_])
    if spec.not_in is not None:
        # A row whose column is empty is not "in" the list either.
        inside = exp.In(this=value, expressions=[lit(_as_text(v)) for v in spec.not_in])
        return exp.or_(is_null(value), exp.Not(this=exp.Paren(this=inside)))
    return exp.EQ(this=value, expression=lit(_as_text(spec.equals)))


def _as_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _raw_row(columns: dict[str, str]) -> exp.Expr:
    """The row as a JSON object (kept in the quarantine, and the default id's content)."""
    args: list[exp.Expr] = []
    for name in columns:
        args += [lit(name), col(name)]
    return fn("json_object", *args)


def _alias(value: exp.Expr, name: str, sql_type: str) -> exp.Expr:
    return exp.alias_(cast(value, sql_type), name)


def _union(selects: list[exp.Select], groups: exp.Select | None) -> str:
    tree: exp.Query = selects[0]
    for select in selects[1:]:
        tree = exp.union(tree, select, distinct=False)
    if groups is not None:  # one grouping of the batch for every grouped event
        tree = tree.with_(GROUPS_TABLE, as_=groups, materialized=True)
    return tree.sql(dialect="duckdb")
