"""The phase map: each stored event name's phase, phase index, touchpoint and directness."""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from klantreis.model.contract import shaped
from klantreis.model.definition import JourneyDefinition
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

PHASE_MAP = register_table(
    TableSpec(
        "phase_map",
        columns=columns(
            ("event", "VARCHAR"),
            ("phase", "VARCHAR"),
            ("phase_index", "INTEGER"),
            ("touchpoint", "VARCHAR"),
            ("direct", "BOOLEAN"),
        ),
        key=("event",),
        derived=True,
        doc="one row per stored event name: its phase, phase index, touchpoint, direct or not",
    )
)


def stored_event_names(engine: Engine) -> list[str]:
    return [
        r["event"] for r in engine.rows("SELECT DISTINCT event FROM events WHERE event IS NOT NULL")
    ]


def phase_map_query(
    engine: Engine, definition: JourneyDefinition, names: Iterable[str] | None = None
) -> Query:
    """A VALUES table (event, phase, phase_index, touchpoint, direct) for the event names
    (by default every stored one)."""
    names = stored_event_names(engine) if names is None else names
    index = {phase: i for i, phase in enumerate(definition.phase_ids)}
    rows = []
    for name in sorted(set(names)):
        phase = definition.phase_of(name) or definition.default_phase
        touchpoint, direct = definition.touchpoint_of(name)
        rows.append(
            exp.Tuple(
                expressions=[
                    exp.convert(name),
                    exp.convert(phase),
                    exp.convert(index[phase]),
                    exp.convert(touchpoint),
                    exp.convert(direct),
                ]
            )
        )
    if not rows:
        return shaped(
            PHASE_MAP,
            "SELECT NULL AS event, NULL AS phase, NULL AS phase_index, NULL AS touchpoint, "
            "NULL AS direct WHERE 1 = 0",
        )
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(
            this=exp.to_identifier("v"),
            columns=[exp.to_identifier(c) for c in PHASE_MAP.column_names],
        ),
    )
    return shaped(PHASE_MAP, Query(exp.select(*PHASE_MAP.column_names).from_(values)))


def build_phase_map(
    engine: Engine, definition: JourneyDefinition, names: Iterable[str] | None = None
) -> None:
    engine.create_table_as("phase_map", phase_map_query(engine, definition, names))
