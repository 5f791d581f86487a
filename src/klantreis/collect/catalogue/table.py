"""The `products` table and how a catalogue import writes it (one row per product id)."""

from __future__ import annotations

import pyarrow as pa

from klantreis.store import Store
from klantreis.store.schema import Column, TableSpec, register_table
from klantreis.store.store import utcnow

PRODUCTS_TABLE = register_table(
    TableSpec(
        "products",
        columns=(
            Column("product_id", "VARCHAR"),
            Column("name", "VARCHAR"),
            Column("category", "VARCHAR"),
            Column("price", "DOUBLE"),
            Column("photos", "BIGINT"),
            Column("description_length", "BIGINT"),
            Column("name_length", "BIGINT"),
            Column("specifications", "BIGINT"),
            Column("weight_g", "DOUBLE"),
            Column("length_cm", "DOUBLE"),
            Column("height_cm", "DOUBLE"),
            Column("width_cm", "DOUBLE"),
            Column("attributes", "VARCHAR"),
            Column("source", "VARCHAR"),
            Column("imported_at", "TIMESTAMP"),
        ),
        key=("product_id",),
        doc="a product as the catalogue export describes it: photos, description, "
        "specifications (NULL: the export does not say)",
    )
)
"""`photos`, `description_length` and `specifications` are what content quality scores;
`attributes` keeps the export's other columns as a JSON object, so nothing it holds is lost."""
PRODUCT_COLUMNS = PRODUCTS_TABLE.column_names
PRODUCT_SCHEMA = PRODUCTS_TABLE.arrow_schema


def store_products(store: Store, products: pa.Table, *, source: str) -> int:
    """Insert or replace the products of one import; returns how many rows were written.

    Columns the table lacks are filled with NULL; `source` and `imported_at` are set here.
    A product id that appears twice keeps its first row (the import decides the order).
    """
    if products.num_rows == 0:
        return 0
    now = utcnow()
    arrays = []
    for field in PRODUCT_SCHEMA:
        name, kind = field.name, field.type
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
