"""Case rules: which signals open a case, with what priority, due time, owner and message.

Defaults ship in `defaults.yaml`; a shop overrides them like the other rule files:

    [cases]
    rules = ["cases.yaml"]       # a rule with a default's id replaces it
    disabled = ["negative_ticket"]
    max_age_days = 30            # older signals never open a case
    grace_hours = 48             # how far back each run looks again for late-arriving events
    webhook = "https://helpdesk.example/hooks/klantreis"   # where `send --via webhook` posts
    shop_name = "Voorbeeldshop"  # signs the messages

Kinds: `breach` (a breach of the listed expectations, or any), `at_risk` (an order about to
break its delivery promise), `detractor` (an NPS answer at or below `max_score`),
`negative_text` (a stored voice score at or below `max_sentiment`, for the listed events),
`unanswered` (a ticket or chat question without an agent reply within `hours`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from klantreis.config import ConfigError, SectionSettings, Settings, config_path

KINDS = ("breach", "at_risk", "detractor", "negative_text", "unanswered")
PRIORITIES = ("high", "normal", "low")
STATUSES = ("open", "in_progress", "resolved", "no_action")
CLOSED = ("resolved", "no_action")


class CaseRuleError(ConfigError):
    """A case rule file or the [cases] section that cannot be used."""


class CaseRule(BaseModel):
    """One rule: a kind of signal and what the case it opens looks like."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$", description="lower_snake_case id")]
    kind: Literal["breach", "at_risk", "detractor", "negative_text", "unanswered"]
    priority: Literal["high", "normal", "low"] = "normal"
    due_hours: Annotated[float, Field(gt=0, description="hours until the case is due")] = 24
    owner: str | None = None
    message: str | None = None
    """The message template (`messages.yaml`) the case's customer gets when it is sent."""
    expectations: tuple[str, ...] = ()
    """`breach`: the expectation ids that open a case (empty: every expectation)."""
    max_score: Annotated[int, Field(ge=0, le=10)] = 6
    """`detractor`: NPS answers at or below this score."""
    events: tuple[str, ...] = ("Review Submitted", "Product Reviewed")
    """`negative_text`: the text events whose stored voice score counts."""
    max_sentiment: Annotated[float, Field(ge=-1, le=1)] = -0.3
    """`negative_text`: texts scored at or below this sentiment (-1..1)."""
    hours: Annotated[float, Field(gt=0)] = 24
    """`unanswered`: hours a question may wait for the first reply."""
    enabled: bool = True


class CaseSettings(SectionSettings):
    """`[cases]`: the shop's rule files, switched-off rules and how far back signals count."""

    SECTION: ClassVar[str] = "cases"
    ERROR: ClassVar[type[ConfigError]] = CaseRuleError

    rules: list[str] = Field(default_factory=list, description="a list of rule file paths")
    disabled: list[str] = Field(default_factory=list, description="a list of case rule ids")
    max_age_days: Annotated[float, Field(gt=0, description="a number of days above 0")] = 30
    grace_hours: Annotated[float, Field(ge=0, description="a number of hours >= 0")] = 48
    webhook: Annotated[
        str | None, Field(pattern=r"^https?://\S+$", description="an http(s) URL")
    ] = None
    shop_name: str = "klantreis"


def parse_case_rules(text: str, source: str) -> list[CaseRule]:
    """Rules from YAML text; an error names `source`, the rule and the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise CaseRuleError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", field=where
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise CaseRuleError("expected a mapping with a list `rules:`", field=source)
    rules: list[CaseRule] = []
    for index, item in enumerate(raw["rules"]):
        name = item.get("id", f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
        try:
            rule = CaseRule.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "rule"
            raise CaseRuleError(f"rule {name}: {where}: {first['msg']}", field=source) from None
        if any(r.id == rule.id for r in rules):
            raise CaseRuleError(f"rule id {rule.id!r} appears twice", field=source)
        rules.append(rule)
    return rules


def default_case_rules() -> list[CaseRule]:
    text = resources.files(__package__).joinpath("defaults.yaml").read_text(encoding="utf-8")
    return parse_case_rules(text, "klantreis/act/cases/defaults.yaml")


def active_case_rules(settings: Settings) -> list[CaseRule]:
    """Default rules, replaced or extended by the shop's files, without the disabled ones."""
    section = settings.section(CaseSettings)
    rules = {rule.id: rule for rule in default_case_rules()}
    base = config_path().parent
    for name in section.rules:
        path = Path(name) if Path(name).is_absolute() else base / name
        if not path.exists():
            raise CaseRuleError(f"no such file {str(path)!r}", field="[cases] rules")
        for rule in parse_case_rules(path.read_text(encoding="utf-8"), str(path)):
            rules[rule.id] = rule
    unknown = sorted(set(section.disabled) - set(rules))
    if unknown:
        raise CaseRuleError(f"unknown case rule(s) {', '.join(unknown)}", field="[cases] disabled")
    return [r for r in rules.values() if r.enabled and r.id not in section.disabled]
