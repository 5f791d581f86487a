"""Paths: the most frequent sequences of touchpoints (or events) customers take.

A path is read per session (or per person): from the first `start` event (or the first event),
up to the first `end` event after it (or `steps` items on); consecutive repeats of the same
touchpoint are collapsed (product page, product page, cart → product page, cart). With only an
`end`, the path is the last `steps` items leading to it. Counts are exact distinct persons; the
share is of persons with any path. Sankey edges link item k to item k+1 of the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
from sqlglot import exp

from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.measure.source import prepare, require_table
from klantreis.measure.trees import AnalysisError, fragment, with_ctes
from klantreis.store.engines.base import Engine
from klantreis.store.query import identifier

if TYPE_CHECKING:
    from klantreis.api import Klantreis

MAX_STEPS = 12

_NUMBERED = """
SELECT person_id,
       CASE WHEN :by_session THEN coalesce(session_id, person_id) ELSE person_id END AS unit,
       CASE WHEN :by_touchpoint THEN coalesce(touchpoint, "event") ELSE "event" END AS v,
       "event",
       row_number() OVER (
           PARTITION BY CASE WHEN :by_session THEN coalesce(session_id, person_id)
                             ELSE person_id END
           ORDER BY "timestamp", message_id) AS rn
FROM journey_events WHERE :cut
"""
_STARTS = "SELECT unit, min(rn) AS start_rn FROM numbered WHERE :is_start GROUP BY unit"
_ENDS = """
SELECT n.unit, min(n.rn) AS end_rn
FROM numbered AS n JOIN starts AS s ON s.unit = n.unit
WHERE :is_end AND n.rn >= s.start_rn GROUP BY n.unit
"""
_NO_ENDS = "SELECT unit, CAST(NULL AS BIGINT) AS end_rn FROM starts"
_WINDOWED = """
SELECT n.person_id, n.unit, n.rn, n.v,
       lag(n.v) OVER (PARTITION BY n.unit ORDER BY n.rn) AS prev_v
FROM numbered AS n
JOIN starts AS s ON s.unit = n.unit
JOIN ends AS e ON e.unit = n.unit
WHERE n.rn >= s.start_rn AND (e.end_rn IS NULL OR n.rn <= e.end_rn)
  AND (NOT :need_end OR e.end_rn IS NOT NULL)
"""
_COLLAPSED = """
SELECT person_id, unit, v,
       CASE WHEN :backwards
            THEN row_number() OVER (PARTITION BY unit ORDER BY rn DESC)
            ELSE row_number() OVER (PARTITION BY unit ORDER BY rn) END AS pos
FROM windowed WHERE prev_v IS NULL OR prev_v <> v
"""
_KEPT = "SELECT * FROM collapsed WHERE pos <= :steps"
_EDGES = """
SELECT a.pos AS source_step, a.v AS source, b.v AS target,
       count(DISTINCT a.person_id) AS persons, count(*) AS transitions
