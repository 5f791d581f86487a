"""Our 4-step ordered 7-day funnel on DuckDB vs ClickHouse's windowFunnel (chDB), same Parquet.

    python benchmarks/funnel.py                 # 1M and 10M events
    python benchmarks/funnel.py --sizes 100M    # the big one (takes a while)

For each size: generate the log once ($KLANTREIS_BENCH_DATA, default /tmp/klantreis-bench,
kept for reruns), then time, interleaved, each in a fresh process that reports its own peak memory:
chDB `windowFunnel` (the baseline), our DuckDB fast path (what `kr.funnel` runs on DuckDB)
and our portable query (what runs on Spark).
Prints medians, the ratio ours/chDB and whether every step's person count matches.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# Imported at module level so each measured (spawned) process has them loaded before timing.
import chdb
import duckdb
import pandas  # noqa: F401 - pyarrow imports it on the first pa.array of Python values
from analytics_log import generate
from analytics_timing import machine, measured, median

from klantreis.measure.funnels import FunnelSpec, run_funnel
from klantreis.store.engines.duckdb import DuckDBEngine

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
WINDOW_SECONDS = 7 * 86400
DATA = Path(os.environ.get("KLANTREIS_BENCH_DATA", "/tmp/klantreis-bench"))


def chdb_funnel(path: str) -> list[int]:
    conditions = ", ".join(f"event = '{s}'" for s in STEPS)  # fixed benchmark names
    sql = f"""
        SELECT level, count() AS persons FROM (
            SELECT person_id, windowFunnel({WINDOW_SECONDS * 1_000_000})(
                toUInt64(toUnixTimestamp64Micro(timestamp)), {conditions}) AS level
            FROM file('{path}', Parquet) GROUP BY person_id)
        GROUP BY level"""
    table = chdb.query(sql, "ArrowTable")
    histogram = dict(zip(table["level"].to_pylist(), table["persons"].to_pylist(), strict=True))
    return [sum(n for level, n in histogram.items() if level >= j) for j in range(1, 5)]


def our_funnel(path: str, fast_path: bool) -> list[int]:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(f"CREATE VIEW journey_events AS SELECT * FROM read_parquet('{path}')")
    spec = FunnelSpec.build(STEPS, window=WINDOW_SECONDS, mode="ordered")
    return run_funnel(DuckDBEngine(con), spec, fast_path=fast_path).persons()


def size(text: str) -> int:
    units = {"K": 1_000, "M": 1_000_000}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].isalpha() else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-portable", action="store_true", help="skip the portable query")
    args = parser.parse_args()
    print(machine())
    print(f"funnel: {' -> '.join(STEPS)}, window 7d, ordered")
    DATA.mkdir(exist_ok=True)
    for label in args.sizes:
        events = size(label)
        path = generate(events, DATA / f"events_{label}.parquet")
        print(f"\n{label} events ({path.stat().st_size / 2**20:.0f} MiB parquet)")
        runs = {"chdb windowFunnel": (chdb_funnel, (str(path),))}
        runs["ours duckdb fast"] = (our_funnel, (str(path), True))
        if not args.no_portable:
            runs["ours duckdb portable"] = (our_funnel, (str(path), False))
        # Interleaved (chDB, ours, chDB, ours, ...) so that load from other work on a shared
        # machine falls on both alike.
        results_by_name: dict[str, list] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, (func, fargs) in runs.items():
                results_by_name[name].append(measured(func, *fargs))
        timings = {}
        for name, results in results_by_name.items():
            seconds = median([r[0] for r in results])
            peak = max(r[1] for r in results)
            counts = results[0][2]
            timings[name] = (seconds, counts)
            print(f"  {name:22s} median {seconds:7.2f} s  peak {peak:5.2f} GiB  steps {counts}")
        base_seconds, base_counts = timings["chdb windowFunnel"]
        for name, (seconds, counts) in timings.items():
            if name.startswith("ours"):
                match = "match" if counts == base_counts else "MISMATCH"
                print(f"  {name}: ratio ours/chdb {seconds / base_seconds:.2f}, counts {match}")


if __name__ == "__main__":
    main()
