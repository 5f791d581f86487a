"""What a funnel asks: its steps, window, order mode, exclusions and breakdown, validated.

Validation is kept apart from query building so every entry point (Python, CLI, HTTP) gives the
same clear error naming the step or option that is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlglot import exp

from klantreis.measure.acquisition.cuts import source_column
from klantreis.measure.trees import AnalysisError, fragment, json_property, parse_duration
from klantreis.store.query import node

Mode = Literal["ordered", "strict", "unordered"]
Attribution = Literal["first_touch", "last_touch", "step"]
MODES: tuple[str, ...] = ("ordered", "strict", "unordered")
MAX_STEPS = 63
"""The fast path packs the step number into 6 bits of its sort key."""


@dataclass(frozen=True)
class FunnelStep:
    """One step: an event name (or a whole phase), optionally narrowed by property values.

    `where={"category": "shoes"}` keeps events whose `properties.category` is "shoes"; a list
    value means any of them. Values are bound into the query, never pasted into SQL.
    """

    event: str | None = None
    phase: str | None = None
    where: Mapping[str, Any] = field(default_factory=dict)
    optional: bool = False
    name: str | None = None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        base = self.event if self.event is not None else f"phase:{self.phase}"
        if self.where:
            base += " [" + ", ".join(f"{k}={v}" for k, v in self.where.items()) + "]"
        return base + (" (optional)" if self.optional else "")

    def condition(self) -> exp.Expression:
        """A boolean tree over a `journey_events` row."""
        parts = []
        if self.event is not None:
            parts.append(fragment('"event" = :value', value=self.event))
        if self.phase is not None:
            parts.append(fragment("phase = :value", value=self.phase))
        for key, value in self.where.items():
            prop = json_property(key)
            if isinstance(value, list | tuple | set | frozenset):
                values = [str(v) for v in value]
                parts.append(fragment(":prop IN :values", prop=prop, values=values))
            else:
                parts.append(fragment(":prop = :value", prop=prop, value=_text(value)))
        return node(exp.and_(*parts))


def _text(value: Any) -> str:
    """How a JSON scalar reads as text, so `where={"paid": True}` matches `true`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_step(value: str | FunnelStep | Mapping[str, Any], position: int) -> FunnelStep:
    """A step from an event name, `phase:<id>`, a mapping or a FunnelStep."""
    if isinstance(value, FunnelStep):
        step = value
    elif isinstance(value, str):
        if not value.strip():
            raise AnalysisError("empty event name", field="step", label=f"step {position}")
        if value.startswith("phase:"):
            step = FunnelStep(phase=value.removeprefix("phase:"))
        else:
            step = FunnelStep(event=value)
    elif isinstance(value, Mapping):
        unknown = set(value) - {"event", "phase", "where", "optional", "name"}
        if unknown:
            raise AnalysisError(
                f"unknown field(s) {sorted(unknown)}", field="step", label=f"step {position}"
            )
        step = FunnelStep(**dict(value))
    else:
        raise AnalysisError(
            "expected an event name or a mapping", field="step", label=f"step {position}"
        )
    if (step.event is None) == (step.phase is None):
        raise AnalysisError(
            "give exactly one of event or phase", field="step", label=f"step {position}"
        )
    for key in step.where:
        json_property(key)  # validates the name
    return step


def with_filters(
    steps: Sequence[str | FunnelStep | Mapping[str, Any]],
    where: Sequence[str] = (),
    optional: Sequence[int] = (),
) -> list[str | FunnelStep | Mapping[str, Any]]:
    """Steps with `where` filters (`N:property=value`) and `optional` step numbers applied:
    the flat form CLI options and HTTP parameters give."""
    result: list[Any] = list(steps)
    if isinstance(steps, str) or (not where and not optional):
        return result

    def mapping(number: int) -> dict[str, Any]:
        item = result[number - 1]
        if isinstance(item, FunnelStep):
            raise AnalysisError(
                "give where/optional in the step itself", field="step", label=f"step {number}"
            )
        if isinstance(item, str):
            key = "phase" if item.startswith("phase:") else "event"
            return {key: item.removeprefix("phase:")}
        return dict(item)

    for text in where:
        number, sep, rest = text.partition(":")
        key, eq, value = rest.partition("=")
        if not sep or not number.isdigit() or not 1 <= int(number) <= len(result):
            raise AnalysisError(
                f"{text!r}: start with a step number 1..{len(result)}, e.g. 1:category=shoes",
                field="where",
            )
        if not eq or not key:
            raise AnalysisError(f"{text!r}: use STEP_NUMBER:property=value", field="where")
        step = mapping(int(number))
        step["where"] = {**step.get("where", {}), key: value}
        result[int(number) - 1] = step
    for index in optional:
        if not 1 <= index <= len(result):
            raise AnalysisError(f"{index}: no such step (1..{len(result)})", field="optional")
        result[index - 1] = {**mapping(index), "optional": True}
    return result


