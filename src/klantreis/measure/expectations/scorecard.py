"""The expectation scorecard: per expectation its cases, breaches, interval, trend and the effect
of a breach on outcomes (review score, repeat purchase, NPS); for rules with a delight margin
also the delight rate (met cases that clearly exceeded the promise) and what delight adds over
a plainly met promise.

Effects compare persons, not cases, by their *first* case of an expectation: met or breached
the first time. (Grouping by "ever breached" would mix the breach up with how many orders a
person placed: frequent buyers have more chances to be breached and, by definition, buy again.)
The outcomes come from one read of the events (the properties text is what a read costs at
shop scale). Outcomes after that first case: the review score of its order (or of the person's
reviews after it, for cases without an order), whether the person ordered again later, and
their first NPS answer after it. Delight compares, among persons whose first case was met,
those delighted then with those whose promise was merely kept.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from klantreis.errors import KlantreisError
from klantreis.measure.expectations import stats
from klantreis.measure.expectations.cases import CaseSet, ensure_cases
from klantreis.measure.expectations.kinds import kind_of
from klantreis.measure.expectations.rules import Rule
from klantreis.measure.expectations.stored import Parts, read_parts, stored_key, write_parts
from klantreis.measure.filters import Cut
from klantreis.measure.value.at_risk import revenue_at_risk
from klantreis.model.build import configured_definition
from klantreis.model.definition import load_definition
from klantreis.store.query import Query, identifier

if TYPE_CHECKING:
    from klantreis.model.context import Context

DIMENSIONS = ("phase", "persona", "week", "carrier", "channel", "source", "acquisition")
TREND_PERIODS = ("month", "week")


class ScorecardError(KlantreisError):
    """A scorecard request that cannot be answered (unknown dimension or period)."""


_COUNTS = """
SELECT expectation_id,
       CAST(sum(CASE WHEN status IN ('met', 'breached') THEN 1 ELSE 0 END) AS BIGINT) AS cases,
       CAST(sum(CASE WHEN status = 'met' THEN 1 ELSE 0 END) AS BIGINT) AS met,
       CAST(sum(CASE WHEN status = 'breached' THEN 1 ELSE 0 END) AS BIGINT) AS breached,
       CAST(sum(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS BIGINT) AS open,
       CAST(sum(CASE WHEN status IN ('unresolved', 'unknown') THEN 1 ELSE 0 END) AS BIGINT)
           AS unresolved,
       count(DISTINCT CASE WHEN status IN ('met', 'breached') THEN person_id END) AS persons,
       count(DISTINCT CASE WHEN status = 'breached' THEN person_id END) AS breached_persons,
       CAST(sum(CASE WHEN status = 'met' AND delighted THEN 1 ELSE 0 END) AS BIGINT)
           AS delighted,
       count(DISTINCT CASE WHEN status = 'met' AND delighted THEN person_id END)
           AS delighted_persons
FROM expectation_cases WHERE :cut
GROUP BY expectation_id
"""

_TREND_MONTH = """
SELECT expectation_id, CAST(date_trunc('month', started_at) AS DATE) AS period,
       count(*) AS cases,
       CAST(sum(CASE WHEN status = 'breached' THEN 1 ELSE 0 END) AS BIGINT) AS breached
FROM expectation_cases WHERE status IN ('met', 'breached') AND :cut
GROUP BY 1, 2 ORDER BY 1, 2
"""
_TREND = {
    "month": _TREND_MONTH,
    "week": _TREND_MONTH.replace("'month'", "'week'"),
}

_EFFECTS = """
WITH decided AS (
    SELECT expectation_id, case_id, person_id, order_id, started_at, status, delighted
    FROM expectation_cases WHERE status IN ('met', 'breached') AND :cut
),
c AS (
    SELECT * FROM (
        SELECT *, row_number() OVER (
            PARTITION BY expectation_id, person_id ORDER BY started_at, case_id) AS n
        FROM decided
    ) AS ranked WHERE n = 1
),
outcomes AS (
    SELECT person_id, order_id, timestamp, event,
           CASE WHEN event = 'Review Submitted'
                THEN TRY_CAST(properties ->> '$.rating' AS DOUBLE) END AS rating,
           CASE WHEN event = 'Survey Answered' AND properties ->> '$.kind' = 'nps'
                THEN TRY_CAST(properties ->> '$.score' AS DOUBLE) END AS score,
           event = 'Survey Answered' AND properties ->> '$.kind' = 'nps' AS nps_answer
    FROM journey_events
    WHERE event IN ('Review Submitted', 'Survey Answered', :purchase_event)
),
reviews AS (
    SELECT person_id, order_id, timestamp, rating FROM outcomes WHERE event = 'Review Submitted'
),
order_rating AS (
    SELECT order_id, avg(rating) AS rating FROM reviews
    WHERE order_id IS NOT NULL AND rating IS NOT NULL GROUP BY order_id
),
later_rating AS (
    SELECT c.expectation_id, c.case_id, avg(r.rating) AS rating
    FROM c JOIN reviews AS r ON r.person_id = c.person_id AND r.timestamp >= c.started_at
    WHERE c.order_id IS NULL AND r.rating IS NOT NULL
    GROUP BY c.expectation_id, c.case_id
),
orders AS (SELECT person_id, timestamp FROM outcomes WHERE event = :purchase_event),
again AS (
    SELECT c.expectation_id, c.case_id, 1 AS repurchased
    FROM c JOIN orders AS o ON o.person_id = c.person_id AND o.timestamp > c.started_at
    GROUP BY c.expectation_id, c.case_id
),
answers AS (SELECT person_id, timestamp, score FROM outcomes WHERE nps_answer),
later_nps AS (
    SELECT c.expectation_id, c.case_id, arg_min(a.score, a.timestamp) AS score
    FROM c JOIN answers AS a ON a.person_id = c.person_id AND a.timestamp >= c.started_at
    WHERE a.score IS NOT NULL
    GROUP BY c.expectation_id, c.case_id
),
per_person AS (
    SELECT f.expectation_id, f.person_id,
           CASE WHEN f.status = 'breached' THEN 1 ELSE 0 END AS breached,
           CASE WHEN f.status = 'met' AND f.delighted THEN 1
                WHEN f.status = 'met' AND NOT f.delighted THEN 0 END AS delighted,
           coalesce(orr.rating, lr.rating) AS rating,
           coalesce(g.repurchased, 0) AS repurchased,
           n.score AS nps
    FROM c AS f
    LEFT JOIN order_rating AS orr ON orr.order_id = f.order_id
    LEFT JOIN later_rating AS lr ON lr.expectation_id = f.expectation_id AND lr.case_id = f.case_id
    LEFT JOIN again AS g ON g.expectation_id = f.expectation_id AND g.case_id = f.case_id
    LEFT JOIN later_nps AS n ON n.expectation_id = f.expectation_id AND n.case_id = f.case_id
)
SELECT expectation_id, breached, count(*) AS persons,
       count(rating) AS rated, avg(rating) AS rating_mean, var_samp(rating) AS rating_var,
       avg(CAST(repurchased AS DOUBLE)) AS repeat_rate,
       count(nps) AS nps_n,
       avg(CASE WHEN nps >= 9 THEN 1.0 WHEN nps IS NOT NULL THEN 0.0 END) AS promoters,
       avg(CASE WHEN nps <= 6 THEN 1.0 WHEN nps IS NOT NULL THEN 0.0 END) AS detractors,
       count(CASE WHEN delighted = 1 THEN 1 END) AS delighted_persons,
       count(CASE WHEN delighted = 1 THEN rating END) AS delighted_rated,
       avg(CASE WHEN delighted = 1 THEN rating END) AS delighted_rating_mean,
       var_samp(CASE WHEN delighted = 1 THEN rating END) AS delighted_rating_var,
       avg(CASE WHEN delighted = 1 THEN CAST(repurchased AS DOUBLE) END) AS delighted_repeat_rate,
       count(CASE WHEN delighted = 0 THEN 1 END) AS plain_persons,
       count(CASE WHEN delighted = 0 THEN rating END) AS plain_rated,
       avg(CASE WHEN delighted = 0 THEN rating END) AS plain_rating_mean,
       var_samp(CASE WHEN delighted = 0 THEN rating END) AS plain_rating_var,
       avg(CASE WHEN delighted = 0 THEN CAST(repurchased AS DOUBLE) END) AS plain_repeat_rate
FROM per_person GROUP BY expectation_id, breached
"""

_GROUP_FIGURES = """count(*) AS cases,
       CAST(sum(CASE WHEN c.status = 'breached' THEN 1 ELSE 0 END) AS BIGINT) AS breached,
       count(DISTINCT c.person_id) AS persons,
       count(c.delighted) AS delight_cases,
       CAST(sum(CASE WHEN c.status = 'met' AND c.delighted THEN 1 ELSE 0 END) AS BIGINT)
           AS delighted"""
"""The figures of each group of cases (by carrier, persona or source), the same in each."""

_GROUPS = f"""
WITH carriers AS (
    SELECT order_id, max(properties ->> '$.carrier') AS carrier FROM journey_events
    WHERE order_id IS NOT NULL AND properties ->> '$.carrier' IS NOT NULL
    GROUP BY order_id
),
c AS (SELECT * FROM expectation_cases WHERE status IN ('met', 'breached') AND :cut)
SELECT CASE WHEN :per_expectation THEN c.expectation_id END AS expectation_id,
       coalesce(CAST(:group_value AS VARCHAR), '(none)') AS value,
       {_GROUP_FIGURES}
FROM c LEFT JOIN carriers AS k ON k.order_id = c.order_id
GROUP BY 1, 2 ORDER BY 1, 2
"""  # noqa: S608 - constants only

_PERSONA_GROUPS = f"""
WITH c AS (SELECT * FROM expectation_cases WHERE status IN ('met', 'breached') AND :cut)
SELECT c.expectation_id, coalesce(pp.persona, '(none)') AS value,
       {_GROUP_FIGURES}
FROM c LEFT JOIN person_personas AS pp ON pp.person_id = c.person_id
GROUP BY 1, 2 ORDER BY 1, 2
"""  # noqa: S608 - constants only

_SOURCE_GROUPS = f"""
WITH c AS (SELECT * FROM expectation_cases WHERE status IN ('met', 'breached') AND :cut),
touched AS (
    SELECT journey_id, arg_min(source_column, (started_at, session_id)) AS value
    FROM session_sources GROUP BY journey_id
)
SELECT c.expectation_id, coalesce(t.value, '(none)') AS value,
       {_GROUP_FIGURES}
FROM c LEFT JOIN touched AS t ON t.journey_id = c.journey_id
GROUP BY 1, 2 ORDER BY 1, 2
"""  # noqa: S608 - constants only
"""By where the case's journey began: its first visit's source (`source`) or acquisition
touchpoint (`acquisition`), one row per journey joined on `journey_id`."""

_SOURCE_COLUMNS = {"source": "source", "acquisition": "touchpoint"}

_GROUP_VALUES = {
    "phase": "c.phase",
    "week": "CAST(CAST(date_trunc('week', c.started_at) AS DATE) AS VARCHAR)",
    "carrier": "k.carrier",
    "channel": "c.channel",
}


@dataclass
class ExpectationScore:
    id: str
    category: str
    phase: str
    kind: str
    title: str
    description: str
    target: float
    status: str
    """`kept` (breach rate within target), `breached` (over target) or `no data`."""
    no_data_reason: str | None = None
    cases: int = 0
    met: int = 0
    breached: int = 0
    open: int = 0
    unresolved: int = 0
    persons: int = 0
    breached_persons: int = 0
    breach_rate: float | None = None
    interval: dict[str, float | None] = field(default_factory=dict)
    delight_margin: str | None = None
    """The rule's delight margin in words (`early by 1d`); None: the rule measures no delight,
    and then `delighted`, `delighted_persons` and `delight_rate` are None too (not 0)."""
    delighted: int | None = None
    delighted_persons: int | None = None
    delight_rate: float | None = None
    """Delighted cases over all decided cases (met + breached), like `breach_rate`."""
    delight_interval: dict[str, float | None] = field(default_factory=dict)
    percentile: dict[str, Any] | None = None
    """`overall` again for percentile rules, where the scorecard's JSON first had it."""
    overall: dict[str, Any] | None = None
    """The kind's own verdict on the whole expectation, which replaces breach rate against
    target: a percentile rule's `{"percentile": 75, "value": 1800.0, "limit": 2500,
    "unit": "ms", "text": "p75 = 1800.0 ms"}`; None for kinds without one."""
    trend: dict[str, Any] = field(default_factory=dict)
    effects: dict[str, Any] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)
    value_at_risk: dict[str, Any] | None = None
    """The customer value of the breached persons (`measure/value/at_risk.py`): expected
    future revenue, revenue to date, and the lost part where opportunities measured it."""


