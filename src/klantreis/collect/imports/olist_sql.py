"""The Olist mapping as static DuckDB SQL over the export's files (one table per file).

Every file is loaded as text (`read_csv(all_varchar)`) with each row's `__line`, then checked
and typed here. The events are the contract docs/mappings.md describes; other modules
(expectations, voice, personas) rely on their names and properties. Timestamps stay as Olist
wrote them: Brazilian local time, no zone.
"""

from __future__ import annotations

MACROS = (
    "CREATE OR REPLACE TEMP MACRO kr_ts(x) AS CASE WHEN year(TRY_CAST(trim(x) AS TIMESTAMP)) "
    "BETWEEN 1990 AND 2200 THEN TRY_CAST(trim(x) AS TIMESTAMP) END",
    "CREATE OR REPLACE TEMP MACRO kr_num(x) AS CASE WHEN isfinite(TRY_CAST(trim(x) AS DOUBLE)) "
    "THEN TRY_CAST(trim(x) AS DOUBLE) END",
    "CREATE OR REPLACE TEMP MACRO kr_int(x) AS CASE WHEN regexp_full_match(trim(x), "
    "'[+-]?\\d+(\\.0*)?') THEN TRY_CAST(TRY_CAST(trim(x) AS DOUBLE) AS BIGINT) END",
    "CREATE OR REPLACE TEMP MACRO kr_shown(x) AS CAST(to_json(left(x, 60)) AS VARCHAR)",
    "CREATE OR REPLACE TEMP MACRO kr_iso(t) AS strftime(t, '%Y-%m-%dT%H:%M:%S')",
)

STAGE = (
    # Orders with their customer; one row per order line of the file.
    """
CREATE OR REPLACE TEMP TABLE kr_orders AS
WITH customers AS (
    SELECT * FROM customers_raw
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY __line) = 1
)
SELECT
    o.__line AS line,
    o.order_id, o.customer_id, c.customer_unique_id, o.order_status,
    o.order_purchase_timestamp AS purchased_raw,
    o.order_approved_at AS approved_raw,
    o.order_delivered_carrier_date AS shipped_raw,
    o.order_delivered_customer_date AS delivered_raw,
    o.order_estimated_delivery_date AS promised_raw,
    kr_ts(o.order_purchase_timestamp) AS purchased_at,
    kr_ts(o.order_approved_at) AS approved_at,
    kr_ts(o.order_delivered_carrier_date) AS shipped_at,
    kr_ts(o.order_delivered_customer_date) AS delivered_at,
    kr_ts(o.order_estimated_delivery_date) AS promised_at,
    c.customer_state, c.customer_city, c.customer_zip_code_prefix,
    CAST(json_merge_patch(to_json(o), '{"__line": null}') AS VARCHAR) AS raw,
    (o.order_id IS NOT NULL AND o.customer_id IS NOT NULL
        AND kr_ts(o.order_purchase_timestamp) IS NOT NULL) AS ok
FROM orders_raw o LEFT JOIN customers c USING (customer_id)
""",
    """
CREATE OR REPLACE TEMP TABLE kr_items AS
WITH products AS (
    SELECT * FROM products_raw
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY __line) = 1
), translation AS (
    SELECT * FROM translation_raw
    QUALIFY row_number() OVER (PARTITION BY product_category_name ORDER BY __line) = 1
)
SELECT
    i.__line AS line, i.order_id, i.product_id, i.seller_id,
    kr_int(i.order_item_id) AS item_no,
    i.price AS price_raw, i.freight_value AS freight_raw,
    kr_num(i.price) AS price, kr_num(i.freight_value) AS freight,
    coalesce(t.product_category_name_english, p.product_category_name) AS category,
    CAST(json_merge_patch(to_json(i), '{"__line": null}') AS VARCHAR) AS raw,
    i.order_id IN (SELECT order_id FROM kr_orders WHERE ok) AS order_ok,
    i.order_id IN (SELECT order_id FROM kr_orders WHERE order_id IS NOT NULL) AS order_known
FROM items_raw i
LEFT JOIN products p USING (product_id)
LEFT JOIN translation t USING (product_category_name)
""",
    """
CREATE OR REPLACE TEMP TABLE kr_payments AS
SELECT
    p.__line AS line, p.order_id, p.payment_type,
    p.payment_sequential AS sequential_raw, p.payment_installments AS installments_raw,
    p.payment_value AS amount_raw,
    kr_int(p.payment_sequential) AS sequential, kr_int(p.payment_installments) AS installments,
    kr_num(p.payment_value) AS amount,
    CAST(json_merge_patch(to_json(p), '{"__line": null}') AS VARCHAR) AS raw
FROM payments_raw p
""",
    """
CREATE OR REPLACE TEMP TABLE kr_reviews AS
SELECT
    r.__line AS line, r.review_id, r.order_id, r.review_score AS score_raw,
    r.review_comment_title AS title, r.review_comment_message AS message,
    r.review_answer_timestamp AS answered_raw, r.review_creation_date AS created_raw,
    kr_int(r.review_score) AS rating,
    coalesce(kr_ts(r.review_answer_timestamp), kr_ts(r.review_creation_date)) AS reviewed_at,
    CAST(json_merge_patch(to_json(r), '{"__line": null}') AS VARCHAR) AS raw
FROM reviews_raw r
""",
)

