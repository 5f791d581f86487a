"""What the typed query costs: `kr.funnel(...)` (validated into `FunnelQuery`) against the
runner called directly, on a small store, rounds interleaved so load on the machine hits both.

    python benchmarks/query_validation.py

Prints the medians, their ratio (baseline: the runner alone, same run) and the median time of
`FunnelQuery.of(...)` by itself.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from stories import story

import klantreis
from klantreis.measure.funnels.runner import FunnelQuery, funnel
from klantreis.store import Store

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
PERSONS = 2000
ROUNDS = 15


def median_seconds(call: Callable[[], object], times: int) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "validation.duckdb"
    people = {
        f"p{i}": [(event, f"09:0{j}") for j, event in enumerate(STEPS[: 1 + i % 4])]
        for i in range(PERSONS)
    }
    with Store(path) as store:
        store.append(story(people))
    with klantreis.open(path) as kr:
        kr.funnel(STEPS)  # builds the model once
        typed, direct = [], []
        for _ in range(ROUNDS):
            typed.append(median_seconds(lambda: kr.funnel(STEPS, window="7d"), 3))
            direct.append(median_seconds(lambda: funnel(kr, STEPS, window="7d"), 3))
        alone = median_seconds(lambda: FunnelQuery.of(steps=STEPS, window="7d"), 2000)
    t, d = statistics.median(typed), statistics.median(direct)
    print(f"kr.funnel (validated) median {t * 1e3:.2f} ms")
    print(f"runner alone (baseline) median {d * 1e3:.2f} ms")
    print(f"ratio {t / d:.3f}; FunnelQuery.of alone median {alone * 1e6:.1f} us")


if __name__ == "__main__":
    main()
