"""How long `import_olist` takes on the Olist 15k-order sample, against DuckDB just reading it.

    python benchmarks/import_olist.py [OLIST_DIR] [--repeat 3]

Each run imports into a fresh temporary store. The baseline, measured in the same run, is
DuckDB reading the same CSV files (all columns as text) and counting rows: the floor any import
built on it pays before making a single event.
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
import pyarrow

import klantreis
from klantreis.collect.imports import import_olist
from klantreis.collect.imports.olist import FILES
from klantreis.store import Store

DEFAULT_DIR = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "github-Dhipin1-olist-sample15k"
)


def machine() -> str:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"PyArrow {pyarrow.__version__}, klantreis {getattr(klantreis, '__version__', '?')}"
    )


def baseline(directory: Path) -> tuple[float, int]:
    con = duckdb.connect()
    started = time.perf_counter()
    rows = 0
    for name, _columns, _required in FILES.values():
        path = directory / name
        if path.exists():
            rows += con.execute(
                "SELECT count(*) FROM read_csv($p, all_varchar = true, header = true)",
                {"p": str(path)},
            ).fetchone()[0]
    return time.perf_counter() - started, rows


def one_import(directory: Path) -> tuple[float, float, dict]:
    """Seconds for the import, seconds for appending its events alone, and the summary."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        started = time.perf_counter()
        summary = import_olist(store, directory)
        seconds = time.perf_counter() - started
        events = store.connection.sql("SELECT * FROM events").to_arrow_table()
        store.close()
        again = Store(Path(tmp) / "append-only.duckdb")
        started = time.perf_counter()
        again.append(events)
        append_seconds = time.perf_counter() - started
        again.close()
    return seconds, append_seconds, summary.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"machine : {machine()}")
    print(f"input   : {args.directory}")
    base, imports, appends = [], [], []
    summary: dict = {}
    for _ in range(args.repeat):
        seconds, rows = baseline(args.directory)
        base.append(seconds)
        seconds, append_seconds, summary = one_import(args.directory)
        imports.append(seconds)
        appends.append(append_seconds)
    print(f"rows    : {summary['rows_read']:,} read ({rows:,} by the baseline)")
    print(f"events  : {summary['events_stored']:,} stored, {summary['quarantined']} quarantined")
    for name, count in summary["events_by_name"].items():
        print(f"          {name:<22} {count:>8,}")
    print(
        f"baseline: DuckDB reads the CSVs     median {statistics.median(base):6.2f} s  "
        f"(runs: {', '.join(f'{s:.2f}' for s in base)})"
    )
    print(
        f"import  : import_olist, fresh store median {statistics.median(imports):6.2f} s  "
        f"(runs: {', '.join(f'{s:.2f}' for s in imports)})"
    )
    print(
        f"of which: Store.append of the events  median {statistics.median(appends):6.2f} s  "
        f"(measured separately into a fresh store)"
    )
    print(f"load    : {os.getloadavg()[0]:.1f} (1-minute load average at the end)")


if __name__ == "__main__":
    main()
