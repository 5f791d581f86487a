"""Paths: the most frequent sequences of touchpoints (or events) customers take.

A path is read per session (or per person): from the first `start_event` (or the first event),
up to the first `end_event` after it (or `steps` items on); consecutive repeats of the same
touchpoint are collapsed (product page, product page, cart → product page, cart). With only an
`end_event`, the path is the last `steps` items leading to it. The period is `start`/`end`, as
in every analysis. Counts are exact distinct persons; the
share is of persons with any path. Sankey edges link item k to item k+1 of the same path.

Over many events the paths are counted per part of the persons (`PART_ROWS` events a part,
each person in one part by a hash of their id) and the parts' counts added: persons are
distinct across parts, so every count is the one a single query gives, while the windows and
the joins of `kept` hold one part at a time (at 10M events in one query they ran out of
DuckDB's memory under a 3GB cap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pyarrow as pa
from pydantic import Field, field_validator
from sqlglot import exp

from klantreis.measure.contract import Cli, CutQuery, iso_date
from klantreis.measure.filters import Cut
from klantreis.measure.names import Names
from klantreis.measure.registry import analysis
from klantreis.measure.source import prepare, require_table
from klantreis.measure.trees import AnalysisError, fragment, with_ctes
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query, identifier, node

if TYPE_CHECKING:
    from klantreis.model.context import Context

MAX_STEPS = 12
PART_ROWS = 2_000_000
"""Journey events (in the period) a part of the persons holds at most: above it the paths
are counted part by part (see the module's docstring). 2M: the 1M-event store's paths in one
query stayed within 1 GB; five parts at 10M within a 3GB cap."""

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
SELECT source_step, source, target, persons, transitions,
       row_number() OVER (ORDER BY persons DESC, source_step, source, target) AS ranking
FROM (
    SELECT a.pos AS source_step, a.v AS source, b.v AS target,
           count(DISTINCT a.person_id) AS persons, count(*) AS transitions
    FROM kept AS a JOIN kept AS b ON b.unit = a.unit AND b.pos = a.pos + 1
    GROUP BY a.pos, a.v, b.v
) AS e
"""
_TOTAL = "SELECT count(DISTINCT person_id) AS persons FROM kept"
EDGE_SCHEMA = pa.schema(
    [
        ("source_step", pa.int64()),
        ("source", pa.string()),
        ("target", pa.string()),
        ("persons", pa.int64()),
        ("transitions", pa.int64()),
    ]
)


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


def _paths_final(steps: int, top: int | None) -> exp.Expression:
    """The `top` paths (None: all), ranked by persons, then units, then the items."""
    items = [
        exp.alias_(fragment("max(CASE WHEN pos = :k THEN v END)", k=k), f"v{k}")
        for k in range(1, steps + 1)
    ]
    per_unit = exp.select("person_id", "unit", *items).from_("kept").group_by("person_id", "unit")
    columns = [exp.column(identifier(f"v{k}")) for k in range(1, steps + 1)]
    rank = fragment(
        "row_number() OVER (ORDER BY count(DISTINCT person_id) DESC, count(*) DESC)"
    ).copy()  # parsed fragments are shared: extend a copy
    for column in columns:
        rank.args["order"].append("expressions", exp.Ordered(this=column.copy()))
    ranked = (
        exp.select(
            *columns,
            exp.alias_(fragment("count(DISTINCT person_id)"), "persons"),
            exp.alias_(fragment("count(*)"), "units"),
            exp.alias_(rank, "ranking"),
        )
        .from_(per_unit.subquery("per_unit"))
        .group_by(*[c.copy() for c in columns])
    )
    every = exp.select("*").from_(ranked.subquery("ranked"))
    return every if top is None else every.where(fragment("ranking <= :n", n=top))


def _nulls(type_: str, *names: str) -> list[exp.Expression]:
    return [node(exp.alias_(exp.cast(exp.null(), type_), name)) for name in names]


def _answers(
    steps: int, top: int | None
) -> tuple[list[tuple[str, exp.Expression]], exp.Expression]:
    """Paths, Sankey edges and the total in one result, told apart by `part`.

    One query so that `kept` (nearly all of the cost) is computed once: DuckDB and the Spark
    engine compute a common table expression that is read more than once only once; as three
    queries it was computed three times.
    """
    items = [f"v{k}" for k in range(1, steps + 1)]
    paths = exp.select(
        exp.alias_(exp.Literal.string("path"), "part"),
        "ranking",
        *items,
        *_nulls("BIGINT", "source_step"),
        *_nulls("VARCHAR", "source", "target"),
        "persons",
        exp.alias_(exp.column("units"), "n"),
    ).from_("top_paths")
    edges = exp.select(
        exp.Literal.string("edge"),
        "ranking",
        *_nulls("VARCHAR", *items),
        "source_step",
        "source",
        "target",
        "persons",
        "transitions",
    ).from_("edges")
    total = exp.select(
        exp.Literal.string("total"),
        exp.Literal.number(0),
        *_nulls("VARCHAR", *items),
        *_nulls("BIGINT", "source_step"),
        *_nulls("VARCHAR", "source", "target"),
        "persons",
        exp.Literal.number(0),
    ).from_("total")
    union = exp.union(exp.union(paths, edges, distinct=False), total, distinct=False)
    ctes = [
        ("top_paths", _paths_final(steps, top)),
        ("edges", fragment(_EDGES)),
        ("total", fragment(_TOTAL)),
    ]
    return ctes, exp.select("*").from_(union.subquery("answers"))


def run_paths(
    engine: Engine,
    *,
    start_event: str | None = None,
    end_event: str | None = None,
    steps: int = 5,
    by: Literal["touchpoint", "event"] = "touchpoint",
    split_by_session: bool = True,
    top: int = 20,
    cut: exp.Expression | None = None,
    part_rows: int = PART_ROWS,
) -> PathsResult:
    if by not in ("touchpoint", "event"):
        raise AnalysisError(f"{by!r} is not 'touchpoint' or 'event'", field="by")
    if not 1 <= steps <= MAX_STEPS:
        raise AnalysisError(f"give 1 to {MAX_STEPS}, got {steps}", field="steps")
    if top < 1:
        raise AnalysisError(f"must be at least 1, got {top}", field="top")
    require_table(engine, "journey_events")
    cut = cut if cut is not None else exp.true()
    backwards = end_event is not None and start_event is None
    parts = _parts(engine, cut, part_rows)
    answers: list[dict[str, Any]] = []
    for part in range(parts):
        within = (
            cut if parts == 1 else exp.And(this=exp.paren(cut), expression=_part_of(parts, part))
        )
        ctes = _ctes(start_event, end_event, steps, by, split_by_session, within)
        more, final = _answers(steps, top if parts == 1 else None)
        answers += engine.fetch(with_ctes([*ctes, *more], final)).to_pylist()
    found, edge_rows, total = _added(answers, steps, top)
    edges = pa.Table.from_pylist(
        [{**r, "transitions": r["n"]} for r in edge_rows], schema=EDGE_SCHEMA
    )
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
                "units": int(row["n"]),
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


def _parts(engine: Engine, cut: exp.Expression, part_rows: int) -> int:
    """How many parts of the persons the paths are counted in (1: one query)."""
    count = fragment("SELECT count(*) FROM journey_events WHERE :cut", cut=cut)
    rows = int(engine.scalar(Query(count)) or 0)
    return max(1, math.ceil(rows / part_rows))


def _part_of(parts: int, part: int) -> exp.Expression:
    """The persons of one part: a function of the person id alone, so each is in one part
    (`abs` of the remainder: engines whose hash is signed still give every person one)."""
    return fragment("abs(hash(person_id) % :parts) = :part", parts=parts, part=part)


def _added(
    answers: list[dict[str, Any]], steps: int, top: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """The paths (the `top` by persons, then units, then the items), the edges and the total
    of every part added up, ranked as one query ranks them (ascending text: nulls last)."""
    items = [f"v{k}" for k in range(1, steps + 1)]
    paths: dict[tuple[Any, ...], dict[str, Any]] = {}
    edges: dict[tuple[Any, ...], dict[str, Any]] = {}
    total = 0
    for row in answers:
        if row["part"] == "total":
            total += int(row["persons"] or 0)
            continue
        if row["part"] == "path":
            key, into = tuple(row[v] for v in items), paths
        else:
            key, into = (row["source_step"], row["source"], row["target"]), edges
        kept = into.get(key)
        if kept is None:
            into[key] = dict(row)
        else:
            kept["persons"] += row["persons"]
            kept["n"] += row["n"]

    def text(value: Any) -> tuple[bool, Any]:
        return (value is None, "" if value is None else value)

    ranked = sorted(
        paths.values(),
        key=lambda r: (-r["persons"], -r["n"], *(text(r[v]) for v in items)),
    )[:top]
    edge_rows = sorted(
        edges.values(),
        key=lambda r: (-r["persons"], r["source_step"], text(r["source"]), text(r["target"])),
    )
    return ranked, edge_rows, total


class PathsQuery(CutQuery):
    """`kr.paths(...)`, `klantreis paths`, `GET /api/paths`."""

    start_event: Annotated[str | None, Cli("--start-event", "--from-event")] = Field(
        None, description="Paths from this event on."
    )
    end_event: Annotated[str | None, Cli("--end-event", "--to-event")] = Field(
        None, description="Paths up to this event."
    )
    steps: int = Field(5, ge=1, le=MAX_STEPS, description=f"Items per path (1-{MAX_STEPS}).")
    by: Literal["touchpoint", "event"] = Field("touchpoint", description="What a path item is.")
    split_by_session: Annotated[bool, Cli("--split-by-session/--per-person")] = Field(
        True, description="Paths per session (or per person, over all their sessions)."
    )
    top: int = Field(20, ge=1, le=500, description="How many paths to show.")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _period_not_event(cls, value: Any) -> Any:
        """A period that is no date is most likely code from when `start` named the first
        event: say where the events go."""
        try:
            return iso_date(value)
        except ValueError as exc:
            raise ValueError(
                f"{exc}; the events a path runs between are `start_event`/`end_event`"
            ) from None


@analysis("paths", query=PathsQuery, result=PathsResult)
def paths(
    kr: Context,
    *,
    start_event: str | None = None,
    end_event: str | None = None,
    steps: int = 5,
    by: Literal["touchpoint", "event"] = "touchpoint",
    split_by_session: bool = True,
    top: int = 20,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
) -> PathsResult:
    """Most frequent paths, e.g. `kr.paths(start_event="Products Searched", steps=4)`.

    `start`/`end` is the period (ISO dates), as in every analysis; an event name there is an
    error, so code written for the old `start=<event>` fails loudly instead of answering empty.
    """
    engine = prepare(kr)
    names = Names(kr, engine)
    names.event("start_event", start_event)
    names.event("end_event", end_event)
    cut = Cut.parse(start, end, persona).condition(engine)
    return run_paths(
        engine,
        start_event=start_event,
        end_event=end_event,
        steps=steps,
        by=by,
        split_by_session=split_by_session,
        top=top,
        cut=cut,
    )
