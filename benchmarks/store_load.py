"""Storing a simulated shop into a store without events: batch appends against the bulk load.

Prints the machine and load, then for one simulated shop (kept in memory, so only the store's
work is timed) the median wall and CPU seconds of three runs, alternating, each into a new
store file:

- `append` in batches of 20,000 (what the demo did): every row checked against and inserted
  into the message-id key (DuckDB's ART index) as it arrives;
- `append_many` (the bulk load of a store without events): rows in without the key, repeats
  removed, the key built once;
- the floor: the same rows inserted into a table without any key (what writing them costs).

    python benchmarks/store_load.py                # 5,000 persons (~0.9M events)
    python benchmarks/store_load.py --persons 1000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.store import Store
from klantreis.store.schema import EVENTS


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.platform()} | Python {sys.version.split()[0]} | {os.cpu_count()} CPUs | "
        f"duckdb {duckdb.__version__} | load {load}"
    )


def batches(events: pa.Table, path: Path) -> None:
    with Store(path) as store:
        for offset in range(0, events.num_rows, 20_000):
            store._append(events.slice(offset, 20_000))
        store.connection.execute("CHECKPOINT")


def bulk(events: pa.Table, path: Path) -> None:
    with Store(path) as store:
        store.append_many(
            events.slice(offset, 20_000) for offset in range(0, events.num_rows, 20_000)
        )
        store.connection.execute("CHECKPOINT")


def floor(events: pa.Table, path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute(EVENTS.create_sql(key=False))
    for offset in range(0, events.num_rows, 20_000):
        con.register("b", events.slice(offset, 20_000))
        con.execute("INSERT INTO events SELECT * FROM b")
        con.unregister("b")
    con.execute("CHECKPOINT")
    con.close()


def timed(
    run: Callable[[pa.Table, Path], None], events: pa.Table, folder: Path
) -> tuple[float, float]:
    path = folder / f"{run.__name__}-{time.monotonic_ns()}.duckdb"
    started, cpu = time.perf_counter(), time.process_time()
    run(events, path)
    result = time.perf_counter() - started, time.process_time() - cpu
    path.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    events = simulate(SimulatorConfig(persons=args.persons, seed=7)).events
    print(f"{args.persons:,} persons: {events.num_rows:,} events")
    runs: dict[str, list[tuple[float, float]]] = {"batches": [], "bulk": [], "floor": []}
    with tempfile.TemporaryDirectory(dir=os.environ.get("KLANTREIS_BENCH_DATA")) as tmp:
        for _ in range(args.runs):
            for run in (batches, bulk, floor):
                runs[run.__name__].append(timed(run, events, Path(tmp)))
    base = statistics.median(c for _, c in runs["floor"])
    print(f"{'way':<10}{'wall s':>10}{'CPU s':>10}{'CPU x floor':>13}")
    for name, values in runs.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"{name:<10}{wall:>10.2f}{cpu:>10.2f}{cpu / base:>13.2f}")
    print(f"load at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
