"""How long judging every expectation and drawing the scorecard take on the Olist sample; with
`--store`, judging and re-judging after new events on a built store, each step a fresh process.

    python benchmarks/expectations.py [OLIST_DIR] [--repeat 3]
    python benchmarks/expectations.py --store STORE.duckdb --increment NEW.parquet \
        [--baseline-src OLD/src]

With `--store` (a store with the model built, e.g. the 1M or 10M store of `main_job.py`, and
its `increment_N.parquet`): the store is copied next to it, then each step in its own process,
in this order: the floor (`count(DISTINCT person_id)` by event over `journey_events`), judging
every rule, the new events stored, the model refreshed (not judging; shown for scale), the floor
again, and judging again (after a refresh: the refreshed persons only). `--baseline-src` runs
the same steps with another checkout's `src` first (the code before a change), in the same run.
Each row: wall seconds, the process's CPU seconds, the load average when it started.

The Olist sample is imported once and the model built once (not timed). Then, per run: the case
tables rebuilt (`ensure_cases` with a changed comparison mode forces it) and the scorecard
computed from them. The baseline, measured in the same run, is one hand-written DuckDB query
over `journey_events` answering only the headline question (share of delivered orders late):
the floor for reading the same rows once.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

import klantreis
from klantreis.collect.imports import import_olist
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.scorecard import build_scorecard
from klantreis.model import ensure_built

DEFAULT_DIR = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "github-Dhipin1-olist-sample15k"
)

BASELINE = """
WITH placed AS (
    SELECT order_id, TRY_CAST(properties ->> '$.promised_delivery_date' AS TIMESTAMP) AS due
    FROM journey_events WHERE event = 'Order Completed'),
arrived AS (
    SELECT order_id, min(timestamp) AS at FROM journey_events
    WHERE event = 'Order Delivered' GROUP BY order_id)
SELECT avg(CASE WHEN a.at > p.due THEN 1.0 ELSE 0.0 END)
FROM placed AS p JOIN arrived AS a USING (order_id)
"""


def machine() -> str:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, load {load:.1f}, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


STEPS = ("floor", "judge", "append", "refresh", "floor", "judge")
TITLES = {
    0: "floor",
    1: "judge every rule",
    2: "store +1 % new events",
    3: "model refresh (not judging)",
    4: "floor again",
    5: "judge again (refreshed persons)",
}


def child(step: str, store: str, extra: str | None) -> None:
    """One step in this process; prints its wall and CPU seconds."""
    kr = klantreis.open(store)
    kr.store.connection.execute("SET memory_limit = '4GB'")
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if step == "floor":
        kr.engine.rows("SELECT event, count(DISTINCT person_id) FROM journey_events GROUP BY 1")
    elif step == "judge":
        ensure_cases(kr)
    elif step == "append":
        import pyarrow.parquet as pq

        kr.store.append(pq.read_table(extra))
    elif step == "refresh":
        ensure_built(kr)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    kr.close()
    print(f"RESULT {wall:.2f} {cpu:.2f} {load:.1f}")


def on_store(
    store: Path, increment: Path, src: Path, work: Path
) -> list[tuple[float, float, float]]:
    """The steps on a copy of `store` in `work`, each in a fresh process running `src`'s code."""
    copy = work / f"judge_bench_{os.getpid()}.duckdb"
    shutil.copy(store, copy)
    found = []
    try:
        for step in STEPS:
            command = [sys.executable, __file__, "--child", step, str(copy), str(increment)]
            env = {**os.environ, "PYTHONPATH": str(src)}
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
            wall, cpu, load = (float(v) for v in line.split()[1:])
            found.append((wall, cpu, load))
    finally:
        copy.unlink(missing_ok=True)
        Path(f"{copy}.wal").unlink(missing_ok=True)
    return found


def compare(args: argparse.Namespace) -> None:
    here = Path(__file__).resolve().parents[1] / "src"
    codes = [("before", args.baseline_src)] if args.baseline_src else []
    codes.append(("after", here))
    for label, src in codes:
        print(f"\n{label}: {src}")
        rows = on_store(args.store, args.increment, src, args.work)
        floor, again_floor = rows[0][0], rows[4][0]
        for index, (wall, cpu, load) in enumerate(rows):
            base = floor if index < 4 else again_floor
            print(
                f"  {TITLES[index]:34} {wall:8.2f} s  cpu {cpu:7.2f} s  "
                f"{wall / base:6.1f}x floor  load {load:.1f}"
            )
        print(
            f"  judge again / judge every rule: {rows[5][0] / rows[1][0]:.1%} (wall), "
            f"{rows[5][1] / rows[1][1]:.1%} (cpu)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", type=Path, help="a store with the model built")
    parser.add_argument("--increment", type=Path, help="new events to add (Parquet)")
    parser.add_argument("--baseline-src", type=Path, help="the src folder of the code before")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()), help="where the copy goes"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"machine: {machine()}")
    if args.store:
        if not args.increment:
            parser.error("--store needs --increment")
        compare(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        kr = klantreis.open(Path(tmp) / "bench.duckdb")
        import_olist(kr.store, args.directory)
        ensure_built(kr)
        events = kr.engine.scalar("SELECT count(*) FROM events")
        print(f"input: {args.directory.name}, {events:,} events")
        judge, card, base = [], [], []
        for run in range(args.repeat):
            started = time.perf_counter()
            ensure_cases(kr, compare="day" if run % 2 else "timestamp")
            judge.append(time.perf_counter() - started)
            started = time.perf_counter()
            build_scorecard(kr, compare="day" if run % 2 else "timestamp")
            card.append(time.perf_counter() - started)
            started = time.perf_counter()
            kr.engine.scalar(BASELINE)
            base.append(time.perf_counter() - started)
        cases = kr.engine.scalar("SELECT count(*) FROM expectation_cases")
        print(f"cases judged: {cases:,} ({args.repeat} runs, medians)")
        print(f"  judge all rules (rebuild case tables): {statistics.median(judge):.3f} s")
        print(f"  scorecard from the case tables:        {statistics.median(card):.3f} s")
        print(f"  baseline, one hand-written late-share query: {statistics.median(base):.3f} s")
        kr.close()


if __name__ == "__main__":
    main()
