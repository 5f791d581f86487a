"""What the benchmarks ran on, and a child process runner that reports its own peak memory."""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def machine() -> str:
    import chdb
    import duckdb

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.platform()} | python {platform.python_version()} | cpus {os.cpu_count()} | "
        f"RAM {mem:.1f} GiB | duckdb {duckdb.__version__} | chdb {chdb.__version__}"
    )


def _child(queue: Any, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    started = time.perf_counter()
    try:
        result = func(*args)
    except Exception as exc:  # reported by the parent instead of leaving it waiting
        queue.put((float("nan"), peak_gib(), f"failed: {exc}"))
        raise
    seconds = time.perf_counter() - started
    queue.put((seconds, peak_gib(), result))


def peak_gib() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's peak
    across fork+exec on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20  # KiB -> GiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def measured(func: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """(seconds, peak GiB of the process, result) of `func(*args)` in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(queue, func, args))
    process.start()
    out = queue.get()
    process.join()
    return out


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]
