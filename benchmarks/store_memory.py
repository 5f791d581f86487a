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
import ctypes
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import klantreis.store.store as store_module
from klantreis.store import Store

BATCH = 250_000


def status_gib(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 2**20
    return float("nan")


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


_libc = ctypes.CDLL(None)
_mallinfo2 = getattr(_libc, "mallinfo2", None)
if _mallinfo2 is not None:
    _mallinfo2.restype = _Mallinfo2


def malloc_gib() -> tuple[float, float]:
    """The C allocator's memory in use and held free (GiB): DuckDB's, Python's large objects,
    every C++ object; not Arrow's pool (mimalloc)."""
    if _mallinfo2 is None:
        return float("nan"), float("nan")
    info = _mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**30, info.fordblks / 2**30


def _jemalloc() -> Any:
    """DuckDB's own allocator (jemalloc linked into its module), or None."""
    try:
        import _duckdb  # the module that `duckdb` loads

        mallctl = ctypes.CDLL(_duckdb.__file__).duckdb_je_mallctl
    except (AttributeError, ImportError, OSError):
        return None
    mallctl.argtypes = [
        ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
        ctypes.c_void_p, ctypes.c_size_t,
    ]  # fmt: skip
    return mallctl


_mallctl = _jemalloc()


def jemalloc_gib() -> tuple[float, float]:
    """DuckDB's allocator: memory allocated (in use) and resident (with pages freed but kept)."""
    if _mallctl is None:
        return float("nan"), float("nan")
    epoch = ctypes.c_uint64(1)
    _mallctl(b"epoch", None, None, ctypes.byref(epoch), 8)
    values = []
    for name in (b"stats.allocated", b"stats.resident"):
        value, size = ctypes.c_size_t(), ctypes.c_size_t(ctypes.sizeof(ctypes.c_size_t))
        _mallctl(name, ctypes.byref(value), ctypes.byref(size), None, 0)
        values.append(value.value / 2**30)
    return values[0], values[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="a store file to create (must not exist)")
    parser.add_argument("parquet")
    parser.add_argument("memory_limit")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="a DuckDB setting applied before the load (repeatable)",
    )  # fmt: skip
    parser.add_argument("--trace", help="write every sample to this file (tab-separated)")
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
    for setting in args.set:
        name, value = setting.split("=", 1)
        store.connection.execute(f"SET {name} = '{value}'")
    monitor = store.connection.cursor()
    samples: list[tuple[float, str, float, float, dict[str, int], tuple[float, ...]]] = []
    wal = Path(args.store + ".wal")
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rows = monitor.execute(
                "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0"
            ).fetchall()
            arrow = pa.total_allocated_bytes() / 2**30
            spilled = monitor.execute(
                "SELECT coalesce(sum(size), 0) FROM duckdb_temporary_files()"
            ).fetchall()[0][0]
            used, free = malloc_gib()
            allocated, resident = jemalloc_gib()
            wal_gib = (wal.stat().st_size if wal.exists() else 0) / 2**30
            extra = (
                used,
                free,
                spilled / 2**30,
                wal_gib,
                allocated,
                resident,
                status_gib("RssFile"),
            )
            samples.append((time.monotonic(), phase[0], status_gib(), arrow, dict(rows), extra))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    sampler.start()
    batches = pq.ParquetFile(args.parquet, pre_buffer=False).iter_batches(batch_size=BATCH)
    # `map`, not a generator expression: that would hold the last batch read while the next
    # one is read (as the main job's store step)
    result = store.append_many(map(lambda b: pa.Table.from_batches([b]), batches))
    phase[0] = "done"
    time.sleep(0.5)
    done.set()
    sampler.join()
    store.close()
    print(f"{result.stored:,} stored, {result.duplicates:,} repeats; cap {args.memory_limit}")
    peaks: dict[str, tuple[float, str, float, float, dict[str, int], tuple[float, ...]]] = {}
    for s in samples:
        if s[1] not in peaks or s[2] > peaks[s[1]][2]:
            peaks[s[1]] = s
    print(
        f"{'phase':14}{'at s':>8}{'RSS GiB':>9}{'DuckDB':>8}{'je.alloc':>9}{'je.res':>7}"
        f"{'Arrow':>7}{'malloc':>8}{'free':>6}{'spill':>7}{'WAL':>6}{'files':>6}"
        "  DuckDB's tags (MiB)"
    )
    for name, (at, _, rss, arrow, tags, extra) in peaks.items():
        used, free, spilled, wal_gib, allocated, resident, files = extra
        duck = sum(tags.values()) / 2**30
        detail = ", ".join(f"{k} {v / 2**20:.0f}" for k, v in tags.items())
        print(
            f"{name:14}{at - started:8.1f}{rss:9.2f}{duck:8.2f}{allocated:9.2f}{resident:7.2f}"
            f"{arrow:7.2f}{used:8.2f}{free:6.2f}{spilled:7.2f}{wal_gib:6.2f}{files:6.2f}  {detail}"
        )
    if args.trace:
        with open(args.trace, "w") as out:
            out.write(
                "s\tphase\tRSS\tDuckDB\tArrow\tmalloc\tfree\tspill\tWAL\tje.alloc\tje.res\tfiles\n"
            )
            for at, name, rss, arrow, tags, extra in samples:
                duck = sum(tags.values()) / 2**30
                figures = "\t".join(f"{x:.3f}" for x in (rss, duck, arrow, *extra))
                out.write(f"{at - started:.1f}\t{name}\t{figures}\t{tags}\n")


if __name__ == "__main__":
    main()
