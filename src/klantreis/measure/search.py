"""Site search and filters: which terms fail, and what people do after searching or filtering.

Per search (`Products Searched`, its `query` and `results`): whether the session went on to view
a product, to order, to search again (a refinement) or ended right there (an exit). Per filter
and sort type (`Product List Filtered`, its `filters`, `sorts` and `results`): uses, uses that
returned nothing, and uses followed by an order in the session. Each is one scan of
`journey_events` for the events involved, grouped by session and joined back on `session_id`
(and `sessions` for where a session ended): equi-joins only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field

from klantreis.measure.contract import AnalysisResult, PeriodQuery
from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.model import ensure_built
from klantreis.store.query import Query

if TYPE_CHECKING:
    from sqlglot import exp

    from klantreis.model.context import Context
    from klantreis.store.engines.base import Engine

_MARKS = """
marks AS (
    SELECT session_id,
        max(timestamp) FILTER (WHERE event = 'Product Viewed') AS last_view,
        max(timestamp) FILTER (WHERE event = 'Order Completed') AS last_order,
        max(timestamp) FILTER (WHERE event = 'Products Searched') AS last_search
    FROM journey_events
    WHERE session_id IS NOT NULL
        AND event IN ('Product Viewed', 'Order Completed', 'Products Searched')
    GROUP BY session_id
)"""

TERMS = (
    "WITH "  # noqa: S608 - static text, values bound
    + _MARKS
    + """,
searches AS (
    SELECT session_id, timestamp, lower(trim(properties ->> '$.query')) AS term,
        TRY_CAST(properties ->> '$.results' AS BIGINT) AS results
    FROM journey_events
    WHERE event = 'Products Searched' AND session_id IS NOT NULL
        AND nullif(trim(properties ->> '$.query'), '') IS NOT NULL AND :cut
)
SELECT s.term, count(*) AS searches, count(DISTINCT s.session_id) AS sessions,
    count(*) FILTER (WHERE s.results = 0) AS zero_results,
    avg(CASE WHEN m.last_view > s.timestamp THEN 1 ELSE 0 END) AS viewed_after,
    avg(CASE WHEN m.last_order > s.timestamp THEN 1 ELSE 0 END) AS ordered_after,
    avg(CASE WHEN m.last_search > s.timestamp THEN 1 ELSE 0 END) AS refined,
    avg(CASE WHEN s.timestamp >= x.ended_at THEN 1 ELSE 0 END) AS exited
FROM searches AS s
JOIN marks AS m ON m.session_id = s.session_id
JOIN sessions AS x ON x.session_id = s.session_id
GROUP BY s.term
ORDER BY searches DESC, s.term
"""
)
"""Per search term; a search is followed by a view, an order or another search when the session
has one later; it is an exit when it is the session's last event."""

FILTERS = (
    "WITH "  # noqa: S608 - static text, values bound
    + _MARKS
    + """,
filtered AS (
    SELECT session_id, timestamp, message_id,
        TRY_CAST(properties ->> '$.results' AS BIGINT) AS results,
        list_concat(
            list_transform(coalesce(json_extract_string(properties, '$.filters[*].type'), []),
                           x -> 'filter: ' || x),
            list_transform(coalesce(json_extract_string(properties, '$.sorts[*].type'), []),
                           x -> 'sort: ' || x)) AS kinds
    FROM journey_events
    WHERE event = 'Product List Filtered' AND session_id IS NOT NULL AND :cut
),
uses AS (
    SELECT DISTINCT message_id, session_id, timestamp, results, unnest(kinds) AS kind
    FROM filtered
)
SELECT u.kind, count(*) AS uses, count(*) FILTER (WHERE u.results = 0) AS zero_results,
    avg(CASE WHEN m.last_order > u.timestamp THEN 1 ELSE 0 END) AS ordered_after
FROM uses AS u LEFT JOIN marks AS m ON m.session_id = u.session_id
GROUP BY u.kind
ORDER BY uses DESC, u.kind
"""
)


