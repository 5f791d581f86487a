"""NPS, CSAT and CES from `Survey Answered` events, over time and per phase/touchpoint/persona.

NPS = % promoters (9-10) - % detractors (0-6); CSAT = % answering 4 or 5 of 5; CES = mean
effort score (1..7, higher is easier). Scores outside a survey's scale are not counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from klantreis.collect.surveys import SurveyError
from klantreis.measure.contract import AnalysisQuery
from klantreis.measure.registry import analysis
from klantreis.measure.result import Result
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

_ANSWERS = """
WITH answers AS (
    SELECT e.message_id, e.timestamp,
           json_extract_string(e.properties, '$.kind') AS kind,
           TRY_CAST(json_extract_string(e.properties, '$.score') AS DOUBLE) AS score,
           coalesce(json_extract_string(e.properties, '$.phase'), j.phase) AS phase,
           j.touchpoint AS touchpoint, j.person_id AS person_id
    FROM events AS e
    LEFT JOIN journey_events AS j ON j.message_id = e.message_id
    WHERE e.event = 'Survey Answered'
),
valid AS (
    SELECT * FROM answers
    WHERE (kind = 'nps' AND score BETWEEN 0 AND 10)
       OR (kind = 'csat' AND score BETWEEN 1 AND 5)
       OR (kind = 'ces' AND score BETWEEN 1 AND 7)
),
grouped AS (SELECT *, {group} AS grp FROM valid {join})
SELECT kind, grp AS "group", count(DISTINCT message_id) AS answers,
       CASE kind
           WHEN 'nps' THEN 100.0 * (avg(CASE WHEN score >= 9 THEN 1.0 ELSE 0.0 END)
                                    - avg(CASE WHEN score <= 6 THEN 1.0 ELSE 0.0 END))
           WHEN 'csat' THEN 100.0 * avg(CASE WHEN score >= 4 THEN 1.0 ELSE 0.0 END)
           ELSE avg(score)
       END AS value
FROM grouped
WHERE :kind IS NULL OR kind = :kind
GROUP BY kind, grp
ORDER BY kind, grp
"""
# The grouping expression is chosen from this fixed table (never from user text).
_GROUPS = {
    "month": ("strftime(date_trunc('month', timestamp), '%Y-%m')", ""),
    "phase": ("phase", ""),
    "touchpoint": ("touchpoint", ""),
    "persona": (
        "pp.persona",
        "LEFT JOIN person_personas AS pp ON pp.person_id = valid.person_id",
    ),
    "all": ("'all'", ""),
}
KINDS = ("nps", "csat", "ces")


class SurveyScoresQuery(AnalysisQuery):
    """`kr.survey_scores(...)`, `klantreis surveys scores`, `GET /api/surveys/scores`."""

    by: Literal["month", "phase", "touchpoint", "persona", "all"] = Field(
        "month", description="Group by month, phase, touchpoint, persona or all."
    )
    kind: Literal["nps", "csat", "ces"] | None = Field(None, description="nps, csat or ces.")


@analysis("survey_scores", query=SurveyScoresQuery, result=Result)
def survey_scores(kr: Context, *, by: str = "month", kind: str | None = None) -> Result:
    """Survey score per kind and group (`by`: month, phase, touchpoint, persona or all)."""
    if by not in _GROUPS:
        raise SurveyError("by", f"{by!r} is not one of {', '.join(_GROUPS)}")
    if kind is not None and kind not in KINDS:
        raise SurveyError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    if not kr.store.read_only and kr.engine.capabilities.writable:
        from klantreis.model import ensure_built

        ensure_built(kr)
    if by == "persona" and not kr.engine.has_table("person_personas"):
        raise SurveyError("by", "no personas yet: run `klantreis personas discover` first")
    expression, join = _GROUPS[by]
    sql = _ANSWERS.replace("{group}", expression).replace("{join}", join)
    return Result(kr.engine.fetch(Query(sql, kind=kind)), {"by": by, "kind": kind})
