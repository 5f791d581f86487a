"""What sources cost on a built store: the model step (`session_sources`), the acquisition view
and a funnel split by source, each against the floor measured in the same run.

    python benchmarks/main_job.py --sizes 1M --skip-web --only floor   # a 1M store, built
    python benchmarks/sources.py /tmp/klantreis-bench/main_job/store_1000000/shop.duckdb

Rounds are interleaved (floor, step, floor, step, ...) so load on a shared machine hits all
alike; prints the machine, the store's size and the median of each with its ratio to the floor
(the plain DuckDB aggregate `count(DISTINCT person)` by event name, as in main_job.py). DuckDB's
memory limit is 6GB (the machine is shared).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import duckdb

import klantreis
from klantreis.model.sources import session_sources_query

ROUNDS = 5
FLOOR = "SELECT event, count(DISTINCT coalesce(user_id, anonymous_id)) FROM events GROUP BY event"


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main(store: str) -> None:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"{platform.platform()} | python {platform.python_version()} | cpus {os.cpu_count()} | "
        f"RAM {mem:.1f} GiB | duckdb {duckdb.__version__} | load {os.getloadavg()[0]:.1f}"
    )
    with klantreis.open(store) as kr:
        kr.store.connection.execute("SET memory_limit = '6GB'")
        from klantreis.model import ensure_built

        ensure_built(kr)
        events = kr.engine.scalar("SELECT count(*) FROM events")
        sessions = kr.engine.scalar("SELECT count(*) FROM sessions")
        visits = kr.engine.scalar("SELECT count(*) FROM session_sources")
        print(f"{events:,} events, {sessions:,} sessions, {visits:,} visits with a source")
        steps: dict[str, Callable[[], object]] = {
            "floor: count(DISTINCT person) by event": lambda: kr.engine.rows(FLOOR),
            "model step: session_sources": lambda: kr.engine.create_table_as(
                "_bench_session_sources", session_sources_query()
            ),
            "acquisition view (kr.sources)": lambda: kr.sources(),
            "funnel Page Viewed → Order Completed": lambda: kr.funnel(
                ["Page Viewed", "Order Completed"]
            ),
            "same funnel --breakdown source": lambda: kr.funnel(
                ["Page Viewed", "Order Completed"], breakdown="source"
            ),
        }
        spent: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(ROUNDS):
            for name, call in steps.items():
                spent[name].append(timed(call))
        kr.engine.execute("DROP TABLE IF EXISTS _bench_session_sources")
    floor = statistics.median(spent["floor: count(DISTINCT person) by event"])
    print(f"{'step':42} {'median s':>9} {'× floor':>8}   ({ROUNDS} rounds, interleaved)")
    for name, times in spent.items():
        median = statistics.median(times)
        print(f"{name:42} {median:9.3f} {median / floor:8.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
