"""How long judging every expectation and drawing the scorecard take on the Olist sample.

    python benchmarks/expectations.py [OLIST_DIR] [--repeat 3]

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
import statistics
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
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
