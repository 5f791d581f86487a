"""The README's scorecard is what the demo shop gives: regenerate it with
`python3 scripts/readme_scorecard.py --write` when the simulator or the rules change."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "readme_scorecard.py"


def load_script():
    spec = importlib.util.spec_from_file_location("readme_scorecard", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_scorecard_matches_the_demo_shop() -> None:
    script = load_script()
    expected = script.demo_table()
    assert script.readme_table() == expected, (
        "README.md scorecard is stale: run python3 scripts/readme_scorecard.py --write"
    )