@dataclass(frozen=True)
class FunnelSpec:
    """A validated funnel question."""

    steps: tuple[FunnelStep, ...]
    window_seconds: int
    mode: Mode = "ordered"
    exclusions: tuple[FunnelStep, ...] = ()
    breakdown: str | None = None
    """A property of the events (`properties.<name>`) to split by, or the session's source
    (`source`, `medium`, `campaign`, `acquisition`, `campaign.source`, ...); `properties.source`
    is the event property of that name."""
    breakdown_table: str | None = None
    """A person-level table (`person_id` + the breakdown column), e.g. `person_personas`."""
    attribution: Attribution = "first_touch"
    attribution_step: int | None = None

    @classmethod
    def build(
        cls,
        steps: Sequence[str | FunnelStep | Mapping[str, Any]],
        *,
        window: str | int = "7d",
        mode: str = "ordered",
        exclude: Sequence[str | FunnelStep | Mapping[str, Any]] | None = (),
        breakdown: str | None = None,
        breakdown_table: str | None = None,
        attribution: str = "first_touch",
        attribution_step: int | None = None,
    ) -> FunnelSpec:
        if isinstance(steps, str):
            raise AnalysisError("give a list of steps, not one string", field="steps")
        if len(steps) < 1:
            raise AnalysisError("a funnel needs at least one step", field="steps")
        if len(steps) > MAX_STEPS:
            raise AnalysisError(f"at most {MAX_STEPS} steps, got {len(steps)}", field="steps")
        if mode not in MODES:
            raise AnalysisError(f"{mode!r} is not one of {', '.join(MODES)}", field="mode")
        parsed = tuple(as_step(s, i) for i, s in enumerate(steps, start=1))
        if parsed[0].optional:
            raise AnalysisError("the first step cannot be optional", field="step", label="step 1")
        if mode != "ordered" and any(s.optional for s in parsed):
            raise AnalysisError("optional steps need mode 'ordered'", field="mode")
        if attribution not in ("first_touch", "last_touch", "step"):
            raise AnalysisError(
                f"{attribution!r} is not first_touch, last_touch or step", field="attribution"
            )
        if attribution == "step" and (
            attribution_step is None or not 1 <= attribution_step <= len(parsed)
        ):
            raise AnalysisError(
                f"give a step number between 1 and {len(parsed)}", field="attribution_step"
            )
        if breakdown_table is not None and breakdown is None:
            raise AnalysisError("also name the breakdown column", field="breakdown_table")
        if breakdown is not None and breakdown_table is None and not source_column(breakdown):
            json_property(breakdown.removeprefix("properties."))
        exclusions = tuple(as_step(s, i) for i, s in enumerate(exclude or (), start=1))
        return cls(
            steps=parsed,
            window_seconds=parse_duration(window),
            mode=mode,  # type: ignore[arg-type]
            exclusions=exclusions,
            breakdown=breakdown,
            breakdown_table=breakdown_table,
            attribution=attribution,  # type: ignore[arg-type]
            attribution_step=attribution_step,
        )

    @property
    def window_us(self) -> int:
        return self.window_seconds * 1_000_000

    @property
    def plain(self) -> bool:
        """Ordered, no optional steps, exclusions or breakdown: the windowFunnel case."""
        return (
            self.mode == "ordered"
            and not self.exclusions
            and self.breakdown is None
            and not any(s.optional for s in self.steps)
        )
