"""Customer value on a stored shop: the fit against the floor, medians of a few rounds.

The floor is the plain DuckDB aggregate `count(DISTINCT person)` by event name over the same
events (as in main_job.py); the fit is `compute_values` (the per-person SQL aggregate, BG/NBD,
Gamma-Gamma, RFM), without writing the table. Rounds alternate, so load on a shared machine
falls on both alike.

    python benchmarks/value_fit.py /tmp/klantreis-bench/main_job/store_1000000/shop.duckdb
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import duckdb

import klantreis
from klantreis.measure.value.table import compute_values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="A store with events and the model built.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-limit", default="6GB")
    args = parser.parse_args()
    print(
        f"{platform.platform()} | cpus {os.cpu_count()} | duckdb {duckdb.__version__} | "
        f"load {os.getloadavg()[0]:.1f}"
    )
    floors, fits = [], []
    with klantreis.open(args.store) as kr:
        con = kr.store.connection
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        for _ in range(args.rounds):
            started = time.perf_counter()
            con.execute(
                "SELECT event, count(DISTINCT coalesce(user_id, anonymous_id)) FROM events "
                "GROUP BY event"
            ).fetchall()
            floors.append(time.perf_counter() - started)
            started = time.perf_counter()
            _, fit = compute_values(kr)
            fits.append(time.perf_counter() - started)
    floor, value = statistics.median(floors), statistics.median(fits)
    print(f"{events:,} events, {fit.persons:,} buyers, method {fit.method}")
    print(f"floor  median {floor:.3f} s over {args.rounds} rounds")
    print(f"value  median {value:.3f} s ({value / floor:.1f} × floor)")


if __name__ == "__main__":
    main()
