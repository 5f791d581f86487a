"""The acquisition view: which sources bring customers who buy, who later hit breaches, who
come back, and what they say.

Each person is counted once, under the source of their first visit (`touch="first"`) or of their
last visit before their first order, a direct visit only when there was no other (`"last"`:
the last non-direct touch). Per source value: persons, buyers (conversion), buyers hit by a
breach of an expectation, buyers who ordered again, and their voice (texts, mean sentiment,
negative share, the topic most named). Every share has a 95 % Wilson interval and says whether
it lies above or below the shop's own rate (`vs_all`): a source is called better or worse only
when its interval excludes the overall rate.

One query: per-person aggregates of `session_sources`, `persons`, `breaches` and `voice`, each
grouped on its own and joined on `person_id` (equality joins only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field
from sqlglot import exp

from klantreis.measure.contract import AnalysisResult, CutQuery
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.stats import wilson
from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.measure.source import prepare
from klantreis.measure.trees import fragment, with_ctes
from klantreis.model.sources import SourcesSettings, load_rules
from klantreis.store.query import Query, identifier

if TYPE_CHECKING:
    from klantreis.model.context import Context

By = Literal["touchpoint", "source", "medium", "campaign"]
Touch = Literal["first", "last"]

_FIRST_ORDER = """
SELECT person_id, min(ordered_at) AS ordered_at FROM journeys WHERE converted GROUP BY person_id
"""
_TOUCHED = """
SELECT s.person_id,
       arg_min(s.value_column, (s.started_at, s.session_id)) AS first_value,
       min(s.started_at) AS first_at,
       arg_max(s.value_column, (CASE WHEN s.touchpoint = :direct THEN 0 ELSE 1 END,
                                s.started_at, s.session_id))
           FILTER (WHERE o.ordered_at IS NULL OR s.started_at <= o.ordered_at) AS last_value,
       max(s.started_at)
           FILTER (WHERE o.ordered_at IS NULL OR s.started_at <= o.ordered_at) AS last_at
FROM session_sources AS s LEFT JOIN first_order AS o ON o.person_id = s.person_id
WHERE s.person_id IS NOT NULL
GROUP BY s.person_id
"""
_BREACHED = "SELECT DISTINCT person_id FROM breaches"
_SAID = """
SELECT j.person_id, count(*) AS texts,
       count(v.sentiment) AS scored, sum(v.sentiment) AS sentiment_sum,
       count(*) FILTER (WHERE v.label = 'negative') AS negative
FROM voice AS v JOIN journey_events AS j ON j.message_id = v.message_id
GROUP BY j.person_id
"""
_NOBODY = "SELECT CAST(NULL AS VARCHAR) AS person_id WHERE 1 = 0"
_SAID_NOTHING = """
SELECT CAST(NULL AS VARCHAR) AS person_id, 0 AS texts, 0 AS scored,
       CAST(0 AS DOUBLE) AS sentiment_sum, 0 AS negative
WHERE 1 = 0
"""
_PEOPLE = """
SELECT t.person_id,
       coalesce(CASE WHEN :last THEN t.last_value ELSE t.first_value END, :none) AS value,
       CASE WHEN :last THEN t.last_at ELSE t.first_at END AS "timestamp",
       coalesce(p.orders, 0) AS orders,
       b.person_id IS NOT NULL AS breached,
       coalesce(w.texts, 0) AS texts, coalesce(w.scored, 0) AS scored,
       coalesce(w.sentiment_sum, 0) AS sentiment_sum, coalesce(w.negative, 0) AS negative
FROM touched AS t
LEFT JOIN persons AS p ON p.person_id = t.person_id
LEFT JOIN breached AS b ON b.person_id = t.person_id
LEFT JOIN said AS w ON w.person_id = t.person_id
"""
_PER_VALUE = """
SELECT value, count(*) AS persons,
       count(*) FILTER (WHERE orders > 0) AS buyers,
       count(*) FILTER (WHERE orders > 0 AND breached) AS breached,
       count(*) FILTER (WHERE orders > 1) AS repeat,
       CAST(sum(texts) AS BIGINT) AS texts, CAST(sum(scored) AS BIGINT) AS scored,
       CAST(sum(sentiment_sum) AS DOUBLE) AS sentiment_sum,
       CAST(sum(negative) AS BIGINT) AS negative
FROM people WHERE :cut
GROUP BY value
"""
_TOPICS = """
WITH touched AS (
    SELECT person_id, arg_min(value_column, (started_at, session_id)) AS value
    FROM session_sources WHERE person_id IS NOT NULL GROUP BY person_id
)
SELECT coalesce(t.value, :none) AS value, vt.topic, count(*) AS texts
FROM voice_topics AS vt
JOIN journey_events AS j ON j.message_id = vt.message_id
JOIN touched AS t ON t.person_id = j.person_id
GROUP BY 1, 2
"""


class SourcesQuery(CutQuery):
    """`kr.sources()`, `klantreis sources`, `GET /api/sources`."""

    by: By = Field(
        "touchpoint", description="Group by acquisition touchpoint, source, medium or campaign."
    )
    touch: Touch = Field(
        "first",
        description="Count each person under their first visit's source, or their last "
        "non-direct one before their first order.",
    )


class Share(AnalysisResult):
    """A share with its 95 % Wilson interval, against the shop's own share."""

    share: float | None
    low: float | None
    high: float | None
    vs_all: Literal["above", "below", "same"] | None
    """`above`/`below` only when the interval lies wholly above/below the shop's own share."""


