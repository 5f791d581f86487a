"""The journey map as a typed result: what the CLI prints, the API returns and the page draws."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class Quote:
    """A customer's own words about a pain, with where they come from (so it can be checked)."""

    text: str
    message_id: str
    event: str | None = None
    topic: str | None = None
    order_id: str | None = None
    journey_id: str | None = None
    sentiment: float | None = None


@dataclass
class PainPoint:
    """A breached expectation (kind `expectation`) or a mostly negative voice topic (`topic`)."""

    kind: str
    key: str
    """The expectation id, or the topic name."""
    title: str
    size: int
    """Persons breached, or negative texts."""
    category: str | None = None
    topics: list[str] = field(default_factory=list)
    """The voice topics a quote for this pain must be on."""
    titles: dict[str, str] = field(default_factory=dict)
    """The title per language (of an expectation), so a drawing can speak the reader's."""
    cases: int | None = None
    breaches: int | None = None
    breach_rate: float | None = None
    texts: int | None = None
    negative_share: float | None = None
    quote: Quote | None = None
    failing_terms: list[dict[str, Any]] = field(default_factory=list)
    """For a pain about search finding nothing: the terms that found nothing most often in the
    cut (`{term, searches}`), what the customers typed, shown under the pain like a quote."""


@dataclass
class Opportunity:
    """An opportunity of the `opportunities` analysis, placed in the phase it is about."""

    title: str
    kind: str | None
    driver: str | None
    outcome: str | None
    effect: float | None
    phase: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    """Everything else the opportunities analysis said (interval, p-value, method, ...)."""


@dataclass
class Note:
    """A figure that needs a sentence; `kind` says which, the rest are its numbers."""

    kind: str
    phase: str | None = None
    """The phase it is about; None for a note on the whole map (`unscored_texts`)."""
    previous: str | None = None
    persons: int | None = None
    previous_persons: int | None = None
    persons_without_previous: int | None = None
    texts: int | None = None
    """`unscored_texts`: customer texts stored but not scored yet, left out of the emotion
    and the voice pain points until `klantreis voice update` (or the server's routine)."""


@dataclass
class PhaseSummary:
    id: str
    label: str
    index: int
    persons: int = 0
    journeys: int = 0
    conversion_to_next: float | None = None
    median_time_seconds: float | None = None
    top_events: list[dict[str, Any]] = field(default_factory=list)
    touchpoints: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    """Where the persons of the first phases came from: acquisition touchpoint, persons,
    share (`journey_map/sources.py`)."""
    emotion: dict[str, Any] | None = None
    pain_points: list[PainPoint] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)


@dataclass
class JourneyMap:
    definition: str
    definition_label: str
    language: str
    cut: dict[str, Any]
    totals: dict[str, Any]
    phases: list[PhaseSummary]
    opportunities: list[Opportunity] = field(default_factory=list)
    """Opportunities that belong to no single phase of this definition."""
    notes: list[Note] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Analyses that are not installed: their lanes stay empty instead of invented."""
    errors: list[dict[str, str]] = field(default_factory=list)
    """Analyses that failed (`analysis`, `error`): said on the map, never swallowed."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_arrow(self) -> pa.Table:
        """One row per phase, for notebooks."""
        rows = [
            {
                "phase": p.id,
                "label": p.label,
                "persons": p.persons,
                "journeys": p.journeys,
                "conversion_to_next": p.conversion_to_next,
                "median_time_seconds": p.median_time_seconds,
                "top_touchpoint": p.touchpoints[0]["touchpoint"] if p.touchpoints else None,
                "top_channel": p.channels[0]["channel"] if p.channels else None,
                "emotion": (p.emotion or {}).get("value"),
                "pain_points": len(p.pain_points),
            }
            for p in self.phases
        ]
        return pa.Table.from_pylist(rows)

    def to_pandas(self) -> Any:
        return self.to_arrow().to_pandas()

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.to_arrow())
