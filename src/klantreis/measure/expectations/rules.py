"""Expectation rules: what a shop promises, as declarative YAML checked by pydantic.

A rule names its kind and the events it reads; conditions are structured (property, operator,
value) so that a rule file never becomes SQL text. The kinds:

- `deadline`: an `end` event follows a `start` event with the same key (order_id, ticket_id, or
  `person`) within a duration (`within`) or by a date the start event carries (`due`);
- `absence`: a `start` event never goes without an `end` event with the same key;
- `rate`: the share of `cases` events that match `breach_if`;
- `percentile`: the pN of a numeric property of `cases` stays under `limit`;
- `repeat`: the same person does not raise the same thing (`same` properties) again in `window`;
- `consent`: a `cases` event only reaches persons whose latest consent signal was a yes.

A `deadline` or `percentile` rule may also say when a met case clearly exceeds the promise
(`delight`): the design's "breach / delight" pair, measured on the same cases.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from klantreis.errors import KlantreisError

CATEGORIES = (
    "convenience",
    "communication",
    "service",
    "transparency",
    "speed",
    "product quality",
    "value for money",
    "personalisation",
)
LANGUAGES = ("en", "nl", "da")
PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class RuleError(KlantreisError):
    """A rule file that cannot be read; the message names the file, line and field."""


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """`5m`, `24h`, `14d`, `2w`, `30s` (or seconds as a number) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 24h, 14d, 2w)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


Duration = Annotated[timedelta, Field(description="a duration like 5m, 24h, 14d")]


