"""The answer to a funnel: per step persons, conversions, times to convert and drop-offs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from klantreis.measure.funnels.steps import FunnelSpec

STEP_SCHEMA = pa.schema(
    [
        ("step", pa.int32()),
        ("name", pa.string()),
        ("breakdown", pa.string()),
        ("persons", pa.int64()),
        ("conversion_from_previous", pa.float64()),
        ("conversion_from_first", pa.float64()),
        ("dropped", pa.int64()),
        ("median_seconds", pa.float64()),
        ("p90_seconds", pa.float64()),
        ("median_seconds_from_first", pa.float64()),
        ("p90_seconds_from_first", pa.float64()),
    ]
)
DROPOFF_SCHEMA = pa.schema(
    [("step", pa.int32()), ("breakdown", pa.string()), ("person_id", pa.string())]
)


@dataclass
class FunnelResult:
    """Steps as an Arrow table (one row per step and breakdown value); drop-offs on demand.

    `dropoffs()` lists who reached the step before a step but not the step itself; it runs a
    second query, so it is only paid for when the customer timeline asks for it.
    """

    spec: FunnelSpec
    table: pa.Table
    engine: str
    _dropoffs: Callable[[], pa.Table] = field(repr=False)
    path: str = "portable"

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_pandas(self) -> Any:
        return self.table.to_pandas()

    def to_pylist(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()

    def __len__(self) -> int:
        return self.table.num_rows

    def dropoffs(self) -> pa.Table:
        return self._dropoffs().cast(DROPOFF_SCHEMA)

    def persons(self, step: int | None = None) -> list[int]:
        """Persons per step (summed over breakdown values), in step order, or one step's."""
        totals: dict[int, int] = {}
        for row in self.table.select(["step", "persons"]).to_pylist():
            totals[row["step"]] = totals.get(row["step"], 0) + row["persons"]
        ordered = [totals.get(j, 0) for j in range(1, len(self.spec.steps) + 1)]
        return ordered if step is None else [ordered[step - 1]]

    def as_json(self, dropoffs: bool = False) -> dict[str, Any]:
        """The shape the CLI `--json` and the HTTP route return."""
        steps = self.table.to_pylist()
        if dropoffs:
            by_key: dict[tuple[int, str | None], list[str]] = {}
            for row in self.dropoffs().to_pylist():
                by_key.setdefault((row["step"], row["breakdown"]), []).append(row["person_id"])
            for row in steps:
                row["dropped_person_ids"] = by_key.get((row["step"], row["breakdown"]), [])
        return {
            "mode": self.spec.mode,
            "window_seconds": self.spec.window_seconds,
            "breakdown": self.spec.breakdown,
            "engine": self.engine,
            "steps": steps,
        }


def assemble(spec: FunnelSpec, counts: list[dict[str, Any]]) -> pa.Table:
    """Complete the engine's per-step rows: every step for every breakdown value, conversions."""
    by_key = {(int(r["step"]), r["breakdown"]): r for r in counts}
    breakdowns = sorted({r["breakdown"] for r in counts}, key=lambda v: (v is None, v))
    if not breakdowns:
        breakdowns = [None]
    rows = []
    for value in breakdowns:
        first = previous = None
        for j, step in enumerate(spec.steps, start=1):
            row = by_key.get((j, value), {})
            if j == 1:  # nothing to convert from: no times, whichever path computed them
                row = {"persons": row.get("persons")}
            persons = int(row.get("persons") or 0)
            if j == 1:
                first = previous = persons
            rows.append(
                {
                    "step": j,
                    "name": step.label,
                    "breakdown": value,
                    "persons": persons,
                    "conversion_from_previous": _share(persons, previous) if j > 1 else 1.0,
                    "conversion_from_first": _share(persons, first) if j > 1 else 1.0,
                    "dropped": (previous or 0) - persons if j > 1 else 0,
                    "median_seconds": row.get("median_seconds"),
                    "p90_seconds": row.get("p90_seconds"),
                    "median_seconds_from_first": row.get("median_seconds_from_first"),
                    "p90_seconds_from_first": row.get("p90_seconds_from_first"),
                }
            )
            if not step.optional:
                previous = persons
    return pa.Table.from_pylist(rows, schema=STEP_SCHEMA)


def _share(part: int, whole: int | None) -> float | None:
    if not whole:
        return None
    return part / whole
