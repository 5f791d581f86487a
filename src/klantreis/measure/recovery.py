"""Service recovery: did acting on a breach help? Per expectation, breached customers whose
case was resolved or who got a message about it, against comparable breached customers left
alone: their later review score, NPS and repeat purchase, with 95 % intervals.

Acted on: a `Case Message Sent` event within `act_days` after the person's first breach of the
expectation, or a case (`cases`, the inbox) about that expectation closed as resolved.
Comparable: breached by the same expectation, no earlier than the first breach the shop acted
on (before that nobody was helped, so those customers never had the chance), and early enough
to have had the whole `horizon_days` to review, answer or buy again. Left alone: the rest.

Outcomes within `horizon_days` after the breach: the rating of the first later review,
NPS of later NPS answers (promoters 9-10 minus detractors 0-6, per person their first answer)
and the share who completed another order. Intervals as the scorecard computes them
(`measure/expectations/stats.py`: Welch for means and NPS, Newcombe for shares). Not a
randomised trial: the difference is what came with acting, not proven to be caused by it.

One scan of `journey_events` for the outcome and message events, joined on the person to the
first breaches (equi-joins only); the cases table is read only for resolved cases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from klantreis.measure.contract import AnalysisQuery, AnalysisResult
from klantreis.measure.expectations.stats import (
    mean_difference,
    nps,
    nps_difference,
    proportion_difference,
)
from klantreis.measure.registry import analysis
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

MESSAGE_EVENT = "Case Message Sent"

_PERSONS = """
WITH first_breach AS (
    SELECT expectation_id, person_id, min(breached_at) AS breached_at
    FROM breaches
    WHERE breached_at IS NOT NULL AND person_id IS NOT NULL {expectation}
    GROUP BY expectation_id, person_id
),
later AS (
    SELECT person_id, event, timestamp,
           TRY_CAST(properties ->> '$.rating' AS DOUBLE) AS rating,
           CASE WHEN lower(properties ->> '$.kind') = 'nps'
                THEN TRY_CAST(properties ->> '$.score' AS DOUBLE) END AS nps_score,
           properties ->> '$.expectation_id' AS about
    FROM journey_events
    WHERE event IN ('Review Submitted', 'Survey Answered', :purchase_event, :message_event)
),
resolved AS (
    {resolved}
),
joined AS (
    SELECT b.expectation_id, b.person_id, b.breached_at, l.event, l.timestamp, l.rating,
           l.nps_score, l.about
    FROM first_breach AS b JOIN later AS l ON l.person_id = b.person_id
    WHERE l.timestamp > b.breached_at
      AND l.timestamp <= b.breached_at + to_days(CAST(:horizon AS INTEGER))
),
per_person AS (
    SELECT b.expectation_id, b.person_id, b.breached_at,
           coalesce(bool_or(j.event = :message_event
                   AND j.timestamp <= b.breached_at + to_days(CAST(:act_days AS INTEGER))
                   AND coalesce(j.about, b.expectation_id) = b.expectation_id), FALSE)
               OR coalesce(bool_or(r.person_id IS NOT NULL), FALSE) AS acted,
           arg_min(CASE WHEN j.event = 'Review Submitted' THEN j.rating END,
                   CASE WHEN j.event = 'Review Submitted' AND j.rating IS NOT NULL
                        THEN j.timestamp END) AS review,
           arg_min(CASE WHEN j.nps_score IS NOT NULL THEN j.nps_score END,
                   CASE WHEN j.nps_score IS NOT NULL THEN j.timestamp END) AS nps_score,
           bool_or(j.event = :purchase_event) AS repeat
    FROM first_breach AS b
    LEFT JOIN joined AS j ON j.expectation_id = b.expectation_id AND j.person_id = b.person_id
    LEFT JOIN resolved AS r ON r.expectation_id = b.expectation_id AND r.person_id = b.person_id
    GROUP BY b.expectation_id, b.person_id, b.breached_at
),
comparable AS (
    SELECT p.* FROM per_person AS p
    JOIN (SELECT expectation_id, min(breached_at) AS since FROM per_person WHERE acted
          GROUP BY expectation_id) AS s ON s.expectation_id = p.expectation_id
    WHERE p.breached_at >= s.since
      AND p.breached_at + to_days(CAST(:horizon AS INTEGER)) <= :latest
)
SELECT expectation_id, person_id, breached_at, acted, review, nps_score,
       coalesce(repeat, FALSE) AS repeat
FROM comparable
"""

_RESOLVED = """SELECT DISTINCT expectation_id, person_id FROM cases
    WHERE status = 'resolved' AND expectation_id IS NOT NULL"""
_NO_RESOLVED = """SELECT CAST(NULL AS VARCHAR) AS expectation_id,
    CAST(NULL AS VARCHAR) AS person_id WHERE FALSE"""

_GROUPS = """
SELECT expectation_id, acted, count(*) AS persons,
       count(review) AS review_n, avg(review) AS review_mean, var_samp(review) AS review_var,
       count(nps_score) AS nps_n,
       avg(CASE WHEN nps_score >= 9 THEN 1.0 WHEN nps_score IS NOT NULL THEN 0.0 END)
           AS promoters,
       avg(CASE WHEN nps_score <= 6 THEN 1.0 WHEN nps_score IS NOT NULL THEN 0.0 END)
           AS detractors,
       avg(CASE WHEN repeat THEN 1.0 ELSE 0.0 END) AS repeat_share
