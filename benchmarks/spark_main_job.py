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

CPU seconds too (every process under this one, whatever the machine's load), the tasks' own CPU,
and at the end the JVM's CPU by kind of thread (compilers, tasks, GC, the rest);
`--profile FILE` writes each Spark query's cost as JSON lines, `--no-duckdb` and `--only` narrow
the run, `--java-options` sets `[engine] java_options`, `--src` runs another checkout's code (a
baseline in the same run). The last step reads the six-phase map again, as `klantreis map` and
the dashboard do after the routine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
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
        # what `klantreis map` and the dashboard then cost: the stored map, read back
        ("map six-phase again", lambda kr: kr.journey_map()),
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

    def since(self) -> dict[str, Any]:
        new = [s for s in self._stages() if int(s.stageId()) not in self.seen]
        self.seen |= {int(s.stageId()) for s in new}
        tasks = sum(int(s.numTasks()) for s in new)
        run_ms = sum(int(s.executorRunTime()) for s in new)
        heaviest = sorted(new, key=lambda s: -int(s.executorRunTime()))[:3]
        return {
            "stages": len(new),
            "tasks": tasks,
            "task_s": run_ms / 1000,
            "task_cpu_s": sum(int(s.executorCpuTime()) for s in new) / 1e9,
            "gc_s": sum(int(s.jvmGcTime()) for s in new) / 1000,
            "spilled_mib": sum(int(s.diskBytesSpilled()) for s in new) / 2**20,
            "shuffle_mib": sum(int(s.shuffleWriteBytes()) for s in new) / 2**20,
            "heaviest": ", ".join(
                f"{int(s.executorRunTime()) / 1000:.1f}s {s.name().split(' at ')[0]}"
                for s in heaviest
            ),
        }


def process_cpu_s() -> float:
    """CPU seconds of this process and every process under it, reaped or not (the JVM of
    Spark's local mode, its Python workers): what the machine spent, whatever its load."""
    tick = os.sysconf("SC_CLK_TCK")
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            todo.append(int(child))
    return total


class QueryLog:
    """Each call into the Spark engine (a query fetched, a table created) with its wall time,
    its Spark stages, tasks and task time, and the CPU the processes spent: where a step's
    time goes, query by query. Written as JSON lines with `--profile FILE`."""

    METHODS = (
        "fetch",
        "execute",
        "create_table_as",
        "create_table_mapped",
        "create_table_from_arrow",
    )

    def __init__(self, engine: Any, work: SparkWork, out: Path) -> None:
        self.work, self.out, self.step, self.depth = work, out.open("w"), "", 0
        for method in self.METHODS:
            setattr(engine, method, self._wrap(method, getattr(engine, method)))

    def _wrap(self, method: str, call: Callable[..., Any]) -> Callable[..., Any]:
        import json
        import traceback

        def logged(*args: Any, **kwargs: Any) -> Any:
            if self.depth:
                return call(*args, **kwargs)
            self.work.since()
            cpu, started = process_cpu_s(), time.perf_counter()
            self.depth += 1
            try:
                return call(*args, **kwargs)
            finally:
                self.depth -= 1
                spent = self.work.since()
                first = args[0] if args else ""
                text = first if isinstance(first, str) else first.sql()
                caller = next(
                    (
                        f"{Path(f.filename).stem}.{f.name}"
                        for f in reversed(traceback.extract_stack(limit=12)[:-1])
                        if "klantreis" in f.filename and "engines" not in f.filename
                    ),
                    "?",
                )
                record = {
                    "step": self.step,
                    "method": method,
                    "caller": caller,
                    "what": " ".join(str(text).split())[:160],
                    "wall_s": round(time.perf_counter() - started, 3),
                    "cpu_s": round(process_cpu_s() - cpu, 3),
                    **{k: v for k, v in spent.items() if k != "heaviest"},
                }
                self.out.write(json.dumps(record) + "\n")
                self.out.flush()

        return logged


