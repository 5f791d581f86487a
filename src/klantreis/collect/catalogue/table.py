"""The `products` table and how a catalogue import writes it (one row per product id)."""

from __future__ import annotations

import pyarrow as pa

from klantreis.store import Store
from klantreis.store.schema import TableSpec, register_table
from klantreis.store.store import utcnow

PRODUCT_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("product_id", pa.string(), "VARCHAR PRIMARY KEY"),
    ("name", pa.string(), "VARCHAR"),
    ("category", pa.string(), "VARCHAR"),
    ("price", pa.float64(), "DOUBLE"),
    ("photos", pa.int64(), "BIGINT"),
    ("description_length", pa.int64(), "BIGINT"),
    ("name_length", pa.int64(), "BIGINT"),
    ("specifications", pa.int64(), "BIGINT"),
    ("weight_g", pa.float64(), "DOUBLE"),
    ("length_cm", pa.float64(), "DOUBLE"),
    ("height_cm", pa.float64(), "DOUBLE"),
    ("width_cm", pa.float64(), "DOUBLE"),
    ("attributes", pa.string(), "VARCHAR"),
    ("source", pa.string(), "VARCHAR"),
    ("imported_at", pa.timestamp("us"), "TIMESTAMP"),
)
"""A product as a catalogue export describes it. `photos`, `description_length` and
`specifications` are what content quality scores; NULL means the export does not say (which
scores as missing). `attributes` keeps the export's other columns as a JSON object, so nothing
the export holds is lost."""

PRODUCT_SCHEMA = pa.schema([pa.field(name, kind) for name, kind, _ in PRODUCT_COLUMNS])

_ddl = ",\n    ".join(f"{name} {sql}" for name, _, sql in PRODUCT_COLUMNS)
PRODUCTS_TABLE = register_table(
    TableSpec("products", f"CREATE TABLE IF NOT EXISTS products (\n    {_ddl}\n)")
)


def store_products(store: Store, products: pa.Table, *, source: str) -> int:
    """Insert or replace the products of one import; returns how many rows were written.

    Columns the table lacks are filled with NULL; `source` and `imported_at` are set here.
    A product id that appears twice keeps its first row (the import decides the order).
    """
    if products.num_rows == 0:
        return 0
    now = utcnow()
    arrays = []
    for name, kind, _ in PRODUCT_COLUMNS:
        if name == "source":
            arrays.append(pa.array([source] * products.num_rows, pa.string()))
        elif name == "imported_at":
            arrays.append(pa.array([now] * products.num_rows, pa.timestamp("us")))
        elif name in products.column_names:
            arrays.append(products[name].cast(kind))
        else:
            arrays.append(pa.nulls(products.num_rows, kind))
    table = pa.Table.from_arrays(arrays, schema=PRODUCT_SCHEMA)
    store.register_table(PRODUCTS_TABLE)
    con = store.connection
    con.register("_products_batch", table)
    try:
        with store.write_lock, store.transaction():
            con.execute(
                "INSERT OR REPLACE INTO products BY NAME SELECT * FROM _products_batch "
                "QUALIFY row_number() OVER (PARTITION BY product_id) = 1"
            )
    finally:
        con.unregister("_products_batch")
    return table.num_rows
