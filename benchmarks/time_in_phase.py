"""The journey map's time in phase at shop scale: its query against the floor, same process.

The map reads time in phase from the `time_in_phase` analysis (the sum of a journey's stays in
a phase: one window over every journey event, sorted by journey, time and phase). This
times it against the map's earlier query (from a phase's first event to the first event of the
phase entered next, which gave 0 s to a phase met out of order) and the floor
`count(DISTINCT person_id)` by event over `journey_events`, interleaved, medians of `--runs`;
wall and CPU seconds of this process (DuckDB's threads included).

    python benchmarks/time_in_phase.py STORE [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable

from sqlglot import exp

import klantreis
from klantreis.measure.phase_flow import run_time_in_phase
from klantreis.store.query import Query

EARLIER = """
WITH jp AS (
    SELECT journey_id, phase, phase_index, min(timestamp) AS first_at, max(timestamp) AS last_at
    FROM journey_events GROUP BY journey_id, phase, phase_index
),
timed AS (
    SELECT *, lead(first_at) OVER (PARTITION BY journey_id ORDER BY first_at, phase_index)
              AS next_first_at
    FROM jp
)
SELECT phase, median(date_diff('second', first_at, coalesce(next_first_at, last_at))) AS m
FROM timed GROUP BY phase
"""
FLOOR = "SELECT event, count(DISTINCT person_id) FROM journey_events GROUP BY event"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    cpu, started = _cpu(), time.perf_counter()
    call()
    return time.perf_counter() - started, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{platform.platform()} | cpus {os.cpu_count()} | load {os.getloadavg()[0]:.1f} "
        f"| runs {args.runs}"
    )
    with klantreis.open(args.store, read_only=True) as kr:
        events = kr.engine.scalar("SELECT count(*) FROM journey_events")
        print(f"journey events: {events:,}")
        steps: dict[str, Callable[[], object]] = {
            "floor: count(DISTINCT person) by event": lambda: kr.engine.rows(Query(FLOOR)),
            "earlier map query (phase entered next)": lambda: kr.engine.rows(Query(EARLIER)),
            "time in phase (stays)": lambda: run_time_in_phase(kr.engine, exp.true()),
        }
        found: dict[str, list[tuple[float, float]]] = {name: [] for name in steps}
        for _ in range(args.runs):
            for name, step in steps.items():
                found[name].append(_timed(step))
    floor = statistics.median(cpu for _, cpu in found[next(iter(steps))])
    print(f"{'step':42} {'wall s':>8} {'CPU s':>8} {'× floor CPU':>12}")
    for name, runs in found.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:42} {wall:8.2f} {cpu:8.2f} {cpu / floor:12.1f}")


if __name__ == "__main__":
    main()
