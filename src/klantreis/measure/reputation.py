"""Reputation per platform over time: what reviews and mentions say, platform by platform.

A shop is judged on Trustpilot, Google, Kiyoh, Instagram and X at once, each with its own
crowd; one mean over all of them hides the platform that is turning. Per platform and period:
how many reviews and mentions, the mean rating, the mean voice sentiment, the negative share,
and the change of the mean rating since the platform's previous period. The platform is the
event's `platform` property (every review preset and the listening import set it).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import pyarrow as pa
from pydantic import Field

from klantreis.errors import KlantreisError
from klantreis.measure.contract import PeriodQuery
from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.measure.result import Result
from klantreis.measure.voice.stored import unscored_texts
from klantreis.model.context import Context
from klantreis.store.query import Query

Period = Literal["day", "week", "month", "quarter", "year"]
PERIODS: tuple[str, ...] = get_args(Period)
REPUTATION_EVENTS = ("Review Submitted", "Product Reviewed", "Social Mention")
"""Public texts about the shop that name the platform they were posted on."""


class ReputationQueryError(KlantreisError):
    """A period or platform the reputation cannot be grouped by."""


_TEXTS = """
WITH texts AS (
    SELECT message_id, event, timestamp,
           lower(trim(json_extract_string(properties, '$.platform'))) AS platform,
           TRY_CAST(json_extract_string(properties, '$.rating') AS DOUBLE) AS rating
    FROM events
    WHERE event IN :events AND :cut
)
"""
_WITH_VOICE = """
SELECT t.platform, t.event, t.timestamp, t.rating, v.sentiment, v.label
FROM texts AS t LEFT JOIN voice AS v ON v.message_id = t.message_id
"""
_WITHOUT_VOICE = """
SELECT platform, event, timestamp, rating, CAST(NULL AS DOUBLE) AS sentiment,
       CAST(NULL AS VARCHAR) AS label
FROM texts
"""
_PER_PERIOD = """
SELECT platform,
       CAST(date_trunc(:period, timestamp) AS DATE) AS period,
       count(*) AS texts,
       count(*) FILTER (WHERE event = 'Social Mention') AS mentions,
       count(rating) AS ratings,
       avg(rating) AS mean_rating,
       avg(sentiment) AS sentiment,
       avg(CASE WHEN label = 'negative' THEN 1.0 WHEN label IS NOT NULL THEN 0.0 END)
           AS negative_share,
       avg(rating) - lag(avg(rating)) OVER (PARTITION BY platform
                                            ORDER BY CAST(date_trunc(:period, timestamp) AS DATE))
           AS rating_change
FROM scored
WHERE platform IS NOT NULL AND platform <> '' AND (:platform IS NULL OR platform = :platform)
GROUP BY platform, CAST(date_trunc(:period, timestamp) AS DATE)
ORDER BY platform, period
"""
SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("period", pa.date32()),
        ("texts", pa.int64()),
        ("mentions", pa.int64()),
        ("ratings", pa.int64()),
        ("mean_rating", pa.float64()),
        ("sentiment", pa.float64()),
        ("negative_share", pa.float64()),
        ("rating_change", pa.float64()),
    ]
)


class ReputationQuery(PeriodQuery):
    """`kr.reputation(...)`, `klantreis voice reputation`, `GET /api/voice/reputation`."""

    period: Period = Field(
        "month", description="Group by this period (day, week, month, quarter, year)."
    )
    platform: str | None = Field(
        None, min_length=1, description="Only this platform (trustpilot, x, ...)."
    )


@analysis("reputation", query=ReputationQuery, result=Result)
def reputation(
    kr: Context,
    *,
    period: str = "month",
    platform: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Result:
    """Per platform and period: texts, mentions, ratings, mean rating, sentiment, negative
    share and the change of the mean rating since the platform's previous period.

    It reads the stored voice scores and scores nothing itself (scoring every new text inside
    a read would put `voice update` on this analysis's path): `unscored_texts` in the meta says
    how many texts wait for `klantreis voice update`, the demo or the server's routine.
    """
    if period not in PERIODS:
        raise ReputationQueryError(
            f"{period!r} is not one of: {', '.join(PERIODS)}", field="period"
        )
    if platform is not None and not platform.strip():
        raise ReputationQueryError("must not be empty", field="platform")
    cut = Cut.parse(start, end)
    scored = _WITH_VOICE if kr.engine.has_table("voice") else _WITHOUT_VOICE
    sql = _TEXTS + ", scored AS (" + scored + ")" + _PER_PERIOD
    params: dict[str, Any] = {
        "events": list(REPUTATION_EVENTS),
        "cut": cut.condition(kr.engine),
        "period": period,
        "platform": platform.strip().lower() if platform else None,
    }
    table = kr.engine.fetch(Query(sql, **params))
    return Result(
        table.select(SCHEMA.names).cast(SCHEMA),
        {
            "period": period,
            "platform": platform,
            "events": list(REPUTATION_EVENTS),
            "unscored_texts": unscored_texts(kr.store, kr.engine),
        },
    )
