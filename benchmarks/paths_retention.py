"""Paths, retention, repeat purchase and phase flow on DuckDB over the benchmark event log.

    python benchmarks/paths_retention.py              # 10M events
    python benchmarks/paths_retention.py --sizes 1M

Same log as benchmarks/funnel.py (generated once). Baseline in the same run: one exact
`count(DISTINCT person_id)` over the file, the floor any per-person analysis pays.
Each analysis runs in a fresh process that reports its own peak memory.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import duckdb
from analytics_log import generate
from analytics_timing import machine, measured, median

from klantreis.measure.paths import run_paths
from klantreis.measure.phase_flow import run_phase_transitions, run_time_in_phase
from klantreis.measure.retention import run_repeat_purchase, run_retention
from klantreis.store.engines.duckdb import DuckDBEngine

DATA = Path(os.environ.get("KLANTREIS_BENCH_DATA", "/tmp/klantreis-bench"))


def _engine(path: str) -> DuckDBEngine:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    # the generated log has no message ids; the row number stands in (the tie-break column)
    con.execute(
        "CREATE VIEW journey_events AS SELECT * EXCLUDE (file_row_number), "
        "'m' || CAST(file_row_number AS VARCHAR) AS message_id "
        f"FROM read_parquet('{path}', file_row_number = true)"
    )
    return DuckDBEngine(con)


def baseline(path: str) -> int:
    return int(_engine(path).scalar("SELECT count(DISTINCT person_id) FROM journey_events"))


def paths_after_search(path: str) -> int:
    return run_paths(_engine(path), start_event="Products Searched", steps=4).paths.num_rows


def paths_before_order(path: str) -> int:
    return run_paths(_engine(path), end="Order Completed", steps=4, by="event").paths.num_rows


def weekly_retention(path: str) -> int:
    return run_retention(_engine(path), period="week").num_rows


def repeat_purchase(path: str) -> int:
    return run_repeat_purchase(_engine(path), period="month").num_rows


def phase_flow(path: str) -> int:
    engine = _engine(path)
    return run_time_in_phase(engine).num_rows + run_phase_transitions(engine).num_rows


ANALYSES = {
    "baseline count(distinct)": baseline,
    "paths after search": paths_after_search,
    "paths before order": paths_before_order,
    "retention weekly": weekly_retention,
    "repeat purchase monthly": repeat_purchase,
    "time in phase + matrix": phase_flow,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10M"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from funnel import size

    print(machine())
    DATA.mkdir(exist_ok=True)
    for label in args.sizes:
        path = generate(size(label), DATA / f"events_{label}.parquet")
        print(f"\n{label} events ({path.stat().st_size / 2**20:.0f} MiB parquet)")
        base = None
        for name, func in ANALYSES.items():
            runs = [measured(func, str(path)) for _ in range(args.repeat)]
            seconds = median([r[0] for r in runs])
            base = base or seconds
            peak = max(r[1] for r in runs)
            print(
                f"  {name:26s} median {seconds:7.2f} s  x{seconds / base:5.1f} baseline  "
                f"peak {peak:5.2f} GiB  rows {runs[0][2]}"
            )


if __name__ == "__main__":
    main()