# One row per problem: file key, line, column, reason, raw row, and the ids it would have had.
QUARANTINE = """
SELECT 'orders' AS file_key, line,
    CASE WHEN order_id IS NULL THEN 'order_id'
         WHEN customer_id IS NULL THEN 'customer_id'
         ELSE 'order_purchase_timestamp' END AS column_name,
    CASE WHEN order_id IS NULL THEN 'missing order_id'
         WHEN customer_id IS NULL THEN 'missing customer_id'
         WHEN purchased_raw IS NULL THEN 'missing order_purchase_timestamp'
         ELSE 'not a timestamp: ' || kr_shown(purchased_raw) END AS reason,
    raw, 'olist:order:' || order_id AS message_id,
    customer_unique_id AS user_id, customer_id AS anonymous_id
FROM kr_orders WHERE NOT ok
UNION ALL
SELECT 'orders', line, column_name, 'not a timestamp: ' || kr_shown(value), raw,
    prefix || order_id, customer_unique_id, customer_id
FROM (
    SELECT *, unnest([
        {'column_name': 'order_approved_at', 'value': approved_raw,
         'bad': approved_raw IS NOT NULL AND approved_at IS NULL, 'prefix': 'olist:approved:'},
        {'column_name': 'order_delivered_carrier_date', 'value': shipped_raw,
         'bad': shipped_raw IS NOT NULL AND shipped_at IS NULL, 'prefix': 'olist:shipped:'},
        {'column_name': 'order_delivered_customer_date', 'value': delivered_raw,
         'bad': delivered_raw IS NOT NULL AND delivered_at IS NULL,
         'prefix': 'olist:delivered:'},
        {'column_name': 'order_estimated_delivery_date', 'value': promised_raw,
         'bad': promised_raw IS NOT NULL AND promised_at IS NULL, 'prefix': 'olist:order:'}
    ], recursive := true)
    FROM kr_orders WHERE ok
) WHERE bad
UNION ALL
SELECT 'items', line,
    CASE WHEN order_id IS NULL THEN 'order_id'
         WHEN NOT order_known THEN 'order_id'
         WHEN product_id IS NULL THEN 'product_id'
         WHEN price IS NULL THEN 'price'
         ELSE 'freight_value' END,
    CASE WHEN order_id IS NULL THEN 'missing order_id'
         WHEN NOT order_known THEN 'order_id not in the orders file: ' || kr_shown(order_id)
         WHEN product_id IS NULL THEN 'missing product_id'
         WHEN price_raw IS NULL THEN 'missing price'
         WHEN price IS NULL THEN 'not a number: ' || kr_shown(price_raw)
         WHEN freight_raw IS NULL THEN 'missing freight_value'
         ELSE 'not a number: ' || kr_shown(freight_raw) END,
    raw, 'olist:order:' || order_id, NULL, NULL
FROM kr_items
WHERE order_id IS NULL OR NOT order_known OR product_id IS NULL OR price IS NULL
    OR freight IS NULL
UNION ALL
SELECT 'payments', p.line,
    CASE WHEN p.order_id IS NULL OR o.order_id IS NULL OR NOT o.ok THEN 'order_id'
         WHEN p.sequential IS NULL THEN 'payment_sequential'
         WHEN p.installments_raw IS NOT NULL AND p.installments IS NULL
             THEN 'payment_installments'
         ELSE 'payment_value' END,
    CASE WHEN p.order_id IS NULL THEN 'missing order_id'
         WHEN o.order_id IS NULL THEN 'order_id not in the orders file: ' || kr_shown(p.order_id)
         WHEN NOT o.ok THEN 'its order is quarantined: ' || kr_shown(p.order_id)
         WHEN p.sequential_raw IS NULL THEN 'missing payment_sequential'
         WHEN p.sequential IS NULL THEN 'not an integer: ' || kr_shown(p.sequential_raw)
         WHEN p.installments_raw IS NOT NULL AND p.installments IS NULL
             THEN 'not an integer: ' || kr_shown(p.installments_raw)
         WHEN p.amount_raw IS NULL THEN 'missing payment_value'
         ELSE 'not a number: ' || kr_shown(p.amount_raw) END,
    p.raw, 'olist:payment:' || p.order_id || ':' || p.sequential_raw,
    o.customer_unique_id, o.customer_id
FROM kr_payments p
LEFT JOIN (SELECT * FROM kr_orders WHERE order_id IS NOT NULL) o USING (order_id)
WHERE p.order_id IS NULL OR o.order_id IS NULL OR NOT o.ok
    OR p.sequential IS NULL OR p.amount IS NULL
    OR (p.installments_raw IS NOT NULL AND p.installments IS NULL)
UNION ALL
SELECT 'reviews', r.line,
    CASE WHEN r.review_id IS NULL THEN 'review_id'
         WHEN r.order_id IS NULL OR o.order_id IS NULL OR NOT o.ok THEN 'order_id'
         WHEN r.rating IS NULL OR r.rating NOT BETWEEN 1 AND 5 THEN 'review_score'
         WHEN r.answered_raw IS NOT NULL AND kr_ts(r.answered_raw) IS NULL
             THEN 'review_answer_timestamp'
         ELSE 'review_creation_date' END,
    CASE WHEN r.review_id IS NULL THEN 'missing review_id'
         WHEN r.order_id IS NULL THEN 'missing order_id'
         WHEN o.order_id IS NULL THEN 'order_id not in the orders file: ' || kr_shown(r.order_id)
         WHEN NOT o.ok THEN 'its order is quarantined: ' || kr_shown(r.order_id)
         WHEN r.score_raw IS NULL THEN 'missing review_score'
         WHEN r.rating IS NULL OR r.rating NOT BETWEEN 1 AND 5
             THEN 'not a rating 1..5: ' || kr_shown(r.score_raw)
         WHEN r.answered_raw IS NOT NULL AND kr_ts(r.answered_raw) IS NULL
             THEN 'not a timestamp: ' || kr_shown(r.answered_raw)
         WHEN r.created_raw IS NULL THEN 'missing review timestamp'
         ELSE 'not a timestamp: ' || kr_shown(r.created_raw) END,
    r.raw, 'olist:review:' || r.review_id || ':' || r.order_id,
    o.customer_unique_id, o.customer_id
FROM kr_reviews r
LEFT JOIN (SELECT * FROM kr_orders WHERE order_id IS NOT NULL) o USING (order_id)
WHERE r.review_id IS NULL OR r.order_id IS NULL OR o.order_id IS NULL OR NOT o.ok
    OR r.rating IS NULL OR r.rating NOT BETWEEN 1 AND 5
    OR (r.answered_raw IS NOT NULL AND kr_ts(r.answered_raw) IS NULL)
    OR r.reviewed_at IS NULL
"""

