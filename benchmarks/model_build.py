"""A full model build on an existing store, with the CPU seconds of each derived table.

    PYTHONPATH=src python benchmarks/model_build.py STORE [--memory-limit 2GB]

Builds every table (`model.build`) in one transaction on STORE (use a copy: the model tables
are replaced) and prints wall seconds, CPU seconds (user + system of this process, which a
loaded machine disturbs less than wall time), peak memory (VmHWM) and the CPU seconds of each
table, largest first. Run it under `/usr/bin/time -v` for the same figures from outside.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--memory-limit", default="6GB")
    args = parser.parse_args()

    import klantreis
    from klantreis.model.build import build

    kr = klantreis.open(args.store)
    kr.store.connection.execute(f"SET memory_limit = '{args.memory_limit}'")
    engine = kr.engine
    per_table: dict[str, float] = {}
    create = type(engine).create_table_as

    def timed(self: Any, name: str, query: Any, /, **params: Any) -> None:
        started = cpu_seconds()
        create(self, name, query, **params)
        per_table[name] = per_table.get(name, 0.0) + cpu_seconds() - started

    type(engine).create_table_as = timed  # type: ignore[method-assign]
    wall, cpu = time.perf_counter(), cpu_seconds()
    with kr.store.transaction():
        summary = build(engine)
    result = {
        "wall": round(time.perf_counter() - wall, 2),
        "cpu": round(cpu_seconds() - cpu, 2),
        "peak_gib": round(peak_gib(), 2),
        "memory_limit": args.memory_limit,
        "events": summary.events,
        "persons": summary.persons,
        "sessions": summary.sessions,
        "tables_cpu": {k: round(v, 2) for k, v in sorted(per_table.items(), key=lambda kv: -kv[1])},
    }
    print(json.dumps(result))
    kr.close()


if __name__ == "__main__":
    main()
