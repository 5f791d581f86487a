"""The expectation analyses of the Python API (and, through it, the CLI, HTTP API and map).

kr.expectations(by="carrier")        # the scorecard
kr.pain_points()                     # per phase: breached expectations, biggest first
kr.breaches(person_id="p1")          # breaches of one person, for the timeline
kr.at_risk(now=datetime(2018, 3, 1)) # orders about to break their promise
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from sqlglot import exp

from klantreis.measure.contract import AnalysisQuery, AnalysisResult, CutQuery, Moment
from klantreis.measure.expectations.at_risk import at_risk_orders
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.scorecard import Scorecard, build_scorecard
from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.measure.result import Result
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

Language = Literal["en", "nl", "da"]
NOW = Field(None, description="Judge as of this ISO timestamp (default: the newest event).")

_PAIN_POINTS = """
WITH c AS (SELECT * FROM expectation_cases WHERE status IN ('met', 'breached') AND :cut)
SELECT phase, expectation_id, min(category) AS category,
       count(*) AS cases,
       CAST(sum(CASE WHEN status = 'breached' THEN 1 ELSE 0 END) AS BIGINT) AS breaches,
       count(DISTINCT CASE WHEN status = 'breached' THEN person_id END) AS persons,
       count(DISTINCT CASE WHEN status = 'breached' THEN journey_id END) AS journeys
FROM c GROUP BY phase, expectation_id
HAVING sum(CASE WHEN status = 'breached' THEN 1 ELSE 0 END) > 0
ORDER BY phase, persons DESC, expectation_id
"""

# Rows of `breaches` or `delights` (same filters, each in its own time order).
_CASE_ROWS = """
SELECT * FROM :table
WHERE (:person_id IS NULL OR person_id = :person_id)
  AND (:expectation IS NULL OR expectation_id = :expectation)
  AND (:journey_id IS NULL OR journey_id = :journey_id)
ORDER BY :at, :id
LIMIT :limit
"""
_CASE_TABLES = {
    "breaches": ("breached_at", "breach_id"),
    "delights": ("delighted_at", "delight_id"),
}


def _case_rows(
    kr: Context,
    table: str,
    person_id: str | None,
    expectation: str | None,
    journey_id: str | None,
    limit: int,
) -> Result:
    from klantreis.measure.result import Result

    ensure_cases(kr)
    at, row_id = _CASE_TABLES[table]
    query = Query(
        _CASE_ROWS, table=exp.to_table(table), at=exp.column(at), id=exp.column(row_id),
        person_id=person_id, expectation=expectation, journey_id=journey_id, limit=int(limit),
    )  # fmt: skip
    return Result(kr.engine.fetch(query))


def _when(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


class ExpectationsQuery(CutQuery):
    """`kr.expectations(...)`, `klantreis expectations`, `GET /api/expectations`."""

    by: (
        Literal["phase", "persona", "week", "carrier", "channel", "source", "acquisition"] | None
    ) = Field(
        None,
        description="Break down by phase, persona, week, carrier, channel, or where the "
        "journey began: source or acquisition touchpoint.",
    )
    language: Language = Field("en", description="Titles in en, nl or da.")
    trend: Literal["month", "week"] = Field("month", description="Trend periods.")
    now: Moment = NOW
    compare: Literal["timestamp", "day"] | None = Field(
        None,
        description="Lateness by timestamp or day (default: [expectations] compare, else "
        "timestamp).",
    )


class EvaluateQuery(AnalysisQuery):
    """`kr.evaluate_expectations(...)` (the demo and the routine run it)."""

    now: Moment = NOW


class PainPointsQuery(CutQuery):
    """`kr.pain_points(...)`, `GET /api/pain-points`."""

    language: Language = Field("en", description="Titles in en, nl or da.")


class CaseRowsQuery(AnalysisQuery):
    """`kr.breaches(...)`, `kr.delights(...)`, `GET /api/breaches`, `GET /api/delights`."""

    person_id: str | None = Field(None, description="Only this person's.")
    expectation: str | None = Field(None, description="Only this expectation's.")
    journey_id: str | None = Field(None, description="Only this journey's.")
    limit: int = Field(1000, ge=1, le=100_000, description="At most this many rows.")


class AtRiskQuery(AnalysisQuery):
    """`kr.at_risk(...)`, `klantreis at-risk`, `GET /api/at-risk`."""

    now: Moment = NOW
    unshipped_hours: float | None = Field(
        None, ge=0, description="Not shipped and fewer hours left than this ([at_risk], 48)."
    )
    undelivered_hours: float | None = Field(
        None, ge=0, description="Shipped, not delivered, fewer hours left ([at_risk], 24)."
    )
    overdue: bool = Field(False, description="Also list orders already past the promise.")


@analysis("expectations", query=ExpectationsQuery, result=Scorecard)
def expectations(
    kr: Context,
    *,
    by: str | None = None,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
    language: str = "en",
    trend: str = "month",
    now: datetime | str | None = None,
    compare: str | None = None,
) -> Scorecard:
    """The expectation scorecard (see `klantreis.measure.expectations.scorecard`)."""
    return build_scorecard(
        kr,
        by=by,
        start=start,
        end=end,
        persona=persona,
        language=language,
        trend_period=trend,
        now=_when(now),
        compare=compare,
    )


class Evaluation(AnalysisResult):
    """What judging the expectations stored: as of when, which rules, how many breaches."""

    as_of: datetime | None
    judged: list[str]
    """The rules judged (those with data)."""
    no_data: dict[str, str]
    """Rules not judged, with the reason (no events of theirs in the store)."""
    breaches: int


@analysis("evaluate_expectations", query=EvaluateQuery, result=Evaluation)
def evaluate_expectations(kr: Context, *, now: datetime | str | None = None) -> Evaluation:
    """Judge every expectation and store the `breaches` table (the demo runs this)."""
    case_set = ensure_cases(kr, now=_when(now))
    breaches = kr.engine.scalar("SELECT count(*) FROM breaches")
    return Evaluation(
        as_of=case_set.as_of,
        judged=[r.id for r in case_set.rules if r.id not in case_set.no_data],
        no_data=case_set.no_data,
        breaches=breaches or 0,
    )


class PainPoint(AnalysisResult):
    """One expectation breached in a phase: how often, for how many persons."""

    phase: str
    expectation_id: str
    title: str
    """In the query's language."""
    titles: dict[str, str]
    """By language."""
    category: str | None
    topics: list[str]
    cases: int
    breaches: int
    persons: int
    """Persons with a breach (the size of the pain)."""
    journeys: int
    breach_rate: float
    size: int
    """The same as `persons` (the map's word for how big a pain is)."""


