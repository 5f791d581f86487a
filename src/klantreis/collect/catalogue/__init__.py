"""The shop's product catalogue: what each product page offers, kept beside the events.

Products are not events: a catalogue export says what a product *is* now (its photos, its
description, its specifications), and the `products` table keeps one row per product id,
replaced when a newer export names it again. Content quality (`measure/products`) joins it to
the orders, reviews and returns that mention the product.
"""

from klantreis.collect.catalogue.table import PRODUCT_COLUMNS, PRODUCTS_TABLE, store_products

__all__ = ["PRODUCTS_TABLE", "PRODUCT_COLUMNS", "store_products"]
