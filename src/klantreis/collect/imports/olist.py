"""Import the Olist Brazilian e-commerce export (the CSV files as published) as events.

One order becomes `Order Completed`, a `Payment Info Entered` per payment, `Order Approved`,
`Order Shipped`, `Order Delivered` and `Order Cancelled` as its timestamps and status say, and
its review a `Review Submitted`. The customer's `customer_unique_id` is the user id and the
per-order `customer_id` the anonymous id, so the model stitches a repeat buyer's orders into one
person. The products file fills the `products` table (photos, description and name lengths,
weight and dimensions: `collect/catalogue/olist.py`). Message ids are derived from Olist's ids:
a re-import stores nothing twice.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from klantreis.collect.catalogue import store_products
from klantreis.collect.catalogue.olist import COLUMNS as PRODUCT_COLUMNS
from klantreis.collect.catalogue.olist import PRODUCTS
from klantreis.collect.catalogue.olist import QUARANTINE as PRODUCT_QUARANTINE
from klantreis.collect.imports.errors import ImportFailed
from klantreis.collect.imports.olist_sql import EVENTS, MACROS, QUARANTINE, STAGE
from klantreis.collect.imports.quarantine import SCHEMA as QUARANTINE_SCHEMA
from klantreis.collect.imports.quarantine import QuarantineBuffer
from klantreis.collect.imports.readers import RejectedRow, Source, workspace
from klantreis.collect.imports.summary import ImportSummary, Progress
from klantreis.store import Store
from klantreis.store.store import utcnow

SOURCE = "import:olist"
FILES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    # key: (file name, columns the import reads, required)
    "orders": (
        "olist_orders_dataset.csv",
        (
            "order_id",
            "customer_id",
            "order_status",
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
            "order_estimated_delivery_date",
        ),
        True,
    ),
    "customers": (
        "olist_customers_dataset.csv",
        (
            "customer_id",
            "customer_unique_id",
            "customer_zip_code_prefix",
            "customer_city",
            "customer_state",
        ),
        True,
    ),
    "items": (
        "olist_order_items_dataset.csv",
        ("order_id", "order_item_id", "product_id", "seller_id", "price", "freight_value"),
        True,
    ),
    "payments": (
        "olist_order_payments_dataset.csv",
        ("order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"),
        True,
    ),
    "reviews": (
        "olist_order_reviews_dataset.csv",
        (
            "review_id",
            "order_id",
            "review_score",
            "review_comment_title",
            "review_comment_message",
            "review_creation_date",
            "review_answer_timestamp",
        ),
        True,
    ),
    "products": ("olist_products_dataset.csv", PRODUCT_COLUMNS, False),
    "translation": (
        "product_category_name_translation.csv",
        ("product_category_name", "product_category_name_english"),
        False,
    ),
}


def import_olist(
    store: Store, directory: str | Path, *, progress: Progress | None = None
) -> ImportSummary:
    """Read the Olist export in `directory` and store its events; bad rows are quarantined.

    Raises `ImportFailed` naming the file when a required file or column is missing.
    """
    started = time.perf_counter()
    directory = Path(directory)
    if not directory.is_dir():
        raise ImportFailed(f"{directory}: no such directory (expected the Olist CSV files)")
    summary = ImportSummary(source=SOURCE)
    rejects = QuarantineBuffer(source=SOURCE)
    rejected: dict[str, list[RejectedRow]] = {}
    paths: dict[str, str] = {}
    con = workspace()
    for key, (name, columns, required) in FILES.items():
        path = directory / name
        if not path.exists() and not required:
            _empty_table(con, key, columns)
            continue
        if not path.exists():
            raise ImportFailed(f"{path}: no such file (the Olist export needs {name})")
        source = Source.open(path, "csv", connection=con)
        missing = [c for c in columns if c not in source.columns]
        if missing:
            raise ImportFailed(f"{path}: column {missing[0]!r} is missing")
        table = source.read_all()
        con.register(f"{key}_raw", table)
        where = str(path.resolve())  # quarantine rows name the file the same from anywhere
        summary.files.append(str(path))
        summary.rows_read += table.num_rows
        rejected[where] = source.rejected()
        rejects.add_rejected(rejected[where], file=where)
        paths[key] = where
        if progress:
            progress(table.num_rows, f"read {name}")

    for sql in MACROS + STAGE:
        con.execute(sql)
    events = con.sql(EVENTS, params={"received_at": utcnow()}).to_arrow_table()
    bad = con.sql(QUARANTINE).to_arrow_table()
    rejects.add(_quarantine_rows(bad, paths))
    if "products" in paths:
        rejects.add(_quarantine_rows(con.sql(PRODUCT_QUARANTINE).to_arrow_table(), paths))
        summary.products = store_products(store, con.sql(PRODUCTS).to_arrow_table(), source=SOURCE)
    if progress:
        progress(0, "storing events")

    summary.count_events(events)
    result = store.append(events)
    summary.events_stored, summary.duplicates = result.stored, result.duplicates
    rejects.write(store, summary, rejected)
    con.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _empty_table(con: duckdb.DuckDBPyConnection, key: str, columns: tuple[str, ...]) -> None:
    schema = pa.schema([pa.field(c, pa.string()) for c in columns] + [("__line", pa.int64())])
    con.register(f"{key}_raw", schema.empty_table())


def _quarantine_rows(bad: pa.Table, paths: dict[str, str]) -> pa.Table:
    """Add the quarantine's bookkeeping columns: id, time, source and the file's path."""
    now = utcnow()
    rows = bad.to_pylist()
    records = []
    for row in rows:
        file = paths[row.pop("file_key")]
        records.append(
            {
                "quarantine_id": _quarantine_id(file, row["line"], row["column_name"]),
                "received_at": now,
                "source": SOURCE,
                "file": file,
                **row,
            }
        )
    return pa.Table.from_pylist(records, schema=QUARANTINE_SCHEMA)


def _quarantine_id(file: str, line: int, column: str) -> str:
    key = f"{SOURCE}|{file}|{line}|{column}"
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