def jvm_threads_cpu_s(
    kinds: tuple[str, ...] = ("C1", "C2", "Executor task", "GC"),
) -> dict[str, float]:
    """CPU seconds of the JVMs under this process by kind of thread: the JVM's compilers
    (C1, C2: the just-in-time compilation of Spark's and each query's generated classes), the
    tasks, the garbage collector, and the rest (planning, scheduling, Py4J calls)."""
    tick = os.sysconf("SC_CLK_TCK")
    spent = dict.fromkeys((*kinds, "other"), 0.0)
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    for pid in children:
        for thread in Path(f"/proc/{pid}/task").glob("*"):
            try:
                name = (thread / "comm").read_text().strip()
                fields = (thread / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            kind = next((k for k in kinds if name.startswith(k)), "other")
            spent[kind] += (int(fields[11]) + int(fields[12])) / tick
    return spent


def times(spark_s: float, duck_s: float) -> str:
    """Spark's time as a multiple of DuckDB's; a dash when DuckDB did not run (--no-duckdb)."""
    return f"{spark_s / duck_s:5.1f}x" if duck_s > 0.005 else "  –  "


def record(
    work: Path,
    name: str,
    duck_s: float,
    spark_s: float,
    driver_s: float,
    slots: int,
    spent: dict[str, Any],
) -> None:
    """One JSON line per step in `<work>/steps.jsonl` as the step ends: a run cut off (hours
    at 10M events) loses nothing it measured, and a later run with `--only` appends to it."""
    import json
    import resource

    line = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "step": name,
        "duckdb_s": round(duck_s, 2),
        "spark_s": round(spark_s, 2),
        "driver_s": round(driver_s, 2),
        "slots": slots,
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in spent.items()},
        # this Python process and the Spark JVM, each at its own peak so far
        "peak_rss_gib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20 + jvm_rss_gib(), 2
        ),
        "load": round(os.getloadavg()[0], 1),
    }
    with (work / "steps.jsonl").open("a") as out:
        out.write(json.dumps(line) + "\n")


def jvm_rss_gib() -> float:
    """The peak resident memory of the JVMs under this process (VmHWM), in GiB."""
    peak = 0.0
    for pid in Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for row in status.splitlines():
            if row.startswith("VmHWM:"):
                peak = max(peak, int(row.split()[1]) / 2**20)
    return peak


