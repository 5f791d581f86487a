"""Olist's products file as published, as `products` rows (static DuckDB SQL).

Olist publishes no names or description texts, only their lengths (`product_name_lenght`,
`product_description_lenght`, spelt so), the number of photos and the parcel's weight and
dimensions. Those four measurements are the product's specifications: `specifications` counts
how many of them the seller filled in. The category is the English one where the translation
file has it. A value that is not a number is quarantined with its column and stored as NULL;
a row without a product id is quarantined whole.
"""

from __future__ import annotations

NUMBERS = (
    ("product_name_lenght", "name_length", "kr_int"),
    ("product_description_lenght", "description_length", "kr_int"),
    ("product_photos_qty", "photos", "kr_int"),
    ("product_weight_g", "weight_g", "kr_num"),
    ("product_length_cm", "length_cm", "kr_num"),
    ("product_height_cm", "height_cm", "kr_num"),
    ("product_width_cm", "width_cm", "kr_num"),
)
COLUMNS = ("product_id", "product_category_name", *(raw for raw, _, _ in NUMBERS))

PRODUCTS = """
WITH products AS (
    SELECT * FROM products_raw WHERE product_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY __line) = 1
), translation AS (
    SELECT * FROM translation_raw
    QUALIFY row_number() OVER (PARTITION BY product_category_name ORDER BY __line) = 1
)
SELECT p.product_id,
    coalesce(t.product_category_name_english, p.product_category_name) AS category,
    kr_int(p.product_name_lenght) AS name_length,
    kr_int(p.product_description_lenght) AS description_length,
    kr_int(p.product_photos_qty) AS photos,
    kr_num(p.product_weight_g) AS weight_g,
    kr_num(p.product_length_cm) AS length_cm,
    kr_num(p.product_height_cm) AS height_cm,
    kr_num(p.product_width_cm) AS width_cm,
    (kr_num(p.product_weight_g) IS NOT NULL)::INT + (kr_num(p.product_length_cm) IS NOT NULL)::INT
        + (kr_num(p.product_height_cm) IS NOT NULL)::INT
        + (kr_num(p.product_width_cm) IS NOT NULL)::INT AS specifications,
    CAST(json_object('product_category_name', p.product_category_name) AS VARCHAR) AS attributes
FROM products p LEFT JOIN translation t USING (product_category_name)
"""

QUARANTINE = """
SELECT 'products' AS file_key, __line AS line, 'product_id' AS column_name,
    'missing product_id' AS reason,
    CAST(json_merge_patch(to_json(p), '{"__line": null}') AS VARCHAR) AS raw,
    NULL AS message_id, NULL AS user_id, NULL AS anonymous_id
FROM products_raw p WHERE product_id IS NULL
UNION ALL
SELECT 'products', __line, column_name, 'not a number: ' || kr_shown(value), raw,
    NULL, NULL, NULL
FROM (
    SELECT __line, CAST(json_merge_patch(to_json(p), '{"__line": null}') AS VARCHAR) AS raw,
        unnest([
        {'column_name': 'product_name_lenght', 'value': product_name_lenght,
         'bad': product_name_lenght IS NOT NULL AND kr_int(product_name_lenght) IS NULL},
        {'column_name': 'product_description_lenght', 'value': product_description_lenght,
         'bad': product_description_lenght IS NOT NULL
             AND kr_int(product_description_lenght) IS NULL},
        {'column_name': 'product_photos_qty', 'value': product_photos_qty,
         'bad': product_photos_qty IS NOT NULL AND kr_int(product_photos_qty) IS NULL},
        {'column_name': 'product_weight_g', 'value': product_weight_g,
         'bad': product_weight_g IS NOT NULL AND kr_num(product_weight_g) IS NULL},
        {'column_name': 'product_length_cm', 'value': product_length_cm,
         'bad': product_length_cm IS NOT NULL AND kr_num(product_length_cm) IS NULL},
        {'column_name': 'product_height_cm', 'value': product_height_cm,
         'bad': product_height_cm IS NOT NULL AND kr_num(product_height_cm) IS NULL},
        {'column_name': 'product_width_cm', 'value': product_width_cm,
         'bad': product_width_cm IS NOT NULL AND kr_num(product_width_cm) IS NULL}
    ], recursive := true) FROM products_raw p WHERE product_id IS NOT NULL
) WHERE bad
"""
