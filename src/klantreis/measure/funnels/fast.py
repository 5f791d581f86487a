"""DuckDB fast path for the plain `ordered` funnel (no breakdown, exclusion or optional step).

Why by hand: the portable query sorts once per step; here DuckDB sorts all entries once, on
(hash of the person, time, step), exports three fixed-width columns, and a vectorised numpy pass
walks the levels. The hash only groups a person's entries together; it stands in for the person
id, whose text costs more to sort and export than the whole rest (at 100M events the sorted
export of the ids took 2.5× as long as that of the hashes). The hash is exact when the entries
hold as many distinct hashes as distinct person ids, which a second query counts; otherwise (two
persons, one hash) the entries are sorted on the ids themselves. Person ids are looked up from
the hashes only when the drop-offs are asked for.
It gives the same numbers as the portable query (the tests check both against each other and
ClickHouse) and is what `benchmarks/funnel.py` measures against chDB's `windowFunnel`.

The pass relies on one property of the chains: within a person, the chain starts carried by
valid entries of a step never decrease along time, so "the latest start before this entry" is
simply the start of the last valid entry of the step before (a forward fill).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from klantreis.measure.funnels.steps import FunnelSpec
from klantreis.measure.trees import fragment
from klantreis.store.engines.base import Engine
from klantreis.store.engines.duckdb import DuckDBEngine
from klantreis.store.query import Query, statement

_ENTRIES = """
SELECT person_id, epoch_us("timestamp") AS ts, :step AS step
FROM journey_events WHERE :cut AND :cond
"""
# Steps that are plain event names: one scan, joined to (event, step) so that a repeated name
# still gives one entry per step.
_NAMED_ENTRIES = """
SELECT e.person_id, epoch_us(e."timestamp") AS ts, s.step
FROM journey_events AS e JOIN step_names AS s ON s.event = e."event"
WHERE :cut
"""
# The person's hash groups its entries; equal times are taken in step order.
_SORTED = """
SELECT hash(person_id) AS person, ts, CAST(step AS UTINYINT) AS step
FROM entries ORDER BY person, ts, step
"""
# Exact grouping by person id: only when two persons share a hash.
_SORTED_BY_ID = """
SELECT person_id, ts, CAST(step AS UTINYINT) AS step
FROM entries ORDER BY person_id, ts, step
"""
# Distinct persons among the entries (a missing id counts as one person, as in GROUP BY).
_PERSONS = """
SELECT count(DISTINCT person_id) + CAST(count(*) > count(person_id) AS BIGINT) AS persons
FROM entries
"""
_IDS = """
SELECT DISTINCT hash(person_id) AS person, person_id FROM entries
"""


@dataclass
class Walked:
    """Per step the persons who reached it and the times of their first completions (µs).

    Persons are keys (hashes or row numbers), sorted; `person_ids` turns keys into ids.
    """

    reached: list[np.ndarray]
    from_previous: list[np.ndarray]
    from_first: list[np.ndarray]
    person_ids: Callable[[np.ndarray], pa.Array]


@dataclass
class Grouped:
    """Every entry in (person, time, step) order: a person key, the time (µs) and the step."""

    person: np.ndarray
    ts: np.ndarray
    step: np.ndarray
    person_ids: Callable[[np.ndarray], pa.Array]


def entries_query(spec: FunnelSpec, cut: exp.Expression, final: str | None = None) -> Query:
    """`final` (by default the hash-sorted entries) over every step entry as (person_id, ts,
    step)."""
    final = final or _SORTED  # looked up at call time (the collision test swaps it)
    if all(s.event is not None and not s.where for s in spec.steps):
        names = exp.values(
            [(s.event, j) for j, s in enumerate(spec.steps, start=1)],
            alias="t",
            columns=["event", "step"],
        )
        tree = statement(fragment(final)).with_("step_names", as_=exp.select("*").from_(names))
        return Query(tree.with_("entries", as_=fragment(_NAMED_ENTRIES, cut=cut)))
    parts = [
        fragment(_ENTRIES, step=j, cut=cut, cond=step.condition())
        for j, step in enumerate(spec.steps, start=1)
    ]
    union: exp.Expression = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return Query(statement(fragment(final)).with_("entries", as_=union))


def _numpy(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy()


def _id_changes(ids: pa.Array) -> np.ndarray:
    """Where the person id differs from the row before (a null equals only a null)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=bool)
    a, b = ids.slice(1), ids.slice(0, len(ids) - 1)
    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    differ = pc.fill_null(pc.not_equal(a, b), one_null)
    return np.concatenate(([True], differ.to_numpy(zero_copy_only=False)))


