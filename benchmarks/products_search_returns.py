"""Products, returns and search: how long each takes next to `kr.stats()` on the same store.

Stores: the demo shop (`klantreis demo`'s default: 2,000 persons, seed 7, with its catalogue),
the Olist sample (its products file is the catalogue) and, with `--store-1m`, a 1M-event store
of `benchmarks/main_job.py --sizes 1M` (copied first; the simulator's catalogue is stored in
the copy when it has none). The model is built before timing. Each analysis runs `--repeat`
times (default 5) in this process; the median is printed, and its ratio to the median of
`kr.stats()` measured in the same run on the same store.

    python benchmarks/products_search_returns.py
    python benchmarks/products_search_returns.py \
        --store-1m /tmp/klantreis-bench/main_job/store_1000000/shop.duckdb

DuckDB's memory limit is 6GB (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

import klantreis
from klantreis.collect.catalogue import store_products
from klantreis.collect.imports.olist import import_olist
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.collect.simulator.catalogue import catalogue_table, make_catalogue
from klantreis.errors import KlantreisError
from klantreis.model import ensure_built

ROOT = Path(__file__).resolve().parents[1]
OLIST = ROOT.parent.parent / "shared" / "data" / "github-Dhipin1-olist-sample15k"
MEMORY_LIMIT = "6GB"
ANALYSES: dict[str, Callable[[Any], Any]] = {
    "stats": lambda kr: kr.stats(),
    "products": lambda kr: kr.products(),
    "returns": lambda kr: kr.returns(),
    "search": lambda kr: kr.search(),
}


def machine() -> str:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, load {load:.1f}, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def demo_store(folder: Path, existing: Path | None) -> Path:
    """The demo shop, simulated here, or a copy of a store `klantreis demo` made."""
    path = folder / "demo.duckdb"
    if existing is not None:
        shutil.copy(existing, path)
        return path
    shop = simulate(SimulatorConfig())
    with klantreis.open(path) as kr:
        for batch in shop.iter_batches(50_000):
            kr.store.append(batch)
        store_products(kr.store, shop.products, source="demo")
    return path


def olist_store(folder: Path, olist: Path) -> Path:
    path = folder / "olist.duckdb"
    with klantreis.open(path) as kr:
        import_olist(kr.store, olist)
    return path


def copied_store(folder: Path, source: Path) -> Path:
    """A copy of a main_job store, with the simulator's catalogue when it holds none."""
    path = folder / "store_1m.duckdb"
    shutil.copy(source, path)
    with klantreis.open(path) as kr:
        engine = kr.engine
        if not engine.has_table("products") or not engine.scalar("SELECT count(*) FROM products"):
            products = make_catalogue(random.Random("424242:catalogue"))
            store_products(kr.store, catalogue_table(products), source="demo")
    return path


def measure(path: Path, repeat: int) -> dict[str, dict[str, Any]]:
    with klantreis.open(path) as kr:
        kr.store.connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        ensure_built(kr)
        events = kr.engine.scalar("SELECT count(*) FROM journey_events")
        times: dict[str, dict[str, Any]] = {}
        for name, run in ANALYSES.items():
            seconds = []
            error = None
            for _ in range(repeat):
                start = time.perf_counter()
                try:
                    run(kr)
                except KlantreisError as exc:
                    error = str(exc)
                    break
                seconds.append(time.perf_counter() - start)
            times[name] = {
                "median": statistics.median(seconds) if seconds else None,
                "error": error,
            }
        times["_events"] = {"median": events, "error": None}
    return times


def report(label: str, times: dict[str, dict[str, Any]]) -> None:
    base = times["stats"]["median"]
    print(f"\n{label}: {times['_events']['median']:,} journey events")
    print(f"{'analysis':<10} {'median s':>9} {'× stats':>8}")
    for name in ANALYSES:
        row = times[name]
        if row["median"] is None:
            print(f"{name:<10} {'–':>9} {'–':>8}  ({row['error']})")
            continue
        print(f"{name:<10} {row['median']:>9.3f} {row['median'] / base:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--olist", type=Path, default=OLIST)
    parser.add_argument("--store-1m", type=Path, default=None)
    parser.add_argument("--demo", type=Path, default=None, help="a store `klantreis demo` made")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"median of {args.repeat} runs each, in one process; ratio to kr.stats() on the store")
    with tempfile.TemporaryDirectory(prefix="klantreis-psr-") as tmp:
        folder = Path(tmp)
        stores = []
        if not args.skip_demo:
            stores.append(("demo (2,000 persons, seed 7)", demo_store(folder, args.demo)))
        stores.append(("Olist sample (15k orders)", olist_store(folder, args.olist)))
        if args.store_1m is not None:
            stores.append(("1M events (main_job)", copied_store(folder, args.store_1m)))
        for label, path in stores:
            report(label, measure(path, args.repeat))


if __name__ == "__main__":
    main()
