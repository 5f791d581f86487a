"""`kr.funnel(...)`: validate, pick the query path, run it on the configured engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from sqlglot import exp

from klantreis.measure.filters import Cut
from klantreis.measure.funnels import fast
from klantreis.measure.funnels.query import dropoffs_query, previous_steps, steps_query
from klantreis.measure.funnels.result import FunnelResult, assemble
from klantreis.measure.funnels.steps import FunnelSpec, FunnelStep
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


@analysis("funnel")
def funnel(
    kr: Context,
    steps: Sequence[StepLike],
    *,
    window: str | int = "7d",
    mode: str = "ordered",
    exclude: Sequence[StepLike] = (),
    breakdown: str | None = None,
    breakdown_table: str | None = None,
    attribution: str = "first_touch",
    attribution_step: int | None = None,
    start: str | None = None,
    end: str | None = None,
    persona: str | None = None,
    fast_path: bool = True,
) -> FunnelResult:
    """Persons reaching each step within `window` of their first step.

    kr.funnel(["Product Viewed", "Product Added", "Order Completed"], window="7d")
    kr.funnel(["phase:consideration", "phase:purchase"], breakdown="utm_source")
    """
    spec = FunnelSpec.build(
        steps,
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
    return run_funnel(engine, spec, cut, fast_path=fast_path)


__all__ = ["AnalysisError", "funnel", "run_funnel"]
