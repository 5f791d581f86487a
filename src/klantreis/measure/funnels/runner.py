"""`kr.funnel(...)`: validate, pick the query path, run it on the configured engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field
from sqlglot import exp

from klantreis.measure.acquisition.cuts import source_column
from klantreis.measure.contract import CutQuery, Positional
from klantreis.measure.filters import Cut
from klantreis.measure.funnels import fast
from klantreis.measure.funnels.query import dropoffs_query, previous_steps, steps_query
from klantreis.measure.funnels.result import FunnelResult, assemble
from klantreis.measure.funnels.steps import FunnelSpec, FunnelStep, with_filters
from klantreis.measure.names import Names
from klantreis.measure.registry import analysis
from klantreis.measure.source import prepare, require_table
from klantreis.measure.trees import AnalysisError
from klantreis.store.engines.base import Engine

if TYPE_CHECKING:
    from klantreis.model.context import Context

StepLike = str | FunnelStep | Mapping[str, Any]


def run_funnel(
    engine: Engine, spec: FunnelSpec, cut: exp.Expression | None = None, *, fast_path: bool = True
) -> FunnelResult:
    """The funnel on an engine; the DuckDB fast path where it applies and `fast_path` allows."""
    cut = cut if cut is not None else exp.true()
    require_table(engine, "journey_events")
    if spec.breakdown_table is not None:
        require_table(engine, spec.breakdown_table, columns=("person_id", spec.breakdown or ""))
    elif source_column(spec.breakdown):
        require_table(engine, "session_sources")
    name = engine.capabilities.name
    if fast_path and spec.plain and name == "duckdb":
        return _fast(engine, spec, cut)
    counts = engine.fetch(steps_query(spec, cut)).to_pylist()
    return FunnelResult(
        spec, assemble(spec, counts), name, lambda: engine.fetch(dropoffs_query(spec, cut))
    )


def _fast(engine: Engine, spec: FunnelSpec, cut: exp.Expression) -> FunnelResult:
    walked = fast.run(engine, spec, cut)
    counts = []
    for j in range(1, len(spec.steps) + 1):
        row: dict[str, Any] = {
            "step": j,
            "breakdown": None,
            "persons": int(walked.reached[j - 1].size),
        }
        times = (("", walked.from_previous[j - 1]), ("_from_first", walked.from_first[j - 1]))
        for key, values in times:
            median, p90 = (np.quantile(values, [0.5, 0.9]) / 1e6) if values.size else (None, None)
            row[f"median_seconds{key}"] = None if median is None else float(median)
            row[f"p90_seconds{key}"] = None if p90 is None else float(p90)
        counts.append(row)

    def dropoffs() -> pa.Table:
        steps, persons = [], []
        reached = [*walked.reached, walked.reached[0][:0]]
        for step, previous in previous_steps(spec):
            # Reached `previous` but not the step after it: their furthest step is `previous`.
            furthest = reached[previous - 1]
            gone = furthest[~np.isin(furthest, reached[previous], assume_unique=True)]
            ids = walked.person_ids(gone)
            steps.append(np.full(len(ids), step, dtype=np.int32))
            persons.append(ids)
        table = pa.table(
            {
                "step": pa.array(np.concatenate(steps), pa.int32()),
                "breakdown": pa.nulls(sum(len(p) for p in persons), pa.string()),
                "person_id": pa.concat_arrays([p.cast(pa.string()) for p in persons]),
            }
        )
        return table.sort_by([("step", "ascending"), ("person_id", "ascending")])

    return FunnelResult(spec, assemble(spec, counts), "duckdb", dropoffs, path="duckdb-fast")


class FunnelQuery(CutQuery):
    """`kr.funnel(...)`, `klantreis funnel`, `GET /api/funnel`."""

    steps: Annotated[list[str | dict[str, Any]], Positional()] = Field(
        alias="step",
        description="Event names in order; `phase:<id>` for a phase (Python: also mappings "
        "with event/phase, where, optional).",
    )
    window: str | int = Field("7d", description="Conversion window: 30m, 12h, 7d, 2w.")
    mode: Literal["ordered", "strict", "unordered"] = Field(
        "ordered", description="How steps follow each other."
    )
    exclude: list[str | dict[str, Any]] = Field(
        [], description="An event that drops the person (repeatable)."
    )
    where: list[str] = Field(
        [], description="Filter a step: N:property=value, e.g. 1:category=shoes (repeatable)."
    )
    optional: list[int] = Field([], description="Step number that may be skipped (repeatable).")
    breakdown: str | None = Field(
        None,
        description="Split by this event property (or breakdown_table column); `source`, "
        "`medium`, `campaign`, `acquisition` (or `campaign.source`, ...) split by the session's "
        "source (`properties.source` is the event property).",
    )
    breakdown_table: str | None = Field(
        None, description="Person-level table holding the breakdown column."
    )
    attribution: Literal["first_touch", "last_touch", "step"] = Field(
        "first_touch", description="Which step's breakdown value a person takes."
    )
    attribution_step: int | None = Field(None, description="Step for attribution=step.")


@analysis("funnel", query=FunnelQuery, result=FunnelResult)
def funnel(
    kr: Context,
    steps: Sequence[StepLike],
    *,
    window: str | int = "7d",
    mode: str = "ordered",
    exclude: Sequence[StepLike] = (),
    where: Sequence[str] = (),
    optional: Sequence[int] = (),
    breakdown: str | None = None,
    breakdown_table: str | None = None,
    attribution: str = "first_touch",
    attribution_step: int | None = None,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
) -> FunnelResult:
    """Persons reaching each step within `window` of their first step.

    kr.funnel(["Product Viewed", "Product Added", "Order Completed"], window="7d")
    kr.funnel(["phase:consideration", "phase:purchase"], breakdown="utm_source")
    kr.funnel(["Product Viewed", "Order Completed"], where=["1:category=shoes"])
    """
    spec = FunnelSpec.build(
        with_filters(steps, where, optional),
        window=window,
        mode=mode,
        exclude=exclude,
        breakdown=breakdown,
        breakdown_table=breakdown_table,
        attribution=attribution,
        attribution_step=attribution_step,
    )
    engine = prepare(kr)
    names = Names(kr, engine)
    names.steps("step", spec.steps)
    names.steps("exclude", spec.exclusions)
    cut = Cut.parse(start, end, persona).condition(engine)
    return run_funnel(engine, spec, cut)


__all__ = ["AnalysisError", "FunnelQuery", "funnel", "run_funnel"]
