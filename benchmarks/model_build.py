"""A full model build on an existing store, with the CPU seconds of each derived table.

    PYTHONPATH=src python benchmarks/model_build.py STORE [--memory-limit 2GB]
        [--operators journey_events,session_sources]

Builds every table (`model.ensure_built`, the fingerprint cleared first) in one transaction on
STORE (use a copy: the model tables are replaced) and prints wall seconds, CPU seconds (user +
system of this process, which a loaded machine disturbs less than wall time), peak memory
(VmHWM) and the CPU seconds of each table, largest first. Run it under `/usr/bin/time -v` for
the same figures from outside.
`--operators` also prints, for the named tables, DuckDB's operators that took the largest
shares of the statement's operator time (from its JSON profile; on a loaded machine the
seconds are inflated, the shares are what to read).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
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


def top_operators(profile: Path, top: int = 8) -> list[tuple[str, float]]:
    """The operators with the largest shares of a statement's summed operator time."""
    found: list[tuple[str, float]] = []

    def walk(node: dict[str, Any]) -> None:
        info = node.get("extra_info") or {}
        what = info.get("Conditions") or info.get("Table") or info.get("CTE Name") or ""
        found.append((f"{node.get('name')} {str(what)[:40]}".strip(), node.get("timing", 0.0)))
        for child in node.get("children", []):
            walk(child)

    data = json.loads(profile.read_text())
    roots = data.get("operator") or data.get("children") or []
    for root in roots if isinstance(roots, list) else [roots]:
        walk(root)
    total = sum(t for _, t in found) or 1.0
    return [(op, t / total) for op, t in sorted(found, key=lambda f: -f[1])[:top]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--operators", default="", help="tables whose operators to print")
    args = parser.parse_args()
    profiled = {name for name in args.operators.split(",") if name}

    import klantreis
    from klantreis.model.build import ensure_built

    kr = klantreis.open(args.store)
    connection = kr.store.connection
    connection.execute(f"SET memory_limit = '{args.memory_limit}'")
    engine = kr.engine
    per_table: dict[str, float] = {}
    operators: dict[str, list[tuple[str, float]]] = {}
    create = type(engine).create_table_as
    scratch = Path(tempfile.mkdtemp(prefix="model_build_"))

    def timed(self: Any, name: str, query: Any, /, **params: Any) -> None:
        if name in profiled:
            connection.execute("PRAGMA enable_profiling = 'json'")
            connection.execute(f"PRAGMA profiling_output = '{scratch / name}.json'")
        started = cpu_seconds()
        create(self, name, query, **params)
        per_table[name] = per_table.get(name, 0.0) + cpu_seconds() - started
        if name in profiled:
            connection.execute("PRAGMA disable_profiling")
            operators[name] = top_operators(scratch / f"{name}.json")

    type(engine).create_table_as = timed  # type: ignore[method-assign]
    wall, cpu = time.perf_counter(), cpu_seconds()
    # The user's path (`ensure_built`, a full build as the fingerprint is cleared): it also
    # records the model's fingerprint, so a step run after this one on the store (the
    # scorecard of `build_growth.py`) does not build the model again when the store was built
    # by code of another model version.
    kr.store.set_meta("model_fingerprint", "")
    ensure_built(kr)
    result = {
        "wall": round(time.perf_counter() - wall, 2),
        "cpu": round(cpu_seconds() - cpu, 2),
        "peak_gib": round(peak_gib(), 2),
        "memory_limit": args.memory_limit,
        "events": engine.scalar("SELECT count(*) FROM journey_events"),
        "persons": engine.scalar("SELECT count(*) FROM persons"),
        "sessions": engine.scalar("SELECT count(*) FROM sessions"),
        "tables_cpu": {k: round(v, 2) for k, v in sorted(per_table.items(), key=lambda kv: -kv[1])},
    }
    print(json.dumps(result))
    for name, shares in operators.items():
        print(f"{name}: " + "; ".join(f"{op} {share:.0%}" for op, share in shares))
    shutil.rmtree(scratch, ignore_errors=True)
    kr.close()


if __name__ == "__main__":
    main()
