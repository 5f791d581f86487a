"""Product content quality: completeness of product pages against reviews, returns, conversion.

`kr.products()` (`klantreis products`, `GET /api/products`, the dashboard's products page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klantreis.measure.products.analysis import OUTCOMES, ContentQuality, content_quality
from klantreis.measure.registry import analysis

if TYPE_CHECKING:
    from klantreis.model.context import Context


@analysis("products")
def products(kr: Context, **params: Any) -> ContentQuality:
    return content_quality(kr, **params)


__all__ = ["OUTCOMES", "ContentQuality", "content_quality", "products"]
