"""What grouping line items into orders costs: the `shopify-orders` preset (group_by + items)
against the same columns imported one event per row, on a synthetic Shopify export.

    python benchmarks/import_grouped.py [--orders 100000] [--repeat 3]

The export is written from the sample in tests/collect/presets/ (its header, its values),
with 1-4 line items per order; each run imports into a fresh temporary store. The baseline,
measured in the same run, is a flat mapping reading the same file and the same columns into
the same events per row (no grouping): the ratio is what `group_by` adds.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from klantreis.collect.imports import import_file, load_mapping
from klantreis.store import Store

SAMPLE = (
    Path(__file__).resolve().parents[1] / "tests" / "collect" / "presets" / "shopify_orders.csv"
)


def machine() -> str:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def write_export(path: Path, orders: int) -> int:
    """A Shopify-shaped export: the sample's first order repeated with new numbers."""
    with SAMPLE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    first, item = rows[0], rows[1]
    rng = random.Random(7)
    written = 0
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        for number in range(orders):
            name = f"#{100000 + number}"
            for index in range(rng.randint(1, 4)):
                row = dict(first if index == 0 else item)
                row["Name"] = name
                row["Lineitem sku"] = f"SKU-{rng.randint(1, 5000)}"
                writer.writerow(row)
                written += 1
    return written


def flat_mapping() -> dict:
    """The preset without grouping: its events made from every row, line items as columns."""
    spec, _origin = load_mapping("shopify-orders")
    raw = spec.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
    for event in raw["events"]:
        event.pop("group_by", None)
        products = event["properties"].pop("products", None)
        if products:
            event["properties"].update({f"item_{k}": v for k, v in products["items"].items()})
        template = event["message_id"]["template"]
        event["message_id"] = {"template": template + ":{Lineitem sku}:{Lineitem name}"}
    return {**raw, "name": "flat"}


def timed(file: Path, mapping: object) -> float:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.duckdb") as store:
        started = time.perf_counter()
        import_file(store, file, mapping)  # type: ignore[arg-type]
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "orders_export.csv"
        rows = write_export(file, args.orders)
        print(f"machine: {machine()}")
        print(
            f"input: {args.orders:,} orders, {rows:,} rows, {file.stat().st_size / 2**20:.0f} MiB"
        )
        flat = [timed(file, flat_mapping()) for _ in range(args.repeat)]
        grouped = [timed(file, "shopify-orders") for _ in range(args.repeat)]
    base, preset = statistics.median(flat), statistics.median(grouped)
    print(f"baseline (flat mapping, one event per row): median {base:.2f} s of {args.repeat}")
    print(f"shopify-orders (group_by + items):          median {preset:.2f} s of {args.repeat}")
    print(f"ratio: {preset / base:.2f}x")


if __name__ == "__main__":
    main()
