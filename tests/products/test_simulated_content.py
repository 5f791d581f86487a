"""The simulator's product pages leave the signal the products page measures.

Checked on the events themselves (orders, returns, reviews joined in DuckDB here), not through
`kr.products()`: thin pages (one photo or a short description) return more and review worse.
"""

from __future__ import annotations

import duckdb
import pytest

from klantreis.collect.simulator import SimulatorConfig, simulate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop():
    return simulate(SimulatorConfig(persons=1500, seed=11))


def test_the_shop_has_a_catalogue_with_page_content(shop) -> None:
    products = shop.products.to_pylist()
    assert len(products) == 240
    photos = [p["photos"] for p in products]
    assert min(photos) == 1 and max(photos) >= 6
    assert 0.2 <= sum(p == 1 for p in photos) / len(photos) <= 0.45
    assert all(p["description_length"] > 0 for p in products)


def test_thin_pages_return_more_and_review_worse(shop) -> None:
    con = duckdb.connect()
    con.register("e", shop.events)
    con.register("catalogue", shop.products)
    thin, full = con.execute(
        """
        WITH orders AS (
            SELECT properties ->> '$.order_id' AS order_id,
                bool_or(c.photos <= 1 OR c.description_length < 200) AS thin
            FROM e, unnest(json_extract_string(properties, '$.products[*].product_id'))
                AS t(product_id)
            JOIN catalogue AS c USING (product_id)
            WHERE event = 'Order Completed' GROUP BY 1
        ),
        returned AS (
            SELECT DISTINCT properties ->> '$.order_id' AS order_id FROM e
            WHERE event = 'Return Requested'
        ),
        delivered AS (
            SELECT DISTINCT properties ->> '$.order_id' AS order_id FROM e
            WHERE event = 'Order Delivered'
        ),
        rated AS (
            SELECT properties ->> '$.order_id' AS order_id,
                CAST(properties ->> '$.rating' AS INTEGER) AS rating
            FROM e WHERE event = 'Review Submitted'
        )
        SELECT o.thin, avg((r.order_id IS NOT NULL)::INT) AS return_rate,
            avg((x.rating <= 2)::INT) FILTER (WHERE x.rating IS NOT NULL) AS low_share,
            count(*) AS orders
        FROM orders AS o JOIN delivered USING (order_id)
        LEFT JOIN returned AS r USING (order_id) LEFT JOIN rated AS x USING (order_id)
        GROUP BY o.thin ORDER BY o.thin DESC
        """
    ).fetchall()
    assert thin[0] is True and full[0] is False
    assert thin[3] > 500 and full[3] > 500
    assert thin[1] > full[1] * 1.1  # returns
    assert thin[2] > full[2]  # 1–2★ reviews
