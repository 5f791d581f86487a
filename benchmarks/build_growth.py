"""Growth of the full model build and of the scorecard from one size to the next, in one run.

    python benchmarks/build_growth.py --stores 1M=/path/1M/shop.duckdb 10M=/path/10M/shop.duckdb
        [--base-src /path/to/other/checkout/src] [--runs 3 2] [--scratch DIR]

For each store (events stored, as `benchmarks/main_job.py` makes them; never changed: every run
works on a fresh copy in `--scratch`) and each run, this code and, with `--base-src`, the code
of another checkout take turns, each step in a fresh process: the floor
(`count(DISTINCT person)` by event, `main_job.py`'s), the full model build
(`benchmarks/model_build.py`, every table, DuckDB capped at `--build-memory-limit`) and then,
on the model just built, the expectations scorecard judging every rule (`main_job.py`'s
`expectations` step, capped at `--memory-limit`). Printed: CPU seconds (the figure a loaded
machine disturbs least), wall seconds, peak memory and the load of every step, the medians, the
ratio of this code to the base, and the growth factor of each median from the first store to
each next one: figures of the same run, not of runs on other days.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SRC = str(BENCH.parent / "src")


def _child_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _step(command: list[str], src: str, memory_limit: str) -> dict[str, Any]:
    """One step in a fresh process: its wall, CPU (all its threads) and the figures it prints."""
    env = {**os.environ, "PYTHONPATH": src, "BENCH_MEMORY_LIMIT": memory_limit}
    load, cpu, started = os.getloadavg()[0], _child_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found: dict[str, Any] = {
        "wall": time.perf_counter() - started,
        "cpu": _child_cpu() - cpu,
        "load": f"{load:.0f}-{os.getloadavg()[0]:.0f}",
    }
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):  # main_job.py's child: its own time, imports excluded
            child = json.loads(line[7:])
            found.update(wall=child["seconds"], cpu=child["cpu"], peak=child["peak"])
        elif line.startswith("{"):  # model_build.py
            child = json.loads(line)
            found.update(wall=child["wall"], cpu=child["cpu"], peak=child["peak_gib"])
            found["tables"] = child["tables_cpu"]
    if done.returncode != 0:
        found["failed"] = (done.stderr or done.stdout).strip().splitlines()[-1:]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", nargs="+", required=True, help="LABEL=PATH, smallest first")
    parser.add_argument("--base-src", help="the src folder of the code to compare with")
    parser.add_argument("--runs", nargs="+", type=int, default=[3], help="runs per store")
    parser.add_argument("--scratch", default="/tmp/klantreis-build-growth")
    parser.add_argument("--build-memory-limit", default="2GB")
    parser.add_argument("--memory-limit", default="6GB", help="for the floor and the scorecard")
    args = parser.parse_args()
    codes = {**({"base": args.base_src} if args.base_src else {}), "this": SRC}
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    main_job, model_build = str(BENCH / "main_job.py"), str(BENCH / "model_build.py")
    medians: dict[tuple[str, str, str], float] = {}
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}; code: {codes}", flush=True)
    for i, item in enumerate(args.stores):
        label, path = item.split("=", 1)
        runs = args.runs[min(i, len(args.runs) - 1)]
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for run in range(runs):
            for code, src in codes.items():
                copy = scratch / f"{label}-{code}.duckdb"
                shutil.copyfile(path, copy)
                limit = ["--memory-limit", args.memory_limit]
                steps = {
                    "floor": ([main_job, *limit, "--child", "floor", str(copy)], args.memory_limit),
                    "build": (
                        [model_build, str(copy), "--memory-limit", args.build_memory_limit],
                        args.build_memory_limit,
                    ),
                    "scorecard": (
                        [main_job, *limit, "--child", "expectations", str(copy)],
                        args.memory_limit,
                    ),
                }
                for step, (command, limit) in steps.items():
                    result = _step([sys.executable, *command], src, limit)
                    found.setdefault((code, step), []).append(result)
                    line = f"{label} run {run + 1} {code:5} {step:9} {json.dumps(result)}"
                    print(line, flush=True)
                for leftover in scratch.glob(f"{label}-{code}.duckdb*"):
                    shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        print(f"\n{label}: medians of {runs} run(s)")
        header = ("code", "step", "CPU s", "wall s", "peak GiB", "× base CPU")
        print("{:6} {:10} {:>8} {:>8} {:>9} {:>11}".format(*header))
        for (code, step), results in found.items():
            medians[(label, code, step)] = statistics.median(r["cpu"] for r in results)
        for (code, step), results in found.items():
            cpu = medians[(label, code, step)]
            base = medians.get((label, "base", step))
            ratio = f"{cpu / base:.2f}" if base and code != "base" else ""
            wall = statistics.median(r["wall"] for r in results)
            peak = max(r.get("peak", float("nan")) for r in results)
            print(f"{code:6} {step:10} {cpu:8.2f} {wall:8.1f} {peak:9.2f} {ratio:>11}")
    labels = [item.split("=", 1)[0] for item in args.stores]
    print("\ngrowth of the CPU medians from the first store")
    for label in labels[1:]:
        for code in codes:
            for step in ("floor", "build", "scorecard"):
                first = medians.get((labels[0], code, step))
                this = medians.get((label, code, step))
                if first and this:
                    print(f"{labels[0]} -> {label} {code:5} {step:9} ×{this / first:.1f}")


if __name__ == "__main__":
    main()
