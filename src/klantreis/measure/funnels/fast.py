"""DuckDB fast path for the plain `ordered` funnel (no breakdown, exclusion or optional step).

Why by hand: the portable query sorts once per step; here DuckDB sorts each person's entries
once (an ordered `list()` aggregate) and a vectorised numpy pass walks the levels. It gives the
same numbers as the portable query (the tests check both against each other and ClickHouse) and
is what `benchmarks/funnel.py` measures against chDB's `windowFunnel`.

The pass relies on one property of the chains: within a person, the chain starts carried by
valid entries of a step never decrease along time, so "the latest start before this entry" is
simply the start of the last valid entry of the step before (a forward fill).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
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
# (time, step) packed in one integer: one sort key instead of two ordered lists.
_LISTS = """
SELECT person_id, list(ts * 64 + step ORDER BY ts * 64 + step) AS entries
FROM entries GROUP BY person_id
"""


@dataclass
class Walked:
    """Per person the furthest step, and per step the times of the first completions (µs)."""

    person_ids: pa.Array
    levels: np.ndarray
    from_previous: list[np.ndarray]
    from_first: list[np.ndarray]


def entries_query(spec: FunnelSpec, cut: exp.Expression) -> Query:
    if all(s.event is not None and not s.where for s in spec.steps):
        names = exp.values(
            [(s.event, j) for j, s in enumerate(spec.steps, start=1)],
            alias="t",
            columns=["event", "step"],
        )
        lists = fragment(_LISTS).with_("step_names", as_=exp.select("*").from_(names))
        return Query(lists.with_("entries", as_=fragment(_NAMED_ENTRIES, cut=cut)))
    parts = [
        fragment(_ENTRIES, step=j, cut=cut, cond=step.condition())
        for j, step in enumerate(spec.steps, start=1)
    ]
    union: exp.Expression = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return Query(fragment(_LISTS).with_("entries", as_=union))


def walk(spec: FunnelSpec, lists: pa.Table) -> Walked:
    """The windowFunnel walk over every person's sorted entries at once.

    Works on the positions of each step's entries only: for every entry of step j, a binary
    search finds the last valid entry of step j-1 before it; it extends that chain when both
    belong to the same person and the window allows.
    """
    n_steps = len(spec.steps)
    persons = lists.num_rows
    packed = lists.column("entries").combine_chunks()
    offsets = packed.offsets.to_numpy()
    keys = packed.values.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    ts = keys >> 6
    step = (keys & 63).astype(np.int8)

    def person_of(positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(offsets, positions, side="right") - 1

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
    return Walked(lists.column("person_id").combine_chunks(), levels, from_previous, from_first)


def run(engine: Engine, spec: FunnelSpec, cut: exp.Expression) -> Walked:
    return walk(spec, engine.fetch(entries_query(spec, cut)))