def _columns(engine: Engine, query: Query, names: tuple[str, ...]) -> list[np.ndarray]:
    """The result's columns as numpy arrays; on DuckDB straight from its result, without an
    Arrow table in between (one copy of every entry less: ~0.1 s of ~1 s at 10M events)."""
    if isinstance(engine, DuckDBEngine):
        columns = engine.connection.sql(query.sql("duckdb")).fetchnumpy()
        return [np.asarray(columns[name]) for name in names]
    table = engine.fetch(query)
    return [_numpy(table, name) for name in names]


def by_hash(engine: Engine, spec: FunnelSpec, cut: exp.Expression) -> Grouped:
    """The entries grouped by person hash (exact only if no two persons share a hash)."""
    person, ts, step = _columns(engine, entries_query(spec, cut), ("person", "ts", "step"))

    @cache
    def lookup() -> tuple[np.ndarray, pa.Array]:
        ids = engine.fetch(entries_query(spec, cut, _IDS)).sort_by("person")
        return _numpy(ids, "person"), ids.column("person_id").combine_chunks()

    def person_ids(keys: np.ndarray) -> pa.Array:
        known, ids = lookup()
        return ids.take(pa.array(np.searchsorted(known, keys)))

    return Grouped(person, ts, step, person_ids)


def by_id(engine: Engine, spec: FunnelSpec, cut: exp.Expression) -> Grouped:
    """The entries grouped by person id, each person keyed by its row number."""
    table = engine.fetch(entries_query(spec, cut, _SORTED_BY_ID))
    ids = table.column("person_id").combine_chunks()
    changes = _id_changes(ids)
    firsts = ids.take(pa.array(np.flatnonzero(changes)))
    rows = np.cumsum(changes, dtype=np.int64) - 1  # the person's row in `firsts`
    return Grouped(
        rows, _numpy(table, "ts"), _numpy(table, "step"), lambda keys: firsts.take(pa.array(keys))
    )


def _distinct(person: np.ndarray) -> int:
    """Distinct keys in a sorted array."""
    return int(np.count_nonzero(person[1:] != person[:-1])) + int(person.size > 0)


def _first_of_each(owner: np.ndarray) -> np.ndarray:
    """Where a run of equal person keys starts."""
    first = np.ones(owner.size, dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    return first


def walk(spec: FunnelSpec, entries: Grouped) -> Walked:
    """The windowFunnel walk over every person's sorted entries at once.

    Works on the positions of each step's entries only: for every entry of step j, a binary
    search finds the last valid entry of step j-1 before it; it extends that chain when both
    belong to the same person and the window allows.
    """
    person, ts, step = entries.person, entries.ts, entries.step
    valid = np.flatnonzero(step == 1)  # positions of valid entries of the previous step
    start: np.ndarray | None = None  # their chain starts; for step 1 their own times
    owner = person[valid]
    reached = [owner[_first_of_each(owner)]]
    from_previous: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    from_first: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    for j in range(2, len(spec.steps) + 1):
        here = np.flatnonzero(step == j)
        last = np.searchsorted(valid, here, side="right") - 1
        ok = last >= 0
        here, last = here[ok], last[ok]
        before = valid[last]
        owner, at = person[here], ts[here]
        chain = ts[before] if start is None else start[last]
        ok = (person[before] == owner) & (at <= chain + spec.window_us)
        here, before, owner, at, chain = here[ok], before[ok], owner[ok], at[ok], chain[ok]
        first = _first_of_each(owner)
        reached.append(owner[first])
        from_previous.append(at[first] - ts[before[first]])
        from_first.append(at[first] - chain[first])
        valid, start = here, chain
    return Walked(reached, from_previous, from_first, entries.person_ids)


def run(engine: Engine, spec: FunnelSpec, cut: exp.Expression) -> Walked:
    """The walk over the entries grouped by person hash, or by person id if two persons share a
    hash. The distinct ids are counted on a second cursor while numpy walks on one core (started
    after the sort, which has both cores to itself: faster than starting both at once)."""
    entries = by_hash(engine, spec, cut)
    with ThreadPoolExecutor(1) as pool:
        persons = pool.submit(engine.scalar, entries_query(spec, cut, _PERSONS))
        walked = walk(spec, entries)
        if _distinct(entries.person) == persons.result():
            return walked
    del entries, walked
    return walk(spec, by_id(engine, spec, cut))