class PainPoints(AnalysisResult):
    """Per phase, the expectations breached there, most persons first
    (`GET /api/pain-points` answers `as_json()`)."""

    phases: dict[str, list[PainPoint]]


@analysis("pain_points", query=PainPointsQuery, result=PainPoints)
def pain_points(
    kr: Context,
    *,
    persona: str | None = None,
    start: str | None = None,
    end: str | None = None,
    language: str = "en",
) -> PainPoints:
    """Per phase, the expectations breached there with their size, most persons first."""
    case_set = ensure_cases(kr)
    cut = Cut.parse(start, end, persona).condition(kr.engine, timestamp="started_at")
    result: dict[str, list[PainPoint]] = {}
    for row in kr.engine.rows(Query(_PAIN_POINTS, cut=cut)):
        rule = case_set.rule(row["expectation_id"])
        pain = PainPoint(
            **row,
            title=rule.title_in(language) if rule else row["expectation_id"],
            topics=list(rule.topics) if rule else [],
            titles=dict(rule.title) if rule else {},
            breach_rate=round(row["breaches"] / row["cases"], 4),
            size=row["persons"],
        )
        result.setdefault(pain.phase, []).append(pain)
    return PainPoints(phases=result)


@analysis("breaches", query=CaseRowsQuery, result=Result)
def breaches(
    kr: Context,
    *,
    person_id: str | None = None,
    expectation: str | None = None,
    journey_id: str | None = None,
    limit: int = 1000,
) -> Result:
    """Breaches (of a person, journey or expectation), in time order, for the timeline."""
    return _case_rows(kr, "breaches", person_id, expectation, journey_id, limit)


@analysis("delights", query=CaseRowsQuery, result=Result)
def delights(
    kr: Context,
    *,
    person_id: str | None = None,
    expectation: str | None = None,
    journey_id: str | None = None,
    limit: int = 1000,
) -> Result:
    """Promises clearly exceeded (of a person, journey or expectation), in time order."""
    return _case_rows(kr, "delights", person_id, expectation, journey_id, limit)


@analysis("at_risk", query=AtRiskQuery, result=Result)
def at_risk(
    kr: Context,
    *,
    now: datetime | str | None = None,
    unshipped_hours: float | None = None,
    undelivered_hours: float | None = None,
    overdue: bool = False,
) -> Result:
    """Orders not yet shipped or delivered with too little time left before the promise."""

    moment, table = at_risk_orders(
        kr,
        now=_when(now),
        unshipped_hours=unshipped_hours,
        undelivered_hours=undelivered_hours,
        overdue=overdue,
    )
    return Result(table, {"now": moment})
