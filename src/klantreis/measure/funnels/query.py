"""The portable funnel: one query tree per question, run by any engine.

The `ordered` mode computes exactly ClickHouse's `windowFunnel(window)`: events matching a step
are *entries* (an event matching two steps gives two entries), sorted by time and, at equal
times, by step number. An entry of step j is *valid* when a valid entry of step j-1 comes before
it and the chain's start lies at most `window` before it; the chain start carried along is the
latest possible one, which is what keeps the most later steps within reach. Each level is one
window function over the valid entries of the level before and the entries of this step, so a
30-step funnel is 30 small passes rather than one pass per possible chain.

`strict` asks the steps to be consecutive events of the person; `unordered` asks for any k of the
steps inside one window, starting at a step event. docs/analytics.md has the exact rules.
"""

from __future__ import annotations

from sqlglot import exp

from klantreis.measure.acquisition.cuts import SOURCE_COLUMN, source_column, with_source
from klantreis.measure.funnels.steps import FunnelSpec
from klantreis.measure.trees import AnalysisError, fragment, with_ctes
from klantreis.store.query import Query, identifier

_NO_BREAKDOWN = "CAST(NULL AS VARCHAR)"

_LEVEL_1 = """
SELECT person_id, epoch_us("timestamp") AS ts, epoch_us("timestamp") AS s,
       CAST(NULL AS BIGINT) AS p, CAST(:bd AS VARCHAR) AS bd
FROM journey_events WHERE :cut AND :cond
"""

_ORDERED_LEVEL = """
SELECT person_id, ts, prev_s AS s, prev_ts AS p, bd FROM (
    SELECT person_id, ts, kind, bd,
           max(s) OVER w AS prev_s,
           max(CASE WHEN kind = 0 THEN ts END) OVER w AS prev_ts
    FROM (
        SELECT person_id, ts, 0 AS kind, s, bd FROM prior
        UNION ALL
        SELECT person_id, epoch_us("timestamp") AS ts, 1 AS kind, CAST(NULL AS BIGINT) AS s,
               CAST(:bd AS VARCHAR) AS bd
        FROM journey_events WHERE :cut AND :cond
    ) AS entries
    WINDOW w AS (PARTITION BY person_id ORDER BY ts, kind
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
) AS scanned
WHERE kind = 1 AND ts <= prev_s + :window
"""

_UNION_SOURCES = """
SELECT person_id, ts, s, p, bd FROM a UNION ALL SELECT person_id, ts, s, p, bd FROM b
"""

_NUMBERED = """
SELECT *, epoch_us("timestamp") AS ts,
       row_number() OVER (PARTITION BY person_id ORDER BY "timestamp", message_id) AS rn
FROM journey_events WHERE :cut
"""

_STRICT_LEVEL_1 = """
SELECT person_id, ts, rn, ts AS s, CAST(NULL AS BIGINT) AS p, CAST(:bd AS VARCHAR) AS bd
FROM numbered WHERE :cond
"""

_STRICT_LEVEL = """
SELECT c.person_id, c.ts, c.rn, p.s, p.ts AS p, c.bd
FROM (SELECT person_id, ts, rn, CAST(:bd AS VARCHAR) AS bd FROM numbered WHERE :cond) AS c
JOIN prior AS p ON p.person_id = c.person_id AND c.rn = p.rn + 1
WHERE c.ts <= p.s + :window
"""

_FIRSTS = """
SELECT person_id, :step AS step, min(ts) AS reached_at,
       arg_min(ts - p, ts) AS from_previous, arg_min(ts - s, ts) AS from_first,
       arg_min(bd, ts) AS bd_at, arg_min(s, ts) AS started_at
FROM level GROUP BY person_id
"""

_UNORDERED_CANDIDATES = """
SELECT person_id, epoch_us("timestamp") AS ts, CAST(:bd AS VARCHAR) AS bd
FROM journey_events WHERE :cut AND :any
"""

_UNORDERED_NEXT = """
min(CASE WHEN :cond THEN ts END) OVER (PARTITION BY person_id ORDER BY ts
    RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
"""

_UNORDERED_BEST = """
SELECT person_id, max(score) AS level, arg_min(bd, ts) AS bd FROM scored GROUP BY person_id
"""

_UNORDERED_REACHED = """
SELECT b.person_id, n.step, CAST(NULL AS BIGINT) AS reached_at,
       CAST(NULL AS BIGINT) AS from_previous, CAST(NULL AS BIGINT) AS from_first,
       b.bd AS bd_at, CAST(NULL AS BIGINT) AS started_at
FROM best AS b JOIN step_numbers AS n ON n.step <= b.level
"""