FROM ({persons}) AS p
GROUP BY expectation_id, acted
"""


class RecoveryQuery(AnalysisQuery):
    """`kr.recovery()`, `klantreis recovery`, `GET /api/recovery`."""

    expectation: str | None = Field(None, description="Only this expectation (its id).")
    horizon_days: int = Field(
        90, ge=1, le=730, description="Days after the breach in which outcomes count."
    )
    act_days: int = Field(
        14, ge=0, le=365, description="Days after the breach in which a message counts as acting."
    )


class Difference(AnalysisResult):
    """Acted on minus left alone, with its 95 % interval (None where a group is too small)."""

    difference: float | None = None
    low: float | None = None
    high: float | None = None


class RecoveryGroup(AnalysisResult):
    """One group's outcomes: persons, the first later review, NPS and repeat purchase."""

    persons: int = 0
    reviews: int = 0
    review: float | None = None
    nps_answers: int = 0
    nps: float | None = None
    repeat_purchase: float | None = None


class ExpectationRecovery(AnalysisResult):
    """One expectation: the two groups and the differences of each outcome."""

    expectation_id: str
    acted: int
    left_alone: int
    groups: dict[str, RecoveryGroup]
    review: Difference | None = None
    nps: Difference | None = None
    repeat_purchase: Difference | None = None


class Recovery(AnalysisResult):
    """Service recovery per expectation (`as_json()` is `klantreis recovery --json` and
    `GET /api/recovery`); largest groups first."""

    horizon_days: int
    act_days: int
    expectations: list[ExpectationRecovery]


def persons_query(
    kr: Context, *, expectation: str | None, horizon_days: int, act_days: int
) -> Query:
    """One row per comparable breached person: acted or not and the outcomes (the rows the
    figures are made of; tests check the figures against them)."""
    from klantreis.model import load_definition
    from klantreis.model.build import configured_definition

    latest = kr.engine.scalar("SELECT max(timestamp) FROM journey_events")
    sql = _PERSONS.format(
        expectation="AND expectation_id = :expectation" if expectation else "",
        resolved=_RESOLVED if kr.engine.has_table("cases") else _NO_RESOLVED,
    )
    from sqlglot import exp

    return Query(
        sql,
        expectation=expectation,
        purchase_event=load_definition(configured_definition(kr)).purchase_event,
        message_event=MESSAGE_EVENT,
        horizon=horizon_days,
        act_days=act_days,
        latest=exp.cast(exp.convert(str(latest)), "TIMESTAMP"),
    )


@analysis("recovery", query=RecoveryQuery, result=Recovery)
def recovery(
    kr: Context, *, expectation: str | None = None, horizon_days: int = 90, act_days: int = 14
) -> Recovery:
    """Per expectation: acted-on against left-alone breached customers, with intervals."""
    from klantreis.measure.expectations.cases import ensure_cases

    cases = ensure_cases(kr)
    known = {rule.id for rule in cases.rules}
    if expectation is not None and expectation not in known:
        from klantreis.errors import UnknownName

        raise UnknownName("expectation", "expectation", expectation, known)
    out = Recovery(horizon_days=horizon_days, act_days=act_days, expectations=[])
    if not kr.engine.has_table("journey_events") or not kr.engine.scalar(
        "SELECT count(*) FROM breaches"
    ):
        return out
    persons = persons_query(
        kr, expectation=expectation, horizon_days=horizon_days, act_days=act_days
    )
    rows = kr.engine.rows(Query(_GROUPS.format(persons=persons.sql())))
    by: dict[str, dict[bool, dict[str, Any]]] = {}
    for row in rows:
        by.setdefault(row["expectation_id"], {})[bool(row["acted"])] = row
    found = [
        ExpectationRecovery.model_validate(
            _figures(expectation_id, by[expectation_id].get(True), by[expectation_id].get(False))
        )
        for expectation_id in sorted(by)
    ]
    found.sort(key=lambda e: -(e.acted + e.left_alone))
    return Recovery(horizon_days=horizon_days, act_days=act_days, expectations=found)


def _group(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {
            "persons": 0,
            "review": None,
            "reviews": 0,
            "nps": None,
            "nps_answers": 0,
            "repeat_purchase": None,
        }
    return {
        "persons": int(row["persons"]),
        "reviews": int(row["review_n"]),
        "review": None if row["review_mean"] is None else round(float(row["review_mean"]), 4),
        "nps_answers": int(row["nps_n"]),
        "nps": nps(int(row["nps_n"]), row["promoters"], row["detractors"]),
        "repeat_purchase": round(float(row["repeat_share"]), 4),
    }


def _figures(
    expectation_id: str, acted: dict[str, Any] | None, alone: dict[str, Any] | None
) -> dict[str, Any]:
    """The two groups and acted-minus-left-alone of each outcome, with its interval."""

    def stats(row: dict[str, Any] | None, *names: str) -> tuple[Any, ...]:
        return (
            (0, *(None for _ in names))
            if row is None
            else (int(row[names[0]]), *(row[n] for n in names[1:]))
        )

    return {
        "expectation_id": expectation_id,
        "acted": int(acted["persons"]) if acted else 0,
        "left_alone": int(alone["persons"]) if alone else 0,
        "groups": {"acted": _group(acted), "left_alone": _group(alone)},
        "review": mean_difference(
            stats(alone, "review_n", "review_mean", "review_var"),
            stats(acted, "review_n", "review_mean", "review_var"),
        ),
        "nps": nps_difference(
            stats(alone, "nps_n", "promoters", "detractors"),
            stats(acted, "nps_n", "promoters", "detractors"),
        ),
        "repeat_purchase": proportion_difference(
            stats(alone, "persons", "repeat_share"),
            stats(acted, "persons", "repeat_share"),
        ),
    }
