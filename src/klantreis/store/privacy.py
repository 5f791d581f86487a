"""Export and erasure of one person, everywhere the person is stored.

A person can be named by any of their ids (user id, anonymous id, stitched person id). The ids
are resolved through the model's `identities` table, and every table declared in
`store/schema.py` is searched by its person columns (`klantreis.privacy` imports every module
that declares one before calling in here, so the store never imports the stages above it),
and by its JSON arrays of person ids (`person_list_columns`). Quarantined rows are also matched
on their raw text, since an invalid row may not have parsed into columns at all.

Erasure deletes the rows, takes the person out of those arrays, lets each module forget what
it derived from the person beyond rows (`ErasureStep`: a voice model trained on their reviews),
and then rewrites the store file (`Store.rewrite`): DuckDB keeps deleted rows in freed blocks,
readable with `strings`, until the file is rewritten. When `erase_person` returns, no byte of
the person is left in the store's files; see docs/privacy.md for what lies outside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlglot import exp

from klantreis.store.engines.base import Engine
from klantreis.store.query import Query, identifier
from klantreis.store.schema import TABLES, TableSpec
from klantreis.store.store import REWRITE_PENDING, Store

MIN_RAW_MATCH = 6
"""Shorter ids are searched for in raw quarantine text only as a quoted JSON string."""


@dataclass
class PersonIds:
    person: str
    person_ids: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)

    @property
    def every(self) -> set[str]:
        return self.ids | self.person_ids


class Searched(Protocol):
    """What an erasure step asks whether the person fed it: a store, or a lake's files read as
    `events` (store/lake_privacy.py), where a shop on a lake keeps the events."""

    @property
    def engine(self) -> Engine: ...


@dataclass(frozen=True)
class ErasureStep:
    """Something a module keeps about persons beyond their rows, such as a trained model.

    `involved` is asked before the person's rows go (did this person feed it?), of the store
    and, on a lake, also of the lake's files (`Searched`); `forget` runs after they went, only
    then, and returns how many rows of `table` it changed or removed.
    """

    table: str
    involved: Callable[[Searched, PersonIds], bool]
    forget: Callable[[Store], int]


ERASURE_STEPS: dict[str, ErasureStep] = {}


def register_erasure_step(step: ErasureStep) -> ErasureStep:
    ERASURE_STEPS[step.table] = step
    return step


def stored_results_step(table: str) -> ErasureStep:
    """The erasure step of a table of stored results (a journey map, a page's figures): they
    counted every person's events and may quote their words, in a text with no person column to
    filter on, so any row involves the person and forgetting empties the table; the next
    request computes the results again from what remains."""

    def involved(searched: Searched, _who: PersonIds) -> bool:
        engine = searched.engine
        return engine.has_table(table) and bool(engine.scalar(f'SELECT count(*) FROM "{table}"'))  # noqa: S608

    def forget(store: Store) -> int:
        with store.write_lock:
            dropped = store.engine.scalar(f'SELECT count(*) FROM "{table}"')  # noqa: S608
            store.engine.execute(f'DELETE FROM "{table}"')  # noqa: S608
        return int(dropped or 0)

    return ErasureStep(table, involved, forget)


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


def _where(spec_columns: tuple[str, ...], values: set[str]) -> exp.Condition | None:
    if not spec_columns or not values:
        return None
    literal = exp.Tuple(expressions=[exp.convert(v) for v in sorted(values)])
    parts = [
        exp.In(this=exp.column(identifier(c)), expressions=literal.expressions)
        for c in spec_columns
    ]
    return exp.or_(*parts)


def _row_condition(
    name: str, who: PersonIds, spec: TableSpec | None = None
) -> exp.Condition | None:
    """Rows that are about the person (deleted by an erasure); `spec` for a table that is not
    declared (a lake's derived table only known by its columns)."""
    spec = spec or TABLES[name]
    parts: list[exp.Condition] = [
        p
        for p in (
            _where(spec.person_columns, who.ids),
            _where(spec.person_id_columns, who.person_ids),
        )
        if p is not None
    ]
    if name == "quarantine":
        for value in sorted(who.every):
            parts.append(exp.func("contains", exp.column("raw"), exp.convert(f'"{value}"')))
            if len(value) >= MIN_RAW_MATCH:
                parts.append(exp.func("contains", exp.column("raw"), exp.convert(value)))
    return exp.or_(*parts) if parts else None


def _list_condition(
    name: str, who: PersonIds, spec: TableSpec | None = None
) -> exp.Condition | None:
    """Rows whose JSON arrays name the person (kept by an erasure, without the person)."""
    parts = [
        exp.func("contains", exp.column(identifier(column)), exp.convert(json.dumps(value)))
        for column in (spec or TABLES[name]).person_list_columns
        for value in sorted(who.every)
    ]
    return exp.or_(*parts) if parts else None


def _tables(store: Store) -> list[str]:
    return [
        name
        for name, spec in TABLES.items()
        if (spec.person_columns or spec.person_id_columns or spec.person_list_columns)
        and store.engine.has_table(name)
    ]


def export_person(store: Store, person: str) -> dict[str, Any]:
    """Everything stored about a person, table by table."""
    return export_ids(store, resolve(store, person))


def export_ids(store: Store, who: PersonIds) -> dict[str, Any]:
    """`export_person` for ids already resolved."""
    out: dict[str, Any] = {
        "person": who.person,
        "person_ids": sorted(who.person_ids),
        "ids": sorted(who.ids),
        "tables": {},
    }
    for name in _tables(store):
        found = [c for c in (_row_condition(name, who), _list_condition(name, who)) if c]
        if not found:
            continue
        query = exp.select("*").from_(identifier(name)).where(exp.or_(*found))
        rows = store.engine.fetch(Query(query)).to_pylist()
        if rows:
            out["tables"][name] = rows
    return out


def _count(store: Store, name: str, condition: exp.Condition) -> int:
    query = exp.select("count(*)").from_(identifier(name)).where(condition)
    return int(store.engine.scalar(Query(query)) or 0)


def _take_out_of_lists(store: Store, name: str, who: PersonIds, condition: exp.Condition) -> int:
    """Rewrite each matching JSON array without the person's ids; returns rows changed."""
    columns = TABLES[name].person_list_columns
    query = exp.select("rowid", *[identifier(c) for c in columns]).from_(identifier(name))
    rows = store.engine.fetch(Query(query.where(condition))).to_pylist()
    for row in rows:
        for column in columns:
            names = json.loads(row[column] or "[]")
            kept = [n for n in names if n not in who.every] if isinstance(names, list) else []
            update = exp.Update(
                this=exp.Table(this=identifier(name)),
                expressions=[
                    exp.column(identifier(column)).eq(exp.convert(json.dumps(kept))),
                ],
                where=exp.Where(this=exp.column("rowid").eq(exp.convert(row["rowid"]))),
            )
            store.engine.execute(Query(update))
    return len(rows)


def erase_person(store: Store, person: str) -> dict[str, int]:
    """Remove a person from every table and the file itself; returns rows changed per table."""
    return erase_persons(store, [person])


def erase_persons(store: Store, persons: list[str]) -> dict[str, int]:
    """Remove persons from every table and the file itself; returns rows changed per table.

    One rewrite of the file serves them all, which is what makes a batch cheaper than one
    call per person. Holds the store's write and merge locks throughout: no collector append
    and no merge of staged events can slip a row of theirs in after its table was cleaned,
    and events arriving meanwhile wait for the locks rather than being lost.
    """
    return erase_ids(store, resolve_all(store, persons))


def resolve_all(store: Store, persons: list[str]) -> PersonIds:
    """All ids that belong to any of `persons`."""
    resolved = [resolve(store, person) for person in persons]
    return PersonIds(
        person=", ".join(persons),
        person_ids=set().union(*(r.person_ids for r in resolved)),
        ids=set().union(*(r.ids for r in resolved)),
    )


def erase_ids(
    store: Store, who: PersonIds, involved_elsewhere: frozenset[str] = frozenset()
) -> dict[str, int]:
    """`erase_persons` for ids already resolved; `involved_elsewhere` names erasure steps
    (`ERASURE_STEPS`) the person fed from events kept outside the store (a lake's files)."""
    changed: dict[str, int] = {}
    with store.write_lock, store.merge_lock:
        tables = _tables(store)
        rows = {n: c for n in tables if (c := _row_condition(n, who)) is not None}
        lists = {n: c for n in tables if (c := _list_condition(n, who)) is not None}
        steps = [
            step
            for step in ERASURE_STEPS.values()
            if store.engine.has_table(step.table)
            and (step.table in involved_elsewhere or step.involved(store, who))
        ]
        counts = {name: _count(store, name, condition) for name, condition in rows.items()}
        listed = {name: _count(store, name, condition) for name, condition in lists.items()}
        if not (any(counts.values()) or any(listed.values()) or steps):
            if store.get_meta(REWRITE_PENDING):
                store.rewrite()
            return counts
        store.set_meta(REWRITE_PENDING, "erasure")
        for name, condition in rows.items():
            if counts[name]:
                store.engine.execute(Query(exp.delete(identifier(name), where=condition)))
            changed[name] = counts[name]
        for name, condition in lists.items():
            if listed[name]:
                changed[name] = changed.get(name, 0) + _take_out_of_lists(
                    store, name, who, condition
                )
        for step in steps:
            changed[step.table] = changed.get(step.table, 0) + step.forget(store)
        store.set_meta("model_fingerprint", "")
        store.rewrite({name: condition.sql("duckdb") for name, condition in rows.items()})
    return changed
