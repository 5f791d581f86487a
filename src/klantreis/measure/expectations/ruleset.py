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

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from klantreis.config import Settings, config_path
from klantreis.measure.expectations.rules import Rule, RuleError, load_rules, parse_rules

COMPARE_MODES = ("timestamp", "day")
_KNOWN = {"rules", "disabled", "compare"}


@dataclass(frozen=True)
class ExpectationSettings:
    rule_files: tuple[Path, ...] = ()
    disabled: tuple[str, ...] = ()
    compare: str = "timestamp"

    @classmethod
    def from_settings(cls, settings: Settings) -> ExpectationSettings:
        section: dict[str, Any] = settings.sections.get("expectations") or {}
        where = f"{config_path()} [expectations]"
        unknown = sorted(set(section) - _KNOWN)
        if unknown:
            raise RuleError(f"{where}: unknown setting(s) {', '.join(unknown)}")
        files = section.get("rules", [])
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise RuleError(f"{where}: rules must be a list of file paths")
        disabled = section.get("disabled", [])
        if not isinstance(disabled, list):
            raise RuleError(f"{where}: disabled must be a list of expectation ids")
        compare = section.get("compare", "timestamp")
        if compare not in COMPARE_MODES:
            raise RuleError(f"{where}: compare = {compare!r}; use 'timestamp' or 'day'")
        base = config_path().parent
        paths = tuple(Path(f) if Path(f).is_absolute() else base / f for f in files)
        return cls(paths, tuple(str(d) for d in disabled), compare)


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