FROM kept AS a JOIN kept AS b ON b.unit = a.unit AND b.pos = a.pos + 1
GROUP BY a.pos, a.v, b.v
ORDER BY persons DESC, source_step, source, target
"""
_TOTAL = "SELECT count(DISTINCT person_id) AS persons FROM kept"


@dataclass
class PathsResult:
    paths: pa.Table
    """path (items joined by ' → '), items (list), persons, units (sessions or persons), share."""
    edges: pa.Table
    """Sankey edges: source_step, source, target, persons, transitions (step k → k+1)."""
    persons: int

    def to_arrow(self) -> pa.Table:
        return self.paths

    def as_json(self) -> dict[str, Any]:
        return {
            "persons": self.persons,
            "paths": self.paths.to_pylist(),
            "edges": self.edges.to_pylist(),
        }


def _ctes(
    start: str | None, end: str | None, steps: int, by: str, split: bool, cut: exp.Expression
) -> list[tuple[str, exp.Expression]]:
    is_start = fragment('"event" = :e', e=start) if start else exp.true()
    ends = fragment(_ENDS, is_end=fragment('n."event" = :e', e=end)) if end else fragment(_NO_ENDS)
    return [
        (
            "numbered",
            fragment(_NUMBERED, by_session=split, by_touchpoint=by == "touchpoint", cut=cut),
        ),
        ("starts", fragment(_STARTS, is_start=is_start)),
        ("ends", ends),
        ("windowed", fragment(_WINDOWED, need_end=end is not None)),
        ("collapsed", fragment(_COLLAPSED, backwards=end is not None and start is None)),
        ("kept", fragment(_KEPT, steps=steps)),
    ]


def _paths_final(steps: int, backwards: bool, top: int) -> exp.Expression:
    items = [
        exp.alias_(fragment("max(CASE WHEN pos = :k THEN v END)", k=k), f"v{k}")
        for k in range(1, steps + 1)
    ]
    per_unit = exp.select("person_id", "unit", *items).from_("kept").group_by("person_id", "unit")
    columns = [exp.column(identifier(f"v{k}")) for k in range(1, steps + 1)]
    return (
        exp.select(
            *columns,
            exp.alias_(fragment("count(DISTINCT person_id)"), "persons"),
            exp.alias_(fragment("count(*)"), "units"),
        )
        .from_(per_unit.subquery("per_unit"))
        .group_by(*[c.copy() for c in columns])
        .order_by("persons DESC", "units DESC", *[c.copy() for c in columns])
        .limit(top)
    )


def run_paths(
    engine: Engine,
    *,
    start: str | None = None,
    end: str | None = None,
    steps: int = 5,
    by: Literal["touchpoint", "event"] = "touchpoint",
    split_by_session: bool = True,
    top: int = 20,
    cut: exp.Expression | None = None,
) -> PathsResult:
    if by not in ("touchpoint", "event"):
        raise AnalysisError(f"by: {by!r} is not 'touchpoint' or 'event'")
    if not 1 <= steps <= MAX_STEPS:
        raise AnalysisError(f"steps: give 1 to {MAX_STEPS}, got {steps}")
    if top < 1:
        raise AnalysisError(f"top: must be at least 1, got {top}")
    require_table(engine, "journey_events")
    cut = cut if cut is not None else exp.true()
    ctes = _ctes(start, end, steps, by, split_by_session, cut)
    backwards = end is not None and start is None
    found = engine.fetch(with_ctes(ctes, _paths_final(steps, backwards, top))).to_pylist()
    total = int(engine.scalar(with_ctes(ctes, fragment(_TOTAL))) or 0)
    edges = engine.fetch(with_ctes(ctes, fragment(_EDGES)))
    rows = []
    for row in found:
        items = [row[f"v{k}"] for k in range(1, steps + 1) if row[f"v{k}"] is not None]
        if backwards:
            items.reverse()
        rows.append(
            {
                "path": " → ".join(items),
                "items": items,
                "persons": int(row["persons"]),
                "units": int(row["units"]),
                "share": row["persons"] / total if total else None,
            }
        )
    schema = pa.schema(
        [
            ("path", pa.string()),
            ("items", pa.list_(pa.string())),
            ("persons", pa.int64()),
            ("units", pa.int64()),
            ("share", pa.float64()),
        ]
    )
    return PathsResult(pa.Table.from_pylist(rows, schema=schema), edges, total)


@analysis("paths")
def paths(
    kr: Klantreis,
    *,
    start: str | None = None,
    end: str | None = None,
    steps: int = 5,
    by: Literal["touchpoint", "event"] = "touchpoint",
    split_by_session: bool = True,
    top: int = 20,
    since: str | None = None,
    until: str | None = None,
    persona: str | None = None,
) -> PathsResult:
    """Most frequent paths, e.g. `kr.paths(start="Products Searched", steps=4)`."""
    engine = prepare(kr)
    cut = Cut.parse(since, until, persona).condition(engine)
    return run_paths(
        engine,
        start=start,
        end=end,
        steps=steps,
        by=by,
        split_by_session=split_by_session,
        top=top,
        cut=cut,
    )