@dataclass
class Scorecard:
    as_of: datetime | None
    compare: str
    language: str
    by: str | None
    cut: dict[str, Any]
    expectations: list[ExpectationScore]
    phases: list[dict[str, Any]] = field(default_factory=list)
    """With `by="phase"`: all cases of the expectations of each phase together."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def get(self, rule_id: str) -> ExpectationScore:
        for score in self.expectations:
            if score.id == rule_id:
                return score
        raise KeyError(rule_id)


def _rate(breached: int, cases: int) -> dict[str, Any]:
    low, high = stats.wilson(breached, cases)
    return {
        "breach_rate": round(breached / cases, 4) if cases else None,
        "low": None if low is None else round(low, 4),
        "high": None if high is None else round(high, 4),
    }


def _delight_effects(met: dict[str, Any]) -> dict[str, Any] | None:
    """Delighted minus plainly met, from the met group's row (None without a delight margin)."""
    if not met.get("delighted_persons") and not met.get("plain_persons"):
        return None

    def side(prefix: str) -> dict[str, Any]:
        mean, rate = met[f"{prefix}_rating_mean"], met[f"{prefix}_repeat_rate"]
        return {
            "persons": met[f"{prefix}_persons"],
            "review_score": None if mean is None else round(mean, 3),
            "reviews": met[f"{prefix}_rated"],
            "repeat_purchase_rate": None if rate is None else round(rate, 4),
        }

    def stats_of(prefix: str) -> tuple[int, float | None, float | None]:
        return (met[f"{prefix}_rated"], met[f"{prefix}_rating_mean"], met[f"{prefix}_rating_var"])

    return {
        "delighted": side("delighted"),
        "met_not_delighted": side("plain"),
        "review_score": stats.mean_difference(stats_of("plain"), stats_of("delighted")),
        "repeat_purchase": stats.proportion_difference(
            (met["plain_persons"], met["plain_repeat_rate"]),
            (met["delighted_persons"], met["delighted_repeat_rate"]),
        ),
    }


