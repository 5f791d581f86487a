"""docs/expectations.md keeps up with the rules, settings, CLI options and routes."""

from __future__ import annotations

from pathlib import Path

import typer.main

from klantreis.act import alerts
from klantreis.measure.expectations import at_risk, ruleset
from klantreis.measure.expectations.ruleset import default_rules
from klantreis.present.api.routes.expectations import router
from klantreis.present.cli.app import app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "expectations.md").read_text()


def test_every_default_rule_is_documented():
    assert [r.id for r in default_rules() if f"`{r.id}`" not in DOC] == []


def test_every_setting_is_documented():
    names = set(ruleset.ExpectationSettings.model_fields) | set(at_risk.AtRiskSettings.model_fields)
    names |= alerts._FIELDS - {"name"}
    assert sorted(n for n in names if f"{n} =" not in DOC) == []


def test_every_cli_option_is_documented():
    command = typer.main.get_command(app)
    missing = []
    for path in (["expectations"], ["at-risk"], ["alerts", "check"]):
        sub = command
        for name in path:
            sub = sub.commands[name]  # type: ignore[attr-defined]
        for param in sub.params:
            for option in param.opts:
                if (
                    option.startswith("--")
                    and option not in ("--store", "--help")
                    and option not in DOC
                ):
                    missing.append(f"{' '.join(path)} {option}")
    assert missing == []


def test_every_route_is_documented():
    assert [r.path for r in router.routes if f"GET {r.path}" not in DOC] == []
