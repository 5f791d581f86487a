"""docs/voice.md keeps up with the voice and survey commands, options and routes."""

from __future__ import annotations

from pathlib import Path

import typer.main

from klantreis.present.api.routes import surveys, voice
from klantreis.present.cli.app import app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "voice.md").read_text()


def test_every_cli_option_is_documented() -> None:
    command = typer.main.get_command(app)
    missing = []
    for group in ("voice", "surveys"):
        root = command.commands[group]  # type: ignore[attr-defined]
        subs = [root, *root.commands.values()]
        for sub in subs:
            if f"{group} {sub.name}" not in DOC and sub is not root:
                missing.append(f"{group} {sub.name}")
            for param in sub.params:
                for option in (*param.opts, *getattr(param, "secondary_opts", ())):
                    if (
                        option.startswith("--")
                        and option not in ("--store", "--help")
                        and option not in DOC
                    ):
                        missing.append(f"{group} {sub.name} {option}")
    assert missing == []


def test_every_route_is_documented() -> None:
    paths = [route.path for module in (voice, surveys) for route in module.router.routes]
    assert [p for p in paths if f"`{p.split('{')[0]}" not in DOC and p not in DOC] == []


def test_every_shipped_data_file_has_its_licence_documented() -> None:
    licences = (Path(__file__).resolve().parents[2] / "docs" / "licences.md").read_text()
    data = Path(__file__).resolve().parents[2] / "src" / "klantreis" / "measure" / "voice" / "data"
    files = [p.name for p in data.iterdir() if p.is_file()]
    assert files and [name for name in files if f"data/{name}" not in licences] == []
