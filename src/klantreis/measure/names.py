"""Event and phase names an analysis may ask for: a name the store does not know is an error.

Asking a funnel for "Prodct Viewed" would otherwise count nobody and look like an answer. The
known names are those of stored events (the model's small `phase_map`, one row per event name,
so this costs nothing at 10M events) and of the canonical vocabulary (a vocabulary event that
was never sent is a true zero); phases are those of the configured journey definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from klantreis.collect.vocabulary import EVENTS
from klantreis.errors import UnknownName
from klantreis.store.engines.base import Engine

_STORED = 'SELECT DISTINCT "event" FROM {table} WHERE "event" IS NOT NULL'

if TYPE_CHECKING:
    from klantreis.measure.funnels.steps import FunnelStep
    from klantreis.model.context import Context


def stored_events(engine: Engine) -> set[str]:
    """Event names in the store: from `phase_map` (one row per name), which the model builds
    and `klantreis engine export-parquet` exports; else a scan of `journey_events`."""
    if engine.has_table("phase_map"):
        return {r["event"] for r in engine.rows(_STORED.format(table="phase_map"))}
    if engine.has_table("journey_events"):
        return {r["event"] for r in engine.rows(_STORED.format(table="journey_events"))}
    return set()


def known_phases(kr: Context) -> set[str]:
    from klantreis.model.build import configured_definition
    from klantreis.model.definition import load_definition

    return set(load_definition(configured_definition(kr)).phase_ids)


class Names:
    """Checks names against what the store knows, reading the known names once."""

    def __init__(self, kr: Context, engine: Engine) -> None:
        self._kr = kr
        self._engine = engine
        self._events: set[str] | None = None
        self._phases: set[str] | None = None

    @property
    def events(self) -> set[str]:
        if self._events is None:
            self._events = stored_events(self._engine) | set(EVENTS)
        return self._events

    @property
    def phases(self) -> set[str]:
        if self._phases is None:
            self._phases = known_phases(self._kr)
        return self._phases

    def event(self, field: str, name: str | None, *, label: str | None = None) -> None:
        """Raise `UnknownName` for an event name the store and the vocabulary do not know."""
        if name is not None and name not in self.events:
            raise UnknownName(field, "event", name, self.events, label=label)

    def phase(self, field: str, name: str | None, *, label: str | None = None) -> None:
        if name is not None and name not in self.phases:
            raise UnknownName(field, "phase", name, self.phases, label=label)

    def steps(self, field: str, steps: Iterable[FunnelStep]) -> None:
        """Every event and phase of funnel steps (or exclusions), named by position."""
        for position, step in enumerate(steps, start=1):
            self.event(field, step.event, label=f"{field} {position}")
            self.phase(field, step.phase, label=f"{field} {position}")
