"""Expectation rules: what a shop promises, as declarative YAML checked by pydantic.

A rule names its kind and the events it reads; conditions are structured (property, operator,
value) so that a rule file never becomes SQL text. This module holds what all kinds share (the
common fields, selectors, conditions, durations) and reads rule files; each kind's own fields,
query and words are in `kinds/` (one module per kind, found by name in the kind registry).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from klantreis.errors import KlantreisError

if TYPE_CHECKING:
    from klantreis.measure.expectations.kinds.base import RuleKind

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


def property_name(value: str) -> str:
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

    _name = field_validator("property")(property_name)


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


class RuleSpec(_Model):
    """The fields every rule has, whatever its kind; each kind's spec adds its own
    (`kinds/*.py`)."""

    kind: str
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

    def read_events(self) -> list[str]:
        """Every event its case query reads (the named ones and any it only excludes by)."""
        return self.named_events()


Rule = RuleSpec
"""Any rule, of any registered kind (each kind's spec is a `RuleSpec`)."""


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Keeps the line of each mapping so errors can point into the file (libyaml's parser
    where installed: the pure-Python one takes a third of a second for the default rules)."""


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


def _spec(kind: Any, where: str) -> type[RuleSpec]:
    """The spec of a registered kind; an unknown kind is an error listing the known ones."""
    known = kinds()
    if not isinstance(kind, str) or kind not in known:
        raise RuleError(f"{where}: kind: {kind!r} is no rule kind; use one of {', '.join(known)}")
    return known[kind].spec


_PARSED: dict[tuple[str, str, tuple[int, ...]], tuple[Rule, ...]] = {}
"""Rules per (text, source, registered kinds): parsing the YAML of the default rules takes a
third of a second, and every analysis over the cases asks for the active rules. Rules are
frozen models, so the same objects are handed out again."""


def parse_rules(text: str, source: str) -> list[Rule]:
    """Rules from YAML text; errors name `source`, the line of the rule and the field."""
    key = (text, source, tuple(id(k) for k in kinds().values()))
    found = _PARSED.get(key)
    if found is None:
        found = tuple(_parse_rules(text, source))
        if len(_PARSED) > 32:
            _PARSED.clear()
        _PARSED[key] = found
    return list(found)


def _parse_rules(text: str, source: str) -> list[Rule]:
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
        if not isinstance(item, dict):
            raise RuleError(f"{source}:{line}: expectation {name}: rule: not a mapping")
        spec = _spec(item.get("kind"), f"{source}:{line}: expectation {name}")
        try:
            rule = spec.model_validate(_strip_lines(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            if field == "delight" and first["type"] == "extra_forbidden":
                with_delight = " and ".join(k.name for k in kinds().values() if k.has_delight)
                raise RuleError(
                    f"{source}:{line}: expectation {name}: delight: only {with_delight} "
                    f"rules can have a delight margin, not {item.get('kind')} rules"
                ) from None
            raise RuleError(
                f"{source}:{line}: expectation {name}: {field or 'rule'}: {first['msg']}"
            ) from None
        if rule.id in seen:
            raise RuleError(f"{source}:{line}: expectation id {rule.id!r} appears twice")
        seen.add(rule.id)
        rules.append(rule)
    return rules


def kinds() -> dict[str, RuleKind]:
    """The registered rule kinds (imported here, not at the top: every kind builds on this
    module)."""
    from klantreis.measure.expectations.kinds import kinds as registered

    return registered()


def load_rules(path: str | Path) -> list[Rule]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: cannot read expectation rules: {exc.strerror}") from None
    return parse_rules(text, str(path))