def run(args: argparse.Namespace) -> None:
    import duckdb
    import pyarrow.parquet as pq

    import klantreis
    from klantreis.api import Klantreis
    from klantreis.collect.catalogue import store_products
    from klantreis.collect.simulator import SimulatorConfig, simulate
    from klantreis.config import Settings

    print(f"machine: {machine()}", flush=True)
    print(f"source: {Path(klantreis.__file__).parent}", flush=True)
    work = Path(args.work or tempfile.mkdtemp(prefix="spark-main-job-"))
    lake = work / "lake"
    lake.mkdir(parents=True, exist_ok=True)
    kept = lake / "events.parquet"
    if args.events and args.no_duckdb:
        # Spark alone: the file is copied, not read (10M events held as Arrow were 5.4 GB of
        # this process beside the JVM); a later run in the same --work folder reads the kept
        # lake and the derived tables Spark wrote (same file name: the same events fingerprint)
        if not kept.exists():
            shutil.copyfile(args.events, kept)
        events, products = None, None
        print(f"inputs: {pq.ParquetFile(kept).metadata.num_rows:,} events in {work}")
    elif args.events:
        events, products = pq.read_table(args.events), None
        print(f"inputs: {events.num_rows:,} events of {args.events}, {work}")
    else:
        shop = simulate(SimulatorConfig(persons=args.persons))
        events, products = shop.events, shop.products
        print(f"inputs: {events.num_rows:,} events ({args.persons:,} persons), {work}")
    if events is not None:
        pq.write_table(events, kept)

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
    if not args.no_duckdb:
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
    if args.java_options is not None:
        options["java_options"] = args.java_options
    started = time.perf_counter()
    spark = Klantreis(Settings(work / "state.duckdb", "spark", options, {}))
    spark.engine  # noqa: B018 - starts the session and reads the lake's tables
    start_s = time.perf_counter() - started
    work_log = SparkWork(spark.engine.session)  # type: ignore[attr-defined]
    query_log = (
        QueryLog(spark.engine, SparkWork(spark.engine.session), Path(args.profile))  # type: ignore[attr-defined]
        if args.profile
        else None
    )
    print(f"Spark session start and lake registration: {start_s:.1f} s", flush=True)
    print(f"Spark settings: {options}", flush=True)

    slots = int(args.master[6:-1]) if args.master.startswith("local[") else 1
    """Tasks that run at once: task time / slots is the wall time they took at best."""
    rows = []
    for name, step in steps():
        if name in args.skip or (args.only and name not in args.only):
            continue
        cpu, started = process_cpu_s(), time.perf_counter()
        if not args.no_duckdb:
            step(duck)
        duck_s = time.perf_counter() - started
        duck_cpu = process_cpu_s() - cpu
        if query_log is not None:
            query_log.step = name
        cpu, started = process_cpu_s(), time.perf_counter()
        step(spark)
        spark_s = time.perf_counter() - started
        spent = work_log.since()
        spent["cpu_s"] = process_cpu_s() - cpu
        spent["duck_cpu_s"] = duck_cpu
        rows.append((name, duck_s, spark_s, spent))
        driver = max(spark_s - spent["task_s"] / slots, 0)
        record(work, name, duck_s, spark_s, driver, slots, spent)
        print(
            f"{name:24s} DuckDB {duck_s:8.2f} s (CPU {duck_cpu:6.1f} s)"
            f"  Spark {spark_s:8.2f} s ({times(spark_s, duck_s)})"
            f"  stages {spent['stages']:4.0f}  tasks {spent['tasks']:5.0f}"
            f"  task time {spent['task_s']:7.1f} s (CPU {spent['task_cpu_s']:6.1f} s,"
            f" GC {spent['gc_s']:5.1f} s, spilled {spent['spilled_mib']:.0f} MiB)"
            f"  driver {driver:7.1f} s  CPU all processes {spent['cpu_s']:7.1f} s"
            f"  heaviest: {spent['heaviest']}  [load {os.getloadavg()[0]:.1f}]",
            flush=True,
        )
    total_duck = sum(r[1] for r in rows)
    total_spark = sum(r[2] for r in rows)
    tasks = sum(r[3]["task_s"] for r in rows)
    task_cpu = sum(r[3]["task_cpu_s"] for r in rows)
    cpu = sum(r[3]["cpu_s"] for r in rows)
    duck_cpu = sum(r[3]["duck_cpu_s"] for r in rows)
    print(
        f"{'total':24s} DuckDB {total_duck:8.2f} s ({total_duck / floor:.0f}x floor, "
        f"CPU {duck_cpu:.1f} s)  "
        f"Spark {total_spark:8.2f} s ({times(total_spark, total_duck)} DuckDB), "
        f"task time {tasks:.1f} s over {slots} slot(s), the rest (driver, scheduling, "
        f"waiting) {max(total_spark - tasks / slots, 0):.1f} s; task CPU {task_cpu:.1f} s, "
        f"CPU of all Spark processes {cpu:.1f} s"
    )
    threads = ", ".join(f"{k} {v:.1f} s" for k, v in jvm_threads_cpu_s().items())
    print(f"CPU of the Spark JVM by thread, session start included: {threads}")
    print(f"machine at the end: {machine()}")
    spark.close()
    duck.close()
    if not args.work:  # a folder of its own: its store, lake and steps are printed above
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--events", help="a Parquet file of events instead of the simulated shop")
    parser.add_argument(
        "--work",
        help="folder for the store and the lake, kept (default: a temporary one, removed)",
    )
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--shuffle-partitions", type=int, default=4)
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's memory_limit")
    parser.add_argument("--skip", nargs="*", default=[], help="steps to leave out")
    parser.add_argument(
        "--only", nargs="*", default=[], help="run only these steps (and those before none)"
    )
    parser.add_argument("--no-duckdb", action="store_true", help="Spark only (DuckDB's times 0)")
    parser.add_argument(
        "--java-options", help="[engine] java_options (default: the engine's; '' for none)"
    )
    parser.add_argument("--profile", help="write each Spark query's time here (JSON lines)")
    parser.add_argument(
        "--src",
        default=str(ROOT / "src"),
        help="the klantreis source to run (e.g. another checkout's, for a baseline)",
    )
    args = parser.parse_args()
    sys.path.insert(0, args.src)
    run(args)


if __name__ == "__main__":
    main()