def format_duration(value: timedelta) -> str:
    """A timedelta in the largest unit of `parse_duration` that divides it: `1d`, `90s`."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{int(seconds // _UNIT_SECONDS[unit])}{unit}"
    return f"{seconds:g}s"


def _property_name(value: str) -> str:
    if not PROPERTY_NAME.match(value):
        raise ValueError(f"not a property name: {value!r} (letters, digits and _ only)")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    """`{property: results, op: eq, value: 0}`: compares one event property with a value."""

    property: str
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists", "missing"] = "eq"
    value: Any = None

    _name = field_validator("property")(_property_name)


class Selector(_Model):
    """Which events: one or more names, optionally narrowed by conditions (all must hold)."""

    event: list[str]
    where: list[Condition] = Field(default_factory=list)

    @field_validator("event", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("where", mode="before")
    @classmethod
    def _condition_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


class DeadlineDelight(_Model):
    """When a met deadline case is clearly better than promised: the end event came at most
    `within` after the start, or at least `early_by` before the deadline."""

    within: Duration | None = None
    early_by: Duration | None = None

    @field_validator("within", "early_by", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _one_margin(self) -> DeadlineDelight:
        if (self.within is None) == (self.early_by is None):
            raise ValueError("give exactly one of `within` or `early_by`")
        margin = self.within if self.within is not None else self.early_by
        if margin is not None and margin <= timedelta(0):
            raise ValueError("the margin must be longer than zero")
        return self

    def describe(self) -> str:
        if self.within is not None:
            return f"within {format_duration(self.within)}"
        assert self.early_by is not None
        return f"early by {format_duration(self.early_by)}"


class PercentileDelight(_Model):
    """When a met percentile case is clearly better than the limit: its value is `at_most`."""

    at_most: float

    def describe(self) -> str:
        return f"at most {self.at_most:g}"


class _Rule(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    phase: str
    title: dict[str, str]
    description: str = ""
    target: float = Field(0.05, ge=0, le=1)
    """The breach rate the shop accepts; above it the scorecard marks the expectation red."""
    requires: list[str] = Field(default_factory=list)
    """Events that must occur in the data for the rule to say anything (default: all it names)."""
    enabled: bool = True
    topics: list[str] = Field(default_factory=list)
    """Voice topics in which customers speak about this pain: the journey map quotes a text on
    one of them from the same journey; without topics a pain point gets no quote."""

    @field_validator("title")
    @classmethod
    def _english_title(cls, value: dict[str, str]) -> dict[str, str]:
        if "en" not in value:
            raise ValueError("needs at least an English title (en)")
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language(s) {unknown}; use {list(LANGUAGES)}")
        return value

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title["en"]

    def named_events(self) -> list[str]:
        return []

    def required_events(self) -> list[str]:
        return self.requires or self.named_events()


class DeadlineRule(_Rule):
    kind: Literal["deadline"]
    start: Selector
    end: Selector
    key: str = "order_id"
    """The property that ties end to start, or `person` (the same person, each start a case)."""
    within: Duration | None = None
    due: str | None = None
    """A date property of the start (or end) event that is the deadline, e.g. promised date."""
    grace: Duration = timedelta(0)
    compare: Literal["timestamp", "day"] | None = None
    """Lateness by exact timestamp or by calendar day; None takes [expectations] compare."""
    missing: Literal["breach", "skip"] = "breach"
    """A start without end once the deadline passed: a breach, or not a case (skip)."""
    exclude: Selector | None = None
    """Keys with such an event are no cases (e.g. cancelled orders)."""
    skew: Duration = timedelta(0)
    """End events up to this long *before* the start still count: browser and server clocks
    differ, so a confirmation e-mail can carry an earlier time than the order it confirms."""
    delight: DeadlineDelight | None = None
    """When a met case counts as clearly exceeded; None: the rule measures no delight."""

    _key = field_validator("key")(_property_name)
    _due = field_validator("due")(lambda v: v if v is None else _property_name(v))

    @field_validator("delight")
    @classmethod
    def _inside_the_deadline(
        cls, value: DeadlineDelight | None, info: ValidationInfo
    ) -> DeadlineDelight | None:
        # Declared last, so `within` (when valid) is already in info.data.
        within = info.data.get("within")
        if value is None or within is None:
            return value
        if value.within is not None and value.within >= within:
            raise ValueError(
                f"within ({format_duration(value.within)}) must be shorter than the "
                f"deadline's within ({format_duration(within)})"
            )
        if value.early_by is not None and value.early_by >= within:
            raise ValueError(
                f"early_by ({format_duration(value.early_by)}) must be shorter than the "
                f"deadline's within ({format_duration(within)})"
            )
        return value

    @field_validator("within", "grace", "skew", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _one_deadline(self) -> DeadlineRule:
        if (self.within is None) == (self.due is None):
            raise ValueError("a deadline needs exactly one of `within` or `due`")
        return self

    def named_events(self) -> list[str]:
        return [*self.start.event, *self.end.event]


class AbsenceRule(_Rule):
    kind: Literal["absence"]
    start: Selector
    end: Selector
    key: str = "order_id"
    grace: Duration = timedelta(hours=1)
    """How long to wait for the end event before its absence is a breach."""

    _key = field_validator("key")(_property_name)

    @field_validator("grace", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    def named_events(self) -> list[str]:
        return [*self.start.event, *self.end.event]


class RateRule(_Rule):
    kind: Literal["rate"]
    cases: Selector
    breach_if: Selector

    def named_events(self) -> list[str]:
        return [*self.cases.event, *self.breach_if.event]


class PercentileRule(_Rule):
    kind: Literal["percentile"]
    cases: Selector
    property: str
    percentile: float = Field(75, gt=0, lt=100)
    limit: float
    unit: str = ""
    delight: PercentileDelight | None = None
    """When a case counts as clearly better than the limit; None: no delight measured."""

    _name = field_validator("property")(_property_name)

    @field_validator("delight")
    @classmethod
    def _under_the_limit(
        cls, value: PercentileDelight | None, info: ValidationInfo
    ) -> PercentileDelight | None:
        limit = info.data.get("limit")
        if value is not None and limit is not None and value.at_most >= limit:
            raise ValueError(f"at_most ({value.at_most:g}) must be below the limit ({limit:g})")
        return value

    def named_events(self) -> list[str]:
        return list(self.cases.event)


class RepeatRule(_Rule):
    kind: Literal["repeat"]
    cases: Selector
    same: list[str] = Field(default_factory=list)
    window: Duration

    @field_validator("same")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return [_property_name(v) for v in value]

    @field_validator("window", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    def named_events(self) -> list[str]:
        return list(self.cases.event)


class ConsentRule(_Rule):
    kind: Literal["consent"]
    cases: Selector
    trait: str = "consent_marketing"
    """Identify trait that carries consent."""
    consent_event: str = "Consent Updated"
    consent_property: str = "marketing"

    _names = field_validator("trait", "consent_property")(_property_name)

    def named_events(self) -> list[str]:
        return list(self.cases.event)


Rule = Annotated[
    DeadlineRule | AbsenceRule | RateRule | PercentileRule | RepeatRule | ConsentRule,
    Field(discriminator="kind"),
]


class _RuleFile(_Model):
    expectations: list[Rule]


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of each mapping so errors can point into the file."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def parse_rules(text: str, source: str) -> list[Rule]:
    """Rules from YAML text; errors name `source`, the line of the rule and the field."""
    try:
        raw = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise RuleError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("expectations"), list):
        raise RuleError(f"{source}: expected a mapping with a list `expectations:`")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, item in enumerate(raw["expectations"]):
        line = item.get("__line__", "?") if isinstance(item, dict) else "?"
        name = item.get("id", f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
        try:
            rule = _RuleFile.model_validate({"expectations": [_strip_lines(item)]}).expectations[0]
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = list(first["loc"][2:])
            if loc and isinstance(item, dict) and loc[0] == item.get("kind"):
                loc = loc[1:]  # the discriminator pydantic puts in front
            field = ".".join(str(p) for p in loc)
            if field == "delight" and first["type"] == "extra_forbidden":
                raise RuleError(
                    f"{source}:{line}: expectation {name}: delight: only deadline and "
                    f"percentile rules can have a delight margin, not {item.get('kind')} rules"
                ) from None
            raise RuleError(
                f"{source}:{line}: expectation {name}: {field or 'rule'}: {first['msg']}"
            ) from None
        if rule.id in seen:
            raise RuleError(f"{source}:{line}: expectation id {rule.id!r} appears twice")
        seen.add(rule.id)
        rules.append(rule)
    return rules


def load_rules(path: str | Path) -> list[Rule]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: cannot read expectation rules: {exc.strerror}") from None
    return parse_rules(text, str(path))