class SourceRow(AnalysisResult):
    value: str
    persons: int
    buyers: int
    conversion: Share
    breached: int
    breach_share: Share
    repeat: int
    repeat_share: Share
    texts: int
    sentiment: float | None
    negative_share: float | None
    topics: list[dict[str, Any]]
    """The topics they write about most: `topic`, `texts`."""
    label: dict[str, str] | None = None
    """By touchpoint: its name in en, nl and da."""


class Sources(AnalysisResult):
    """`kr.sources()`: per source value, who came and how they fared (`as_json()` is
    `klantreis sources --json` and `GET /api/sources`)."""

    by: str
    touch: str
    persons: int
    buyers: int
    conversion: float | None
    breach_share: float | None
    repeat_share: float | None
    breaches_known: bool
    voice_known: bool
    sources: list[SourceRow]


def _share(hits: int, of: int, overall: float | None) -> Share:
    low, high = wilson(hits, of)
    share = hits / of if of else None
    vs_all: Literal["above", "below", "same"] | None = None
    if low is not None and high is not None and overall is not None:
        vs_all = "above" if low > overall else "below" if high < overall else "same"
    return Share(share=share, low=low, high=high, vs_all=vs_all)


def _column(tree: exp.Expression, column: str) -> exp.Expression:
    return tree.transform(
        lambda node: (
            exp.column(identifier(column), table=node.table or None)
            if isinstance(node, exp.Column) and node.name == "value_column"
            else node
        )
    )


@analysis("sources", query=SourcesQuery, result=Sources)
def sources(
    kr: Context,
    *,
    by: By = "touchpoint",
    touch: Touch = "first",
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
) -> Sources:
    """Per source: persons, conversion, buyers later hit by a breach, repeat buyers and their
    voice, each share with its interval against the shop's own."""
    engine = prepare(kr)
    ensure_cases(kr)
    cut = Cut.parse(start, end, persona).condition(engine)
    has_breaches = engine.has_table("breaches")
    has_voice = engine.has_table("voice")
    ctes = [
        ("first_order", fragment(_FIRST_ORDER)),
        ("touched", _column(fragment(_TOUCHED, direct="direct"), by)),
        ("breached", fragment(_BREACHED if has_breaches else _NOBODY)),
        ("said", fragment(_SAID if has_voice else _SAID_NOTHING)),
        ("people", fragment(_PEOPLE, last=touch == "last", none="(none)")),
    ]
    tree = with_ctes(ctes, fragment(_PER_VALUE, cut=cut)).tree
    rows = engine.fetch(Query(tree)).to_pylist()
    topics: dict[str, list[dict[str, Any]]] = {}
    if has_voice and engine.has_table("voice_topics"):
        for r in engine.fetch(Query(_column(Query(_TOPICS, none="(none)").tree, by))).to_pylist():
            topics.setdefault(r["value"], []).append({"topic": r["topic"], "texts": r["texts"]})
    total = {k: sum(r[k] or 0 for r in rows) for k in ("persons", "buyers", "breached", "repeat")}
    conversion = total["buyers"] / total["persons"] if total["persons"] else None
    breach_rate = total["breached"] / total["buyers"] if total["buyers"] else None
    repeat_rate = total["repeat"] / total["buyers"] if total["buyers"] else None
    rules = load_rules(kr.settings.section(SourcesSettings).rules)
    out = []
    for r in sorted(rows, key=lambda r: (-r["persons"], str(r["value"]))):
        said = sorted(topics.get(r["value"], []), key=lambda t: (-t["texts"], t["topic"]))
        label = None
        if by == "touchpoint":
            label = {lang: rules.label(r["value"], lang) for lang in ("en", "nl", "da")}
        out.append(
            SourceRow(
                value=str(r["value"]),
                persons=r["persons"],
                buyers=r["buyers"],
                conversion=_share(r["buyers"], r["persons"], conversion),
                breached=r["breached"],
                breach_share=_share(r["breached"], r["buyers"], breach_rate),
                repeat=r["repeat"],
                repeat_share=_share(r["repeat"], r["buyers"], repeat_rate),
                texts=int(r["texts"] or 0),
                sentiment=(r["sentiment_sum"] / r["scored"]) if r["scored"] else None,
                negative_share=(r["negative"] / r["scored"]) if r["scored"] else None,
                topics=said[:3],
                label=label,
            )
        )
    return Sources(
        by=by,
        touch=touch,
        persons=total["persons"],
        buyers=total["buyers"],
        conversion=conversion,
        breach_share=breach_rate,
        repeat_share=repeat_rate,
        breaches_known=has_breaches,
        voice_known=has_voice,
        sources=out,
    )
