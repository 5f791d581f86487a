"""DuckDB fast path for the plain `ordered` funnel (no breakdown, exclusion or optional step).

Why by hand: the portable query sorts once per step; here DuckDB sorts all entries once, on
(hash of the person, packed time and step), and a vectorised numpy pass walks the levels. One flat
sort on fixed-width keys costs about half of a per-person ordered `list()` aggregate and its
nested Arrow export; the hash only groups a person's entries together, and a collision (two
persons, one hash) is detected on the person ids and answered by an exact sort on the ids.
It gives the same numbers as the portable query (the tests check both against each other and
ClickHouse) and is what `benchmarks/funnel.py` measures against chDB's `windowFunnel`.

The pass relies on one property of the chains: within a person, the chain starts carried by
valid entries of a step never decrease along time, so "the latest start before this entry" is
simply the start of the last valid entry of the step before (a forward fill).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from klantreis.measure.funnels.steps import FunnelSpec
from klantreis.measure.trees import fragment
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query

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
# (time, step) packed in one integer; the person's hash groups its entries (fixed-width sort key).
_SORTED = """
SELECT person_id, ts * 64 + step AS entry FROM entries ORDER BY hash(person_id), entry
"""
# Exact grouping by person id: only when two persons share a hash.
_SORTED_BY_ID = """
SELECT person_id, ts * 64 + step AS entry FROM entries ORDER BY person_id, entry
"""


@dataclass
class Walked:
    """Per person the furthest step, and per step the times of the first completions (µs)."""

    person_ids: pa.Array
    levels: np.ndarray
    from_previous: list[np.ndarray]
    from_first: list[np.ndarray]


def entries_query(spec: FunnelSpec, cut: exp.Expression, *, by_id: bool = False) -> Query:
    """Every step entry as (person_id, entry), sorted by person then time and step."""
    sort = _SORTED_BY_ID if by_id else _SORTED
    if all(s.event is not None and not s.where for s in spec.steps):
        names = exp.values(
            [(s.event, j) for j, s in enumerate(spec.steps, start=1)],
            alias="t",
            columns=["event", "step"],
        )
        sorted_ = fragment(sort).with_("step_names", as_=exp.select("*").from_(names))
        return Query(sorted_.with_("entries", as_=fragment(_NAMED_ENTRIES, cut=cut)))
    parts = [
        fragment(_ENTRIES, step=j, cut=cut, cond=step.condition())
        for j, step in enumerate(spec.steps, start=1)
    ]
    union: exp.Expression = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return Query(fragment(sort).with_("entries", as_=union))


def _id_changes(ids: pa.Array) -> np.ndarray:
    """Where the person id differs from the row before (a null equals only a null)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=bool)
    a, b = ids.slice(1), ids.slice(0, len(ids) - 1)
    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    differ = pc.fill_null(pc.not_equal(a, b), one_null)
    return np.concatenate(([True], differ.to_numpy(zero_copy_only=False)))


def grouped(
    engine: Engine, spec: FunnelSpec, cut: exp.Expression
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(person ids, offsets of each person's first entry, packed entries) in person order.

    Sorted by hash, a person's entries are contiguous unless two persons share a hash and their
    entries interleave; then some id starts two runs, which the distinct count reveals.
    """
    for by_id in (False, True):
        table = engine.fetch(entries_query(spec, cut, by_id=by_id))
        ids = table.column("person_id").combine_chunks()
        offsets = np.flatnonzero(_id_changes(ids))
        firsts = ids.take(pa.array(offsets))
        if by_id or pc.count_distinct(firsts, mode="all").as_py() == len(firsts):
            break
    keys = table.column("entry").combine_chunks().to_numpy(zero_copy_only=False)
    return firsts, offsets, keys.astype(np.int64, copy=False)


def walk(spec: FunnelSpec, person_ids: pa.Array, offsets: np.ndarray, keys: np.ndarray) -> Walked:
    """The windowFunnel walk over every person's sorted entries at once.

    Works on the positions of each step's entries only: for every entry of step j, a binary
    search finds the last valid entry of step j-1 before it; it extends that chain when both
    belong to the same person and the window allows.
    """
    n_steps = len(spec.steps)
    persons = len(offsets)
    ts = keys >> 6
    step = (keys & 63).astype(np.int8)

    starts = np.zeros(keys.size, dtype=np.int32)
    starts[offsets[1:]] = 1
    owners = np.cumsum(starts, dtype=np.int32)  # the person (row of `offsets`) of each entry

    def person_of(positions: np.ndarray) -> np.ndarray:
        return owners[positions]

    valid = np.flatnonzero(step == 1)  # positions of valid entries of the previous step
    start = ts[valid]  # their chain starts
    levels = np.zeros(persons, dtype=np.int16)
    levels[person_of(valid)] = 1
    from_previous: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    from_first: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    for j in range(2, n_steps + 1):
        here = np.flatnonzero(step == j)
        last = np.searchsorted(valid, here, side="right") - 1
        ok = last >= 0
        here, last = here[ok], last[ok]
        owner = person_of(here)
        before = valid[last]
        ok = (before >= offsets[owner]) & (ts[here] <= start[last] + spec.window_us)
        here, last, owner, before = here[ok], last[ok], owner[ok], before[ok]
        first = np.ones(here.size, dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        levels[owner[first]] = j
        from_previous.append(ts[here[first]] - ts[before[first]])
        from_first.append(ts[here[first]] - start[last[first]])
        valid, start = here, start[last]
    return Walked(person_ids, levels, from_previous, from_first)


def run(engine: Engine, spec: FunnelSpec, cut: exp.Expression) -> Walked:
    return walk(spec, *grouped(engine, spec, cut))