_ATTRIBUTED_AT_STEP = """
SELECT person_id, max(CASE WHEN step = :step THEN bd_at END) AS breakdown
FROM reached GROUP BY person_id
"""
_ATTRIBUTED_LAST = """
SELECT person_id, arg_max(bd_at, step) AS breakdown FROM reached GROUP BY person_id
"""
_ATTRIBUTED_TABLE = """
SELECT r.person_id, CAST(t.breakdown_column AS VARCHAR) AS breakdown
FROM (SELECT DISTINCT person_id FROM reached) AS r
LEFT JOIN person_table AS t ON t.person_id = r.person_id
"""

_EXCLUDED = """
SELECT DISTINCT l.person_id FROM (
    SELECT person_id, arg_max(started_at, step) AS started_at FROM reached GROUP BY person_id
) AS l
JOIN (SELECT person_id, epoch_us("timestamp") AS ts FROM journey_events WHERE :cut AND :cond) AS x
  ON x.person_id = l.person_id AND x.ts >= l.started_at AND x.ts <= l.started_at + :window
"""
_NOBODY = "SELECT person_id FROM reached WHERE 1 = 0"

_KEPT = """
SELECT r.person_id, r.step, r.from_previous, r.from_first, a.breakdown
FROM reached AS r
JOIN attributed AS a ON a.person_id = r.person_id
LEFT JOIN excluded AS e ON e.person_id = r.person_id
WHERE e.person_id IS NULL
"""

_STEPS = """
SELECT step, breakdown, count(DISTINCT person_id) AS persons,
       quantile_cont(from_previous, 0.5) / 1000000.0 AS median_seconds,
       quantile_cont(from_previous, 0.9) / 1000000.0 AS p90_seconds,
       quantile_cont(from_first, 0.5) / 1000000.0 AS median_seconds_from_first,
       quantile_cont(from_first, 0.9) / 1000000.0 AS p90_seconds_from_first
FROM kept GROUP BY step, breakdown
"""

_DROPOFFS = """
SELECT pr.step, k.breakdown, k.person_id
FROM pairs AS pr
JOIN kept AS k ON k.step = pr.previous
LEFT JOIN kept AS n ON n.person_id = k.person_id AND n.step = pr.step
WHERE n.person_id IS NULL
ORDER BY 1, 2, 3
"""

_PERSONS = """
SELECT k.person_id, max(k.step) AS step, max(k.breakdown) AS breakdown
FROM kept AS k GROUP BY k.person_id
"""


def _breakdown_expr(spec: FunnelSpec) -> exp.Expression:
    from klantreis.measure.trees import json_property

    if spec.breakdown is not None and spec.breakdown_table is None:
        if source_column(spec.breakdown):
            return exp.column(SOURCE_COLUMN)
        return json_property(spec.breakdown.removeprefix("properties."))
    return fragment(_NO_BREAKDOWN)


def _ordered_levels(spec: FunnelSpec, cut: exp.Expression) -> list[tuple[str, exp.Expression]]:
    bd = _breakdown_expr(spec)
    window = spec.window_us
    ctes: list[tuple[str, exp.Expression]] = []
    source = ""
    for j, step in enumerate(spec.steps, start=1):
        name = f"level_{j}"
        if j == 1:
            tree = fragment(_LEVEL_1, bd=bd, cut=cut, cond=step.condition())
        else:
            tree = fragment(
                _ORDERED_LEVEL,
                {"prior": source},
                bd=bd,
                cut=cut,
                cond=step.condition(),
                window=window,
            )
        ctes.append((name, tree))
        if step.optional:
            # Entries that may precede the next step: this optional step's or those before it.
            via = f"via_{j}"
            ctes.append((via, fragment(_UNION_SOURCES, {"a": name, "b": source})))
            source = via
        else:
            source = name
    return ctes


def _strict_levels(spec: FunnelSpec, cut: exp.Expression) -> list[tuple[str, exp.Expression]]:
    bd = _breakdown_expr(spec)
    ctes: list[tuple[str, exp.Expression]] = [("numbered", fragment(_NUMBERED, cut=cut))]
    for j, step in enumerate(spec.steps, start=1):
        if j == 1:
            tree = fragment(_STRICT_LEVEL_1, bd=bd, cond=step.condition())
        else:
            tree = fragment(
                _STRICT_LEVEL,
                {"prior": f"level_{j - 1}"},
                bd=bd,
                cond=step.condition(),
                window=spec.window_us,
            )
        ctes.append((f"level_{j}", tree))
    return ctes


def _firsts(spec: FunnelSpec) -> list[tuple[str, exp.Expression]]:
    parts = [
        fragment(_FIRSTS, {"level": f"level_{j}"}, step=j) for j in range(1, len(spec.steps) + 1)
    ]
    union: exp.Expression = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return [("reached", union)]