FAILING_TERMS = """
SELECT lower(trim(properties ->> '$.query')) AS term, count(*) AS searches
FROM journey_events
WHERE event = 'Products Searched' AND TRY_CAST(properties ->> '$.results' AS BIGINT) = 0
    AND nullif(trim(properties ->> '$.query'), '') IS NOT NULL AND :cut
GROUP BY term
ORDER BY searches DESC, term
LIMIT :n
"""
"""The terms whose searches found nothing most often, in a cut (`:cut` over `journey_events`):
one filtered scan, for the journey map's search pain (the full analysis is `search`)."""


def failing_terms(engine: Engine, cut: exp.Expression, n: int = 3) -> list[dict[str, Any]]:
    """The `n` terms that found nothing most often (`{term, searches}`), most first."""
    return engine.rows(Query(FAILING_TERMS, cut=cut, n=n))


class SearchQuery(PeriodQuery):
    """`kr.search()`, `klantreis search`, `GET /api/search`."""

    limit: int = Field(50, ge=1, le=1000, description="Terms and failing terms to return.")


class SearchTerm(AnalysisResult):
    """One search term in the period: its searches, those that found nothing, and the share
    of its searches followed in their session by a view, an order, another search (refined),
    or by nothing (exited)."""

    term: str
    searches: int
    sessions: int
    zero_results: int
    viewed_after: float
    ordered_after: float
    refined: float
    exited: float


class FilterUse(AnalysisResult):
    """One filter or sort type (`filter: price`, `sort: price`): uses, uses that returned
    nothing, and the share followed by an order in the session."""

    kind: str | None
    uses: int
    zero_results: int
    ordered_after: float


class SiteSearch(AnalysisResult):
    """What `kr.search()` answers; `as_json()` is `klantreis search --json` and `/api/search`."""

    searches: int
    zero_result_searches: int
    zero_result_share: float | None
    failing_terms: list[SearchTerm]
    """Terms with searches that found nothing, most such searches first (at most `limit`)."""
    terms: list[SearchTerm]
    """The most searched terms (at most `limit`)."""
    filters: list[FilterUse]


@analysis("search", query=SearchQuery, result=SiteSearch)
def search(
    kr: Context, limit: int = 50, start: str | None = None, end: str | None = None
) -> SiteSearch:
    """Search terms (failing ones first by frequency), and filter and sort use: searches and
    filter uses in the period; what followed them in their session counts."""
    Cut.parse(start, end)  # a bad date is refused before the model is built
    ensure_built(kr)
    return measure_search(kr.engine, limit, start, end)


def measure_search(
    engine: Engine, limit: int = 50, start: str | None = None, end: str | None = None
) -> SiteSearch:
    """`search` over the model's tables on `engine` (DuckDB or Spark)."""
    cut = Cut.parse(start, end)
    terms = engine.rows(Query(TERMS, cut=cut.condition(engine)))
    filters = engine.rows(Query(FILTERS, cut=cut.condition(engine)))
    searches = sum(t["searches"] for t in terms)
    zero = sum(t["zero_results"] for t in terms)
    failing = sorted(
        (t for t in terms if t["zero_results"]), key=lambda t: (-t["zero_results"], t["term"])
    )
    return SiteSearch(
        searches=searches,
        zero_result_searches=zero,
        zero_result_share=None if not searches else round(zero / searches, 6),
        failing_terms=[SearchTerm(**_rounded(t)) for t in failing[:limit]],
        terms=[SearchTerm(**_rounded(t)) for t in terms[:limit]],
        filters=[FilterUse(**_rounded(f)) for f in filters],
    )


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    """Shares to 6 digits, as floats whichever engine computed them (Spark may hand back
    decimals)."""
    return {k: round(float(v), 6) if isinstance(v, (float, Decimal)) else v for k, v in row.items()}
