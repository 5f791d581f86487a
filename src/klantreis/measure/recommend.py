"""Recommendations: the products most bought by persons who looked at and bought what you did.

User-based collaborative filtering in one query: a person's interactions (bought 1, added to
cart 0.5, viewed 0.25; strongest per product) are compared with everyone else's by dot product;
the products those neighbours bought score by the summed similarity, the person's own purchases
excluded. Where neighbours give fewer than `n` products, the most-bought products fill the list
(the popularity baseline `benchmarks/recommend_eval.py` compares against). Written by hand in
SQL rather than with an implicit-ALS library: on webshop data most persons buy once (Olist: 3 %
come back), where a factor model has too little to learn from and co-occurrence needs no
training step; the benchmark measures whether it beats popularity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from klantreis.errors import KlantreisError
from klantreis.measure.contract import AnalysisQuery, AnalysisResult, Positional
from klantreis.measure.registry import analysis
from klantreis.model import ensure_built
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

_INTERACTIONS = """
interactions AS (
    SELECT person_id, product_id, max(weight) AS weight, max(bought) AS bought
    FROM (
        SELECT person_id,
            unnest(list_concat(
                coalesce(json_extract_string(properties, '$.products[*].product_id'), []),
                CASE WHEN properties ->> '$.product_id' IS NOT NULL
                     THEN [properties ->> '$.product_id'] ELSE [] END)) AS product_id,
            CASE event WHEN 'Order Completed' THEN 1.0 WHEN 'Product Added' THEN 0.5
                 ELSE 0.25 END AS weight,
            CASE WHEN event = 'Order Completed' THEN 1 ELSE 0 END AS bought
        FROM journey_events
        WHERE event IN ('Order Completed', 'Product Added', 'Product Viewed')
          AND (:before IS NULL OR timestamp < :before)
    ) AS raw
    WHERE product_id IS NOT NULL
    GROUP BY person_id, product_id
)"""


_RECOMMEND = (  # static text, values bound
    "WITH "  # noqa: S608
    + _INTERACTIONS
    + """,
mine AS (SELECT * FROM interactions WHERE person_id IN :persons),
neighbours AS (
    SELECT m.person_id, o.person_id AS other, sum(m.weight * o.weight) AS similarity
    FROM mine AS m
    JOIN interactions AS o ON o.product_id = m.product_id AND o.person_id <> m.person_id
    GROUP BY m.person_id, o.person_id
),
scored AS (
    SELECT n.person_id, o.product_id, sum(n.similarity) AS score,
        count(DISTINCT n.other) AS buyers
    FROM neighbours AS n
    JOIN interactions AS o ON o.person_id = n.other AND o.bought = 1
    WHERE NOT EXISTS (SELECT 1 FROM mine AS m WHERE m.person_id = n.person_id
                      AND m.product_id = o.product_id AND m.bought = 1)
    GROUP BY n.person_id, o.product_id
)
SELECT person_id, product_id, score, buyers FROM scored
QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY score DESC, product_id) <= :n
ORDER BY person_id, score DESC, product_id
"""
)

_POPULAR = (
    "WITH "
    + _INTERACTIONS
    + """
SELECT product_id, count(DISTINCT person_id) AS buyers FROM interactions
WHERE bought = 1 GROUP BY product_id ORDER BY buyers DESC, product_id LIMIT :n
"""
)

_BOUGHT = (
    "WITH "
    + _INTERACTIONS
    + """
SELECT person_id, product_id FROM interactions WHERE bought = 1 AND person_id IN :persons
"""
)

_PERSON = """
SELECT DISTINCT person_id FROM identities WHERE id = :who OR person_id = :who
"""


class RecommendError(KlantreisError):
    """Unknown person."""


def popular(kr: Context, n: int = 10, before: datetime | None = None) -> list[str]:
    """The products most persons bought (before `before`): the popularity baseline."""
    rows = kr.engine.fetch(Query(_POPULAR, n=n, before=before))
    return rows.column("product_id").to_pylist()


def recommend_many(
    kr: Context, persons: Sequence[str], n: int = 10, before: datetime | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Top-`n` products per person, similar persons' purchases first, then popular ones."""
    if not persons:
        return {}
    ids = tuple(persons)
    found: dict[str, list[dict[str, Any]]] = {p: [] for p in ids}
    for row in kr.engine.rows(Query(_RECOMMEND, persons=ids, n=n, before=before)):
        found[row["person_id"]].append(
            {
                "product_id": row["product_id"],
                "score": round(float(row["score"]), 4),
                "buyers": int(row["buyers"]),
                "why": "bought by similar persons",
            }
        )
    owned: dict[str, set[str]] = {p: set() for p in ids}
    for row in kr.engine.rows(Query(_BOUGHT, persons=ids, before=before)):
        owned[row["person_id"]].add(row["product_id"])
    top = popular(kr, n + max((len(v) for v in owned.values()), default=0), before)
    for person, items in found.items():
        have = {i["product_id"] for i in items} | owned[person]
        for product in top:
            if len(items) >= n:
                break
            if product not in have:
                items.append(
                    {"product_id": product, "score": 0.0, "buyers": None, "why": "popular"}
                )
                have.add(product)
    return found


class RecommendQuery(AnalysisQuery):
    """`kr.recommend(...)`, `klantreis recommend`."""

    person: Annotated[str, Positional()] = Field(description="Person id, user id or anonymous id.")
    n: int = Field(10, ge=1, le=100, description="How many products.")


class Recommendation(AnalysisResult):
    product_id: str
    score: float
    """Similar persons' purchases, weighted by how similar (0 for a popular product)."""
    buyers: int | None
    """Similar persons who bought it (None for a popular product)."""
    why: str
    """"bought by similar persons" or "popular"."""


class Recommendations(AnalysisResult):
    """Products for one person, best first; `as_json()` is the list `--json` prints."""

    person_id: str
    items: list[Recommendation]

    def as_json(self) -> Any:
        return [item.as_json() for item in self.items]


@analysis("recommend", query=RecommendQuery, result=Recommendations)
def recommend(kr: Context, person: str, *, n: int = 10) -> Recommendations:
    """Products for one person (any of their ids): what similar persons bought."""
    ensure_built(kr)
    rows = kr.engine.rows(Query(_PERSON, who=person))
    if not rows:
        raise RecommendError(f"person: no person with id {person!r}")
    person_id = rows[0]["person_id"]
    items = recommend_many(kr, [person_id], n)[person_id]
    return Recommendations(person_id=person_id, items=[Recommendation(**i) for i in items])