def _unordered(spec: FunnelSpec, cut: exp.Expression) -> list[tuple[str, exp.Expression]]:
    conditions = [s.condition() for s in spec.steps]
    candidates = fragment(
        _UNORDERED_CANDIDATES, bd=_breakdown_expr(spec), cut=cut, any=exp.or_(*conditions)
    )
    assert isinstance(candidates, exp.Select)
    for j, cond in enumerate(conditions, start=1):
        candidates = candidates.select(exp.alias_(cond, f"m_{j}"), copy=False)
    nexts = []
    score_terms = []
    for j in range(1, len(conditions) + 1):
        flag = exp.column(identifier(f"m_{j}"))
        nexts.append(exp.alias_(fragment(_UNORDERED_NEXT, cond=flag), f"n_{j}"))
        score_terms.append(
            fragment(
                "CASE WHEN :n <= ts + :window THEN 1 ELSE 0 END",
                n=exp.column(identifier(f"n_{j}")),
                window=spec.window_us,
            )
        )
    nexted = exp.select("person_id", "ts", "bd", *nexts).from_("candidates")
    score: exp.Expression = score_terms[0]
    for term in score_terms[1:]:
        score = exp.Add(this=score, expression=term)
    scored = exp.select("person_id", "ts", "bd", exp.alias_(score, "score")).from_("nexted")
    values = exp.values([(j,) for j in range(1, len(conditions) + 1)], alias="t", columns=["step"])
    step_numbers = exp.select("step").from_(values)
    return [
        ("candidates", candidates),
        ("nexted", nexted),
        ("scored", scored),
        ("best", fragment(_UNORDERED_BEST)),
        ("step_numbers", step_numbers),
        ("reached", fragment(_UNORDERED_REACHED)),
    ]


def _attributed(spec: FunnelSpec) -> exp.Expression:
    if spec.breakdown_table is not None:
        assert spec.breakdown is not None
        tree = fragment(_ATTRIBUTED_TABLE, {"person_table": spec.breakdown_table})

        def column(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and node.name == "breakdown_column":
                return exp.column(identifier(spec.breakdown or ""), table="t")
            return node

        return tree.transform(column)
    if spec.breakdown is None:
        return fragment(_ATTRIBUTED_AT_STEP, step=1)
    if spec.attribution == "last_touch":
        return fragment(_ATTRIBUTED_LAST)
    step = spec.attribution_step if spec.attribution == "step" else 1
    return fragment(_ATTRIBUTED_AT_STEP, step=step)


def funnel_ctes(spec: FunnelSpec, cut: exp.Expression) -> list[tuple[str, exp.Expression]]:
    """Every common table expression up to `kept` (person, step reached, times, breakdown)."""
    if spec.mode == "ordered":
        ctes = _ordered_levels(spec, cut) + _firsts(spec)
    elif spec.mode == "strict":
        ctes = _strict_levels(spec, cut) + _firsts(spec)
    else:
        if spec.exclusions:
            raise AnalysisError("exclusions need mode 'ordered' or 'strict'", field="mode")
        ctes = _unordered(spec, cut)
    ctes.append(("attributed", _attributed(spec)))
    if spec.exclusions:
        excluded = fragment(
            _EXCLUDED,
            cut=cut,
            window=spec.window_us,
            cond=exp.or_(*(s.condition() for s in spec.exclusions)),
        )
    else:
        excluded = fragment(_NOBODY)
    ctes.append(("excluded", excluded))
    ctes.append(("kept", fragment(_KEPT)))
    return ctes


def steps_query(spec: FunnelSpec, cut: exp.Expression) -> Query:
    """Per step (and breakdown value): persons and times to convert."""
    return _sourced(spec, with_ctes(funnel_ctes(spec, cut), fragment(_STEPS)))


def dropoffs_query(spec: FunnelSpec, cut: exp.Expression) -> Query:
    """Who reached the step before but not this one: (step, breakdown, person_id)."""
    pairs = exp.select("step", "previous").from_(
        exp.values(previous_steps(spec), alias="t", columns=["step", "previous"])
    )
    return _sourced(
        spec, with_ctes([*funnel_ctes(spec, cut), ("pairs", pairs)], fragment(_DROPOFFS))
    )


def previous_steps(spec: FunnelSpec) -> list[tuple[int, int]]:
    """(step, the required step before it): drop-offs at a step are counted from there."""
    pairs = []
    previous = 1
    for j, step in enumerate(spec.steps, start=1):
        if j > 1:
            pairs.append((j, previous))
        if not step.optional:
            previous = j
    return pairs or [(2, 1)]


def persons_query(spec: FunnelSpec, cut: exp.Expression) -> Query:
    """Per person: the furthest step reached (for comparisons with windowFunnel levels)."""
    return _sourced(spec, with_ctes(funnel_ctes(spec, cut), fragment(_PERSONS)))


def _sourced(spec: FunnelSpec, query: Query) -> Query:
    """A breakdown by source (`source`, `campaign.source`, ...): every event carries its
    session's value (`measure/acquisition/cuts.py`)."""
    column = source_column(spec.breakdown) if spec.breakdown_table is None else None
    return Query(with_source(query.tree, column)) if column else query
