"""Product content quality: completeness of product pages against reviews, returns, conversion.

`kr.products()` (`klantreis products`, `GET /api/products`, the dashboard's products page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from klantreis.measure.contract import PeriodQuery
from klantreis.measure.products.analysis import OUTCOMES, ContentQuality, content_quality
from klantreis.measure.registry import analysis

if TYPE_CHECKING:
    from klantreis.model.context import Context

Ranking = Literal["review_score", "low_review", "returned", "not_as_described", "view_to_cart"]


class ProductsQuery(PeriodQuery):
    """`kr.products()`, `klantreis products`, `GET /api/products`."""

    outcome: Ranking = Field("low_review", description="What the pages to fix first rank by.")


@analysis("products", query=ProductsQuery, result=ContentQuality)
def products(
    kr: Context,
    outcome: Ranking = "low_review",
    start: str | None = None,
    end: str | None = None,
) -> ContentQuality:
    """Completeness per product and category, its adjusted effect, the pages to fix first
    (default completeness rules; `content_quality(kr, rules=...)` for others); orders placed
    and product views in the period."""
    return content_quality(kr, outcome=outcome, start=start, end=end)


__all__ = ["OUTCOMES", "ContentQuality", "content_quality", "products"]
