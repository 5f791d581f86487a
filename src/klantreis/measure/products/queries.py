"""The queries content quality reads: one pass each over `journey_events`, equi-joins only.

Written so the Spark dialect runs them too: a product list is unnested as JSON text items
(`json_extract_string(..., '$.products[*]')`), its length is `array_length`.

At 10M events each is a filtered scan of `journey_events` (by event name) and hash joins on
`order_id` or (`session_id`, `product_id`); nothing is joined on an OR condition and no other
analysis runs inside them.
"""

from __future__ import annotations

ORDER_LINES = """
WITH items AS (
    SELECT order_id,
        unnest(coalesce(json_extract_string(properties, '$.products[*]'), [])) AS item
    FROM journey_events
    WHERE event = 'Order Completed' AND order_id IS NOT NULL AND :cut
),
lines AS (
    SELECT order_id, item ->> 'product_id' AS product_id,
        avg(TRY_CAST(item ->> 'price' AS DOUBLE)) AS price
    FROM items
    WHERE item ->> 'product_id' IS NOT NULL
    GROUP BY order_id, item ->> 'product_id'
),
reviews AS (
    SELECT order_id, avg(TRY_CAST(properties ->> '$.rating' AS DOUBLE)) AS rating
    FROM journey_events
    WHERE event IN ('Review Submitted', 'Product Reviewed') AND order_id IS NOT NULL
    GROUP BY order_id
),
requested AS (
    SELECT order_id,
        coalesce(json_extract_string(properties, '$.products[*].product_id'), []) AS products
    FROM journey_events
    WHERE event = 'Return Requested' AND order_id IS NOT NULL
),
returned_lines AS (
    SELECT DISTINCT order_id, product_id FROM (
        SELECT order_id, unnest(products) AS product_id FROM requested
    ) AS raw WHERE product_id IS NOT NULL
),
returned_orders AS (
    SELECT DISTINCT order_id FROM requested WHERE array_length(products) = 0
)
SELECT l.order_id, l.product_id, l.price, r.rating,
    CAST(CASE WHEN rl.order_id IS NOT NULL OR ro.order_id IS NOT NULL THEN 1 ELSE 0 END
        AS DOUBLE) AS returned
FROM lines AS l
LEFT JOIN reviews AS r ON r.order_id = l.order_id
LEFT JOIN returned_lines AS rl ON rl.order_id = l.order_id AND rl.product_id = l.product_id
LEFT JOIN returned_orders AS ro ON ro.order_id = l.order_id
"""
"""One row per (order, product) of the orders placed in the period (`:cut`): the order's mean
review rating (NULL when unreviewed) and
whether that product (or the whole order, when the return names no products) was returned."""

RETURN_EVENTS = "SELECT count(*) FROM journey_events WHERE event = 'Return Requested'"

NOT_AS_DESCRIBED = """
SELECT DISTINCT v.order_id
FROM voice AS v JOIN voice_topics AS t ON t.message_id = v.message_id
WHERE v.order_id IS NOT NULL AND t.topic = 'product information'
    AND (t.label = 'negative' OR v.label = 'negative')
"""
"""Orders whose customer wrote negatively about the product information ("not as described",
"the photos showed another colour"): the voice topic `product information`."""

VIEWS = """
WITH viewed AS (
    SELECT DISTINCT session_id, properties ->> '$.product_id' AS product_id
    FROM journey_events
    WHERE event = 'Product Viewed' AND properties ->> '$.product_id' IS NOT NULL AND :cut
),
added AS (
    SELECT DISTINCT session_id, properties ->> '$.product_id' AS product_id
    FROM journey_events
    WHERE event = 'Product Added' AND properties ->> '$.product_id' IS NOT NULL
)
SELECT v.product_id, count(*) AS viewed, count(a.session_id) AS added
FROM viewed AS v
LEFT JOIN added AS a ON a.session_id = v.session_id AND a.product_id = v.product_id
GROUP BY v.product_id
"""
"""Per product: sessions that viewed it in the period (`:cut`) and, of those, sessions that
added it to the cart."""

PRODUCTS = """
SELECT product_id, name, category, price, photos, description_length, specifications
FROM products
"""
