"""What opening cases and measuring recovery cost, on a simulated shop.

    python benchmarks/cases.py [--persons 4000] [--repeat 3]

The shop is simulated, stored, its model built and its expectations judged once (not timed).
Then: the first opening of cases over the last 60 days (every signal is new), and per run a
routine pass that finds nothing new (what the server pays every five minutes) and
`kr.recovery()`. The baseline, measured in the same run, is one scan of `journey_events`
(`count(DISTINCT person_id)` per event name): the floor for reading the events once. DuckDB
is held to 6 GB.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

import klantreis
from klantreis.act.cases.opening import open_cases
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.expectations.cases import ensure_cases

BASELINE = "SELECT event, count(DISTINCT person_id) FROM journey_events GROUP BY event"


def machine() -> str:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, "
        f"load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}"
    )


def timed(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        kr = klantreis.open(Path(folder) / "shop.duckdb")
        kr.store.connection.execute("SET memory_limit = '6GB'")
        for batch in simulate(SimulatorConfig(persons=args.persons, seed=7)).iter_batches(50_000):
            kr.store.append(batch)
        ensure_cases(kr)
        events = kr.engine.scalar("SELECT count(*) FROM journey_events")
        print(f"input: {args.persons:,} simulated persons, {events:,} journey events")
        started = time.perf_counter()
        first = open_cases(kr, judge=False, max_age_days=60)
        print(f"first opening: {time.perf_counter() - started:.2f} s, {first.total:,} cases")
        baseline = timed(lambda: kr.engine.fetch(BASELINE), args.repeat)
        routine = timed(lambda: open_cases(kr, judge=False, max_age_days=60), args.repeat)
        recovery = timed(kr.recovery, args.repeat)
        print(f"baseline (one scan of journey_events): median {baseline:.3f} s")
        print(f"routine pass, nothing new: median {routine:.3f} s ({routine / baseline:.1f}x)")
        print(f"recovery: median {recovery:.3f} s ({recovery / baseline:.1f}x)")
        kr.close()


if __name__ == "__main__":
    main()
