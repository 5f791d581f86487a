"""The simulated shop made in several processes: ranges of persons and visitors side by side.

Every person's journey runs on a random stream of its own and the shop-wide draws are made up
front (`Plan`), so a range of persons can be simulated by any process; the one thing a person
takes from another (a household address, the family computer of the person before) is
recomputed for the first of a range (`Plan.previous`). Results come back in range order, so
the events, their order and the truth are those of one process (a test compares them). Pure
Python, so threads would not run side by side; the simulator is the demo's largest step
(about 14 µs of CPU per event).
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING

import pyarrow as pa

from klantreis.collect.simulator.catalogue import catalogue_table
from klantreis.collect.simulator.config import SimulatorConfig
from klantreis.collect.simulator.shop import CHUNK, Plan, Truth, _new_truth, truth_table

if TYPE_CHECKING:
    from klantreis.collect.simulator.shop import ShopStream

VISITOR_RANGE = 20 * CHUNK
"""Visitors per task: they make a few events each, so a range of them weighs about as much as
`CHUNK` persons."""

_plan: Plan | None = None


def _start(config: SimulatorConfig) -> None:
    global _plan
    _plan = Plan.of(config)
    # The worker's own process: the storytelling makes millions of short-lived containers
    # and the cyclic collector's passes over them cost about a tenth of its CPU. It collects
    # once per range instead (`_range`), so a cycle lives at most one range.
    gc.disable()
    threading.Thread(target=_leave_with_parent, args=(os.getppid(),), daemon=True).start()


def _leave_with_parent(parent: int) -> None:
    """A worker whose demo was killed would finish its range and then wait for ever to hand
    it over: it stops instead once its parent is gone."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _range(visitors: bool, lo: int, hi: int) -> tuple[list[pa.Table], Truth]:
    assert _plan is not None  # set by `_start` in every worker
    truth = _new_truth()
    make = _plan.visitors_of if visitors else _plan.persons
    chunks = list(make(lo, hi, truth))
    gc.collect()
    return chunks, truth


def simulate_in_processes(shop: ShopStream, workers: int) -> Iterator[pa.Table]:
    """The chunks of `shop` from `workers` processes, in the order one process makes them;
    sets `shop.truth` and `shop.products` at the end. At most two ranges per worker wait in
    memory, so a slow reader holds the workers back instead of piling up events."""
    config = shop.config
    plan = Plan.of(config)
    shop.products = catalogue_table(plan.catalogue.products)
    n, total = config.persons, config.persons + plan.visitors
    tasks = [(False, lo, min(n, lo + CHUNK)) for lo in range(0, n, CHUNK)]
    tasks += [
        (True, lo, min(plan.visitors, lo + VISITOR_RANGE))
        for lo in range(0, plan.visitors, VISITOR_RANGE)
    ]
    truth = _new_truth()
    waiting: deque[tuple[tuple[bool, int, int], Future[tuple[list[pa.Table], Truth]]]] = deque()
    # spawn, not fork: the parent has DuckDB's and the progress display's threads running
    context = get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start, initargs=(config,)
    ) as pool:
        queue = iter(tasks)
        for task in queue:
            waiting.append((task, pool.submit(_range, *task)))
            if len(waiting) >= 2 * workers:
                break
        while waiting:
            (visitors, _, hi), future = waiting.popleft()
            chunks, part = future.result()
            for task in queue:
                waiting.append((task, pool.submit(_range, *task)))
                break
            for name, values in part.items():
                truth[name].extend(values)
            yield from chunks
            if shop.progress is not None:
                shop.progress(n + hi if visitors else hi, total)
    shop.truth = truth_table(truth)
