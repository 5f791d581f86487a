"""Export and erasure of one person, everywhere the person is stored.

A person can be named by any of their ids (user id, anonymous id, stitched person id). The ids
are resolved through the model's `identities` table, and every table the caller passes (all of
them: `klantreis.privacy` collects the declarations of every stage) is searched by its person
columns.
Quarantined rows are also matched on their raw text, since an invalid row may not have parsed
into columns at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from klantreis.store.query import Query, identifier
from klantreis.store.schema import TableSpec
from klantreis.store.store import Store

MIN_RAW_MATCH = 6
"""Shorter ids are searched for in raw quarantine text only as a quoted JSON string."""


@dataclass
class PersonIds:
    person: str
    person_ids: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)


def resolve(store: Store, person: str) -> PersonIds:
    """All ids that belong to the person named by `person`."""
    found = PersonIds(person=person, ids={person})
    engine = store.engine
    if engine.has_table("identities"):
        rows = engine.rows(
            "SELECT DISTINCT person_id FROM identities WHERE id = :p OR person_id = :p", p=person
        )
        found.person_ids = {r["person_id"] for r in rows}
        if found.person_ids:
            ids = engine.rows(
                "SELECT id FROM identities WHERE person_id IN :persons",
                persons=sorted(found.person_ids),
            )
            found.ids |= {r["id"] for r in ids}
    if not found.person_ids:
        found.person_ids = {person}
    return found


def _where(spec_columns: tuple[str, ...], values: set[str]) -> exp.Expression | None:
    if not spec_columns or not values:
        return None
    literal = exp.Tuple(expressions=[exp.convert(v) for v in sorted(values)])
    parts = [
        exp.In(this=exp.column(identifier(c)), expressions=literal.expressions)
        for c in spec_columns
    ]
    return exp.or_(*parts)


def _condition(spec: TableSpec, who: PersonIds) -> exp.Expression | None:
    name = spec.name
    parts = [
        p
        for p in (
            _where(spec.person_columns, who.ids),
            _where(spec.person_id_columns, who.person_ids),
        )
        if p is not None
    ]
    if name == "quarantine":
        for value in sorted(who.ids | who.person_ids):
            parts.append(exp.func("contains", exp.column("raw"), exp.convert(f'"{value}"')))
            if len(value) >= MIN_RAW_MATCH:
                parts.append(exp.func("contains", exp.column("raw"), exp.convert(value)))
    return exp.or_(*parts) if parts else None


def _tables(store: Store, tables: Mapping[str, TableSpec]) -> list[TableSpec]:
    return [
        spec
        for name, spec in tables.items()
        if (spec.person_columns or spec.person_id_columns) and store.engine.has_table(name)
    ]


def export_person(store: Store, person: str, tables: Mapping[str, TableSpec]) -> dict[str, Any]:
    """Everything stored about a person, table by table."""
    who = resolve(store, person)
    out: dict[str, Any] = {
        "person": person,
        "person_ids": sorted(who.person_ids),
        "ids": sorted(who.ids),
        "tables": {},
    }
    for spec in _tables(store, tables):
        name = spec.name
        condition = _condition(spec, who)
        if condition is None:
            continue
        query = exp.select("*").from_(identifier(name)).where(condition)
        rows = store.engine.fetch(Query(query)).to_pylist()
        if rows:
            out["tables"][name] = rows
    return out


def erase_person(store: Store, person: str, tables: Mapping[str, TableSpec]) -> dict[str, int]:
    """Delete every row about a person; returns rows removed per table."""
    who = resolve(store, person)
    removed: dict[str, int] = {}
    # Both locks: no collector append and no merge of staged events may slip a row of this
    # person into a table after it was cleaned.
    with store.write_lock, store.merge_lock:
        for spec in _tables(store, tables):
            name = spec.name
            condition = _condition(spec, who)
            if condition is None:
                continue
            count_query = exp.select("count(*)").from_(identifier(name)).where(condition)
            count = int(store.engine.scalar(Query(count_query)) or 0)
            if count:
                delete = exp.delete(identifier(name), where=condition)
                store.engine.execute(Query(delete))
            removed[name] = count
        store.set_meta("model_fingerprint", "")
    return removed
