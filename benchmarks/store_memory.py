"""Where a bulk load's memory goes: RSS, DuckDB's own `duckdb_memory()` and Arrow's pool.

Stores a Parquet file of events into a new store as the main job's store step does
(`append_many` of 250,000-event batches) under a DuckDB memory limit, sampling every 0.1 s,
and prints per phase (batches inserted, repeated ids, key build and commit) the sample with the
highest RSS and what DuckDB and Arrow held then. Run it under `/usr/bin/time -v` for the peak
between samples.

    python benchmarks/store_memory.py NEW.duckdb events_10000000.parquet 1GB
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import klantreis.store.store as store_module
from klantreis.store import Store

BATCH = 250_000


def rss_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="a store file to create (must not exist)")
    parser.add_argument("parquet")
    parser.add_argument("memory_limit")
    args = parser.parse_args()
    if Path(args.store).exists():
        parser.error(f"{args.store} exists")
    phase = ["open"]
    # Phases marked by wrapping the load's own steps.
    insert, drop = store_module._insert_events, store_module._drop_repeated_ids

    def inserting(*a: Any, **k: Any) -> int:
        phase[0] = "insert"
        return insert(*a, **k)

    def dropping(con: Any) -> int:
        phase[0] = "repeated ids"
        result = drop(con)
        phase[0] = "key + commit"
        return result

    store_module._insert_events = inserting  # type: ignore[assignment]
    store_module._drop_repeated_ids = dropping
    store = Store(args.store)
    store.connection.execute(f"SET memory_limit = '{args.memory_limit}'")
    monitor = store.connection.cursor()
    samples: list[tuple[float, str, float, float, dict[str, int]]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rows = monitor.execute(
                "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0"
            ).fetchall()
            arrow = pa.total_allocated_bytes() / 2**30
            samples.append((time.monotonic(), phase[0], rss_gib(), arrow, dict(rows)))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    sampler.start()
    batches = pq.ParquetFile(args.parquet, pre_buffer=False).iter_batches(batch_size=BATCH)
    result = store.append_many(pa.Table.from_batches([b]) for b in batches)
    phase[0] = "done"
    time.sleep(0.5)
    done.set()
    sampler.join()
    store.close()
    print(f"{result.stored:,} stored, {result.duplicates:,} repeats; cap {args.memory_limit}")
    peaks: dict[str, tuple[float, str, float, float, dict[str, int]]] = {}
    for s in samples:
        if s[1] not in peaks or s[2] > peaks[s[1]][2]:
            peaks[s[1]] = s
    print(f"{'phase':14}{'at s':>8}{'RSS GiB':>9}{'DuckDB':>8}{'Arrow':>7}  DuckDB's tags (MiB)")
    for name, (at, _, rss, arrow, tags) in peaks.items():
        duck = sum(tags.values()) / 2**30
        detail = ", ".join(f"{k} {v / 2**20:.0f}" for k, v in tags.items())
        print(f"{name:14}{at - started:8.1f}{rss:9.2f}{duck:8.2f}{arrow:7.2f}  {detail}")


if __name__ == "__main__":
    main()
