"""Read API for product content quality (the same as `klantreis products --json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from klantreis.api import Klantreis
from klantreis.measure.products import ProductsQuery
from klantreis.present.api.deps import ReadAccess, StoreDep

router = APIRouter(prefix="/api", tags=["products"])


class ProductsRequest(ProductsQuery):
    """The products query, and what only the answer's shape needs."""

    limit: int | None = Field(None, ge=1, description="Products and fix-first rows to return.")


@router.get("/products", response_model=None)
def products(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[ProductsRequest, Query()],
) -> dict[str, Any]:
    """Completeness per product and category, its adjusted effect on reviews, returns,
    'not as described' texts and view → cart, and the product pages to fix first.

    The completeness rules are the server's (`klantreis products --rules` for others).
    """
    kr = Klantreis.over(store, request.app.state.settings)
    return kr.run("products", query).as_json(limit=query.limit)