def _effects(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_rule: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        by_rule.setdefault(row["expectation_id"], {})[int(row["breached"])] = row
    result: dict[str, dict[str, Any]] = {}
    empty = {
        "persons": 0,
        "rated": 0,
        "rating_mean": None,
        "rating_var": None,
        "repeat_rate": None,
        "nps_n": 0,
        "promoters": None,
        "detractors": None,
    }
    for rule_id, groups in by_rule.items():
        met, bad = groups.get(0, empty), groups.get(1, empty)

        def side(g: dict[str, Any]) -> dict[str, Any]:
            return {
                "persons": g["persons"],
                "review_score": None if g["rating_mean"] is None else round(g["rating_mean"], 3),
                "reviews": g["rated"],
                "repeat_purchase_rate": None
                if g["repeat_rate"] is None
                else round(g["repeat_rate"], 4),
                "nps": None
                if not g["nps_n"]
                else round(stats.nps(g["nps_n"], g["promoters"], g["detractors"]) or 0.0, 1),
                "nps_answers": g["nps_n"],
            }

        result[rule_id] = {
            "met": side(met),
            "breached": side(bad),
            "review_score": stats.mean_difference(
                (met["rated"], met["rating_mean"], met["rating_var"]),
                (bad["rated"], bad["rating_mean"], bad["rating_var"]),
            ),
            "repeat_purchase": stats.proportion_difference(
                (met["persons"], met["repeat_rate"]), (bad["persons"], bad["repeat_rate"])
            ),
            "nps": stats.nps_difference(
                (met["nps_n"], met["promoters"], met["detractors"]),
                (bad["nps_n"], bad["promoters"], bad["detractors"]),
            ),
            "delight": _delight_effects(met),
        }
    return result


def _groups(kr: Context, by: str, cut_tree: exp.Expression) -> list[dict[str, Any]]:
    if by == "persona":
        if not kr.engine.has_table("person_personas"):
            raise ScorecardError("no personas yet: run `klantreis personas discover` first")
        query = Query(_PERSONA_GROUPS, cut=cut_tree)
    elif by in _SOURCE_COLUMNS:
        column = exp.column(identifier(_SOURCE_COLUMNS[by]))
        tree = Query(_SOURCE_GROUPS, cut=cut_tree).tree.transform(
            lambda node: (
                column.copy()
                if isinstance(node, exp.Column) and node.name == "source_column"
                else node
            )
        )
        query = Query(tree)
    else:
        query = Query(
            _GROUPS,
            cut=cut_tree,
            per_expectation=by != "phase",
            group_value=sqlglot.parse_one(_GROUP_VALUES[by], read="duckdb"),
        )
    rows = kr.engine.rows(query)
    for row in rows:
        row.update(_rate(int(row["breached"]), int(row["cases"])))
        row.update(_delight_rate(int(row["delighted"]), int(row["delight_cases"])))
    return rows


def _delight_rate(delighted: int, cases: int) -> dict[str, Any]:
    """Delight rate of a group over its cases from rules with a delight margin; None (and no
    interval) when none of its cases has one, so "not measured" never reads as 0 %."""
    if not cases:
        return {"delight_rate": None, "delight_low": None, "delight_high": None}
    low, high = stats.wilson(delighted, cases)
    return {
        "delight_rate": round(delighted / cases, 4),
        "delight_low": None if low is None else round(low, 4),
        "delight_high": None if high is None else round(high, 4),
    }


def build_scorecard(
    kr: Context,
    *,
    by: str | None = None,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
    language: str = "en",
    trend_period: str = "month",
    now: datetime | None = None,
    compare: str | None = None,
) -> Scorecard:
    if by is not None and by not in DIMENSIONS:
        raise ScorecardError(f"--by {by!r}: use one of {', '.join(DIMENSIONS)}")
    if trend_period not in TREND_PERIODS:
        raise ScorecardError(f"trend period {trend_period!r}: use month or week")
    case_set = ensure_cases(kr, now=now, compare=compare)
    cut = Cut.parse(start, end, persona)
    uncut = start is None and end is None and persona is None
    key = stored_key(kr, by, trend_period) if uncut else None
    parts = None if key is None else read_parts(kr, key)
    if parts is None:
        started = time.perf_counter()
        parts = _parts(
            kr, case_set, cut.condition(kr.engine, timestamp="started_at"), by, trend_period
        )
        if key is not None:
            write_parts(kr, key, parts, time.perf_counter() - started)
    scores = [_score(rule, case_set, parts, language, trend_period) for rule in case_set.rules]
    at_risk = revenue_at_risk(kr, cut.condition(kr.engine, timestamp="started_at"))
    for score in scores:
        score.value_at_risk = at_risk.get(score.id)
    return Scorecard(
        as_of=case_set.as_of,
        compare=case_set.compare,
        language=language,
        by=by,
        cut={"start": start, "end": end, "persona": persona},
        expectations=scores,
        phases=parts.grouped if by == "phase" else [],
    )


def _parts(
    kr: Context, case_set: CaseSet, cut_tree: exp.Expression, by: str | None, trend_period: str
) -> Parts:
    """Every figure of the scorecard that comes from the cases: a few aggregates over
    `expectation_cases` and one read of the outcome events (language-free, so they can be
    stored and read back in any language)."""
    engine = kr.engine
    counts = {r["expectation_id"]: r for r in engine.rows(Query(_COUNTS, cut=cut_tree))}
    points: dict[str, list[dict[str, Any]]] = {}
    for row in engine.rows(Query(_TREND[trend_period], cut=cut_tree)):
        points.setdefault(row["expectation_id"], []).append(
            {
                "period": row["period"].isoformat(),
                "cases": row["cases"],
                "breached": row["breached"],
                "breach_rate": round(row["breached"] / row["cases"], 4),
            }
        )
    purchase_event = load_definition(configured_definition(kr)).purchase_event
    effects = _effects(engine.rows(Query(_EFFECTS, cut=cut_tree, purchase_event=purchase_event)))
    grouped = _groups(kr, by, cut_tree) if by else []
    overall: dict[str, dict[str, Any] | None] = {}
    for rule in case_set.rules:
        count = counts.get(rule.id)
        if rule.id in case_set.no_data or count is None or not count["cases"]:
            continue
        found = kind_of(rule).overall(engine, rule, cut_tree)
        overall[rule.id] = (
            None
            if found is None
            else {
                "name": found.name,
                "values": found.values,
                "kept": found.kept,
                "text": found.text,
            }
        )
    trends = {rule_id: stats.trend(found) for rule_id, found in points.items()}
    return Parts(
        counts=counts,
        points=points,
        trends=trends,
        effects=effects,
        grouped=grouped,
        overall=overall,
    )


def _score(
    rule: Rule, case_set: CaseSet, parts: Parts, language: str, trend_period: str
) -> ExpectationScore:
    count = parts.counts.get(rule.id)
    score = ExpectationScore(
        id=rule.id,
        category=rule.category,
        phase=rule.phase,
        kind=rule.kind,
        title=rule.title_in(language),
        description=rule.description,
        target=rule.target,
        status="no data",
        delight_margin=kind_of(rule).delight_margin(rule),
    )
    if rule.id in case_set.no_data:
        score.no_data_reason = case_set.no_data[rule.id]
        return score
    if count is None or not count["cases"]:
        score.no_data_reason = "no cases to judge yet"
        if count is not None:
            score.open, score.unresolved = int(count["open"]), int(count["unresolved"])
        return score
    for name in ("cases", "met", "breached", "open", "unresolved", "persons", "breached_persons"):
        setattr(score, name, int(count[name]))
    rate = _rate(score.breached, score.cases)
    score.breach_rate = rate["breach_rate"]
    score.interval = {"low": rate["low"], "high": rate["high"]}
    score.status = "kept" if (score.breach_rate or 0.0) <= rule.target else "breached"
    if score.delight_margin is not None:
        score.delighted = int(count["delighted"])
        score.delighted_persons = int(count["delighted_persons"])
        rate = _delight_rate(score.delighted, score.cases)
        score.delight_rate = rate["delight_rate"]
        score.delight_interval = {"low": rate["delight_low"], "high": rate["delight_high"]}
    overall = parts.overall.get(rule.id)
    if overall is not None:
        score.overall = {**overall["values"], "text": overall["text"]}
        if overall["name"] == "percentile":
            score.percentile = score.overall
        score.status = "kept" if overall["kept"] else "breached"
    points = parts.points.get(rule.id, [])
    trend = parts.trends.get(rule.id) or stats.trend(points)
    score.trend = {"period": trend_period, "points": points, **trend}
    score.effects = parts.effects.get(rule.id, {})
    score.groups = [g for g in parts.grouped if g.get("expectation_id") == rule.id]
    return score
