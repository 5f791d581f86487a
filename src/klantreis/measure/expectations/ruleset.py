"""The active expectations: the default set, a shop's own rule files and klantreis.toml settings.

    [expectations]
    rules = ["expectations.yaml"]   # extra files; a rule with a default's id replaces it
    disabled = ["search_leads_to_product"]
    compare = "timestamp"           # or "day": lateness by calendar day

`compare` decides when a deadline rule with a date (the promised delivery date) is late:
`timestamp` (default) compares exact moments, so a parcel delivered at 14:00 on a promised day
given as midnight is late; `day` compares calendar days, so it is on time.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from klantreis.config import ConfigError, SectionSettings, Settings, config_path
from klantreis.measure.expectations.rules import Rule, RuleError, load_rules, parse_rules

COMPARE_MODES = ("timestamp", "day")


class ExpectationSettingsError(ConfigError, RuleError):
    """A bad `[expectations]` value: a settings error, and a rule error for callers that
    catch those."""


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class ExpectationSettings(SectionSettings):
    """`[expectations]`: the shop's own rule files, disabled rules, and how lateness compares."""

    SECTION: ClassVar[str] = "expectations"
    ERROR: ClassVar[type[ConfigError]] = ExpectationSettingsError

    rules: Annotated[
        tuple[str, ...],
        BeforeValidator(_listed),
        Field(description="a file path or a list of file paths"),
    ] = ()
    disabled: Annotated[tuple[str, ...], Field(description="a list of expectation ids")] = ()
    compare: Annotated[Literal["timestamp", "day"], Field(description="'timestamp' or 'day'")] = (
        "timestamp"
    )

    @property
    def rule_files(self) -> tuple[Path, ...]:
        """The rule files, relative ones next to klantreis.toml."""
        base = config_path().parent
        return tuple(Path(f) if Path(f).is_absolute() else base / f for f in self.rules)

    @classmethod
    def from_settings(cls, settings: Settings) -> ExpectationSettings:
        return settings.section(cls)


def default_rules() -> list[Rule]:
    text = resources.files(__package__).joinpath("defaults.yaml").read_text(encoding="utf-8")
    return parse_rules(text, "klantreis/measure/expectations/defaults.yaml")


def active_rules(settings: ExpectationSettings) -> list[Rule]:
    """Default rules, replaced or extended by the shop's files, without the disabled ones."""
    rules: dict[str, Rule] = {rule.id: rule for rule in default_rules()}
    for path in settings.rule_files:
        for rule in load_rules(path):
            rules[rule.id] = rule
    unknown = sorted(set(settings.disabled) - set(rules))
    if unknown:
        raise RuleError(
            f"{config_path()} [expectations] disabled: unknown expectation(s) {', '.join(unknown)}"
        )
    return [r for r in rules.values() if r.enabled and r.id not in settings.disabled]