# The canonical events; every select has the columns of store.schema.EVENT_COLUMNS in order.
EVENTS = """
WITH orders AS (
    SELECT * FROM kr_orders WHERE ok
), items AS (
    SELECT * FROM kr_items
    WHERE order_ok AND product_id IS NOT NULL AND price IS NOT NULL AND freight IS NOT NULL
), payments AS (
    SELECT p.*, o.purchased_at, o.customer_unique_id, o.customer_id
    FROM kr_payments p JOIN orders o USING (order_id)
    WHERE p.sequential IS NOT NULL AND p.amount IS NOT NULL
        AND (p.installments_raw IS NULL OR p.installments IS NOT NULL)
), order_items AS (
    SELECT order_id,
        round(sum(price) + sum(freight), 2) AS total,
        round(sum(price), 2) AS revenue,
        round(sum(freight), 2) AS shipping,
        count(*) AS items,
        CAST(to_json(list({'product_id': product_id, 'category': category, 'price': price,
                           'seller_id': seller_id} ORDER BY item_no, line)) AS JSON) AS products,
        CAST(to_json(list_distinct(list(seller_id ORDER BY item_no, line))) AS JSON) AS seller_ids
    FROM items GROUP BY order_id
), first_payment AS (
    SELECT order_id, arg_min(payment_type, sequential) AS payment_method
    FROM payments GROUP BY order_id
), reviews AS (
    SELECT r.*, o.customer_unique_id, o.customer_id
    FROM kr_reviews r JOIN orders o USING (order_id)
    WHERE r.review_id IS NOT NULL AND r.rating BETWEEN 1 AND 5 AND r.reviewed_at IS NOT NULL
        AND (r.answered_raw IS NULL OR kr_ts(r.answered_raw) IS NOT NULL)
)
SELECT 'olist:order:' || o.order_id AS message_id, 'track' AS type,
    'Order Completed' AS event, NULL AS name,
    o.customer_unique_id AS user_id, o.customer_id AS anonymous_id,
    NULL AS previous_id, NULL AS group_id,
    o.purchased_at AS timestamp, $received_at AS received_at, 'marketplace' AS channel,
    CAST(json_object(
        'order_id', o.order_id, 'status', o.order_status,
        'total', i.total, 'revenue', i.revenue, 'shipping', i.shipping, 'currency', 'BRL',
        'products', coalesce(i.products, CAST('[]' AS JSON)),
        'promised_delivery_date', kr_iso(o.promised_at),
        'region', o.customer_state, 'city', o.customer_city,
        'zip_prefix', o.customer_zip_code_prefix,
        'payment_method', f.payment_method, 'items', coalesce(i.items, 0)
    ) AS VARCHAR) AS properties,
    NULL AS traits, NULL AS context, 'import:olist' AS source
FROM orders o
LEFT JOIN order_items i USING (order_id)
LEFT JOIN first_payment f USING (order_id)
UNION ALL
SELECT 'olist:payment:' || order_id || ':' || sequential_raw, 'track', 'Payment Info Entered',
    NULL, customer_unique_id, customer_id, NULL, NULL, purchased_at, $received_at,
    'marketplace',
    CAST(json_object('order_id', order_id, 'payment_method', payment_type,
        'installments', installments, 'amount', amount, 'payment_sequential', sequential)
        AS VARCHAR),
    NULL, NULL, 'import:olist'
FROM payments
UNION ALL
SELECT 'olist:approved:' || order_id, 'track', 'Order Approved', NULL,
    customer_unique_id, customer_id, NULL, NULL, approved_at, $received_at, 'marketplace',
    CAST(json_object('order_id', order_id) AS VARCHAR), NULL, NULL, 'import:olist'
FROM orders WHERE approved_at IS NOT NULL
UNION ALL
SELECT 'olist:shipped:' || o.order_id, 'track', 'Order Shipped', NULL,
    o.customer_unique_id, o.customer_id, NULL, NULL, o.shipped_at, $received_at, 'carrier',
    CAST(json_object('order_id', o.order_id, 'promised_delivery_date', kr_iso(o.promised_at),
        'seller_ids', coalesce(i.seller_ids, CAST('[]' AS JSON))) AS VARCHAR),
    NULL, NULL, 'import:olist'
FROM orders o LEFT JOIN order_items i USING (order_id) WHERE o.shipped_at IS NOT NULL
UNION ALL
SELECT 'olist:delivered:' || order_id, 'track', 'Order Delivered', NULL,
    customer_unique_id, customer_id, NULL, NULL, delivered_at, $received_at, 'carrier',
    CAST(json_object('order_id', order_id, 'promised_delivery_date', kr_iso(promised_at))
        AS VARCHAR),
    NULL, NULL, 'import:olist'
FROM orders WHERE delivered_at IS NOT NULL
UNION ALL
SELECT 'olist:cancelled:' || order_id, 'track', 'Order Cancelled', NULL,
    customer_unique_id, customer_id, NULL, NULL,
    greatest(purchased_at, approved_at, shipped_at, delivered_at), $received_at, 'marketplace',
    CAST(json_object('order_id', order_id, 'reason', order_status) AS VARCHAR),
    NULL, NULL, 'import:olist'
FROM orders WHERE order_status IN ('canceled', 'unavailable')
UNION ALL
SELECT 'olist:review:' || review_id || ':' || order_id, 'track', 'Review Submitted', NULL,
    customer_unique_id, customer_id, NULL, NULL, reviewed_at, $received_at, 'review site',
    CAST(json_object('review_id', review_id, 'order_id', order_id, 'rating', rating,
        'title', title, 'text', message, 'language', 'pt', 'platform', 'olist') AS VARCHAR),
    NULL, NULL, 'import:olist'
FROM reviews
"""
