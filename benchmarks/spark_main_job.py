"""The main job on Spark local against DuckDB, step by step, and how Spark divides the work.

    python benchmarks/spark_main_job.py --persons 2000          # the demo's shop
    python benchmarks/spark_main_job.py --events EVENTS.parquet   # e.g. main_job.py's 1M events

One simulated shop (the demo's: `--persons`, seed 7), or the events of a Parquet file
(`--events`, e.g. `$KLANTREIS_BENCH_DATA/main_job/events_1000000.parquet` of
`benchmarks/main_job.py`, no catalogue), goes into a DuckDB store and, as Parquet, into a
lake. Each engine then runs the steps of a day's work through the Python API, as `klantreis
demo` and the server's routine do: model build, voice update, judging the expectations, the
scorecard, opportunities, personas discovery, at-risk, the journey map in the six phases and in
AIDA (both engines read it from the six-phase model, `model/translate.py`). DuckDB runs
first, on its store; Spark (`local[2]` unless `--master`) on the lake with `tables_path`, so
it writes every derived table back as Parquet, as in production. The floor is DuckDB's
`SELECT event, count(DISTINCT coalesce(user_id, anonymous_id)) FROM events GROUP BY event` over
the same events, in the same run.

For every Spark step it prints what Spark's own status store recorded: jobs, stages, tasks,
the summed task time (what more executor cores divide) and the rest of the wall time beyond
task time / slots (driver: planning, scheduling, Python, collecting results, and waiting for a
busy machine: what a cluster does not divide). A reader estimates a cluster's time as that
rest + task time / cores.
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-30T00:00:00"


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )


def steps() -> list[tuple[str, Callable[[Any], Any]]]:
    from klantreis.measure.personas.discovery import discover
    from klantreis.measure.voice.stored import update_voice
    from klantreis.model import ensure_built

    return [
        ("model build", lambda kr: ensure_built(kr)),
        ("voice update", lambda kr: update_voice(kr.store, kr.engine)),
        ("judge expectations", lambda kr: kr.evaluate_expectations(now=NOW)),
        ("expectations scorecard", lambda kr: kr.expectations(now=NOW)),
        ("opportunities", lambda kr: kr.opportunities()),
        ("personas discover", lambda kr: discover(kr, k="auto")),
        ("at-risk", lambda kr: kr.at_risk(now=NOW)),
        ("map six-phase", lambda kr: kr.journey_map()),
        ("map AIDA", lambda kr: kr.journey_map("aida")),
    ]


class SparkWork:
    """Jobs, stages, tasks and task time Spark recorded since the last call (its status store,
    which runs with the web UI off too)."""

    def __init__(self, session: Any) -> None:
        context = session.sparkContext
        self.store = context._jsc.sc().statusStore()
        self.every = context._jvm.java.util.ArrayList()  # no status given: stages of any
        self.no_quantiles = context._gateway.new_array(context._jvm.double, 0)
        self.seen = self._stage_ids()

    def _stages(self) -> list[Any]:
        stages = self.store.stageList(self.every, False, False, self.no_quantiles, self.every)
        return [stages.apply(i) for i in range(stages.size())]

    def _stage_ids(self) -> set[int]:
        return {int(s.stageId()) for s in self._stages()}

    def since(self) -> dict[str, float]:
        new = [s for s in self._stages() if int(s.stageId()) not in self.seen]
        self.seen |= {int(s.stageId()) for s in new}
        tasks = sum(int(s.numTasks()) for s in new)
        run_ms = sum(int(s.executorRunTime()) for s in new)
        heaviest = sorted(new, key=lambda s: -int(s.executorRunTime()))[:3]
        return {
            "stages": len(new),
            "tasks": tasks,
            "task_s": run_ms / 1000,
            "heaviest": ", ".join(
                f"{int(s.executorRunTime()) / 1000:.1f}s {s.name().split(' at ')[0]}"
                for s in heaviest
            ),
        }


def run(args: argparse.Namespace) -> None:
    import duckdb
    import pyarrow.parquet as pq

    from klantreis.api import Klantreis
    from klantreis.collect.catalogue import store_products
    from klantreis.collect.simulator import SimulatorConfig, simulate
    from klantreis.config import Settings

    print(f"machine: {machine()}", flush=True)
    work = Path(args.work or tempfile.mkdtemp(prefix="spark-main-job-"))
    lake = work / "lake"
    lake.mkdir(parents=True, exist_ok=True)
    if args.events:
        events, products = pq.read_table(args.events), None
        print(f"inputs: {events.num_rows:,} events of {args.events}, {work}")
    else:
        shop = simulate(SimulatorConfig(persons=args.persons))
        events, products = shop.events, shop.products
        print(f"inputs: {events.num_rows:,} events ({args.persons:,} persons), {work}")
    pq.write_table(events, lake / "events.parquet")

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{args.memory_limit}'; SET threads = 2")
    floors = []
    for _ in range(3):
        started = time.perf_counter()
        con.execute(
            "SELECT event, count(DISTINCT coalesce(user_id, anonymous_id)) "
            f"FROM read_parquet('{lake / 'events.parquet'}') GROUP BY event"
        ).fetchall()
        floors.append(time.perf_counter() - started)
    floor = statistics.median(floors)
    print(f"floor (DuckDB count(DISTINCT person) by event, median of 3): {floor:.2f} s")

    duck = Klantreis(
        Settings(work / "shop.duckdb", "duckdb", {"memory_limit": args.memory_limit}, {})
    )
    duck.store.append(events)
    del events
    if products is not None:
        store_products(duck.store, products, source="demo")
        pq.write_table(duck.engine.fetch("SELECT * FROM products"), lake / "products.parquet")
    options = {
        "master": args.master,
        "shuffle_partitions": args.shuffle_partitions,
        "driver_memory": args.driver_memory,
        "events_path": str(lake),
        "tables_path": str(lake / "tables"),
    }
    started = time.perf_counter()
    spark = Klantreis(Settings(work / "state.duckdb", "spark", options, {}))
    spark.engine  # noqa: B018 - starts the session and reads the lake's tables
    start_s = time.perf_counter() - started
    work_log = SparkWork(spark.engine.session)  # type: ignore[attr-defined]
    print(f"Spark session start and lake registration: {start_s:.1f} s", flush=True)

    slots = int(args.master[6:-1]) if args.master.startswith("local[") else 1
    """Tasks that run at once: task time / slots is the wall time they took at best."""
    rows = []
    for name, step in steps():
        if name in args.skip:
            continue
        started = time.perf_counter()
        step(duck)
        duck_s = time.perf_counter() - started
        started = time.perf_counter()
        step(spark)
        spark_s = time.perf_counter() - started
        spent = work_log.since()
        rows.append((name, duck_s, spark_s, spent))
        driver = max(spark_s - spent["task_s"] / slots, 0)
        print(
            f"{name:24s} DuckDB {duck_s:8.2f} s  Spark {spark_s:8.2f} s ({spark_s / duck_s:5.1f}x)"
            f"  stages {spent['stages']:4.0f}  tasks {spent['tasks']:5.0f}"
            f"  task time {spent['task_s']:7.1f} s  driver {driver:7.1f} s"
            f"  heaviest: {spent['heaviest']}  [load {os.getloadavg()[0]:.1f}]",
            flush=True,
        )
    total_duck = sum(r[1] for r in rows)
    total_spark = sum(r[2] for r in rows)
    tasks = sum(r[3]["task_s"] for r in rows)
    print(
        f"{'total':24s} DuckDB {total_duck:8.2f} s ({total_duck / floor:.0f}x floor)  "
        f"Spark {total_spark:8.2f} s ({total_spark / total_duck:.1f}x DuckDB), "
        f"task time {tasks:.1f} s over {slots} slot(s), the rest (driver, scheduling, "
        f"waiting) {max(total_spark - tasks / slots, 0):.1f} s"
    )
    print(f"machine at the end: {machine()}")
    spark.close()
    duck.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--events", help="a Parquet file of events instead of the simulated shop")
    parser.add_argument("--work", help="folder for the store and the lake (default: temporary)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--shuffle-partitions", type=int, default=4)
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's memory_limit")
    parser.add_argument("--skip", nargs="*", default=[], help="steps to leave out")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    run(args)


if __name__ == "__main__":
    main()
