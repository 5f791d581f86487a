"""`klantreis map --json`, `GET /api/map`, the dashboard and the HTML file say the same things.

The CLI runs first on the store (it writes the JSON and the HTML file), then the real app serves
the same store; the map is decided once (measure/journey_map/) and drawn once (the SVG).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.cli.app import app as cli
from web.shop import login, settled

SAME = ("id", "persons", "journeys", "conversion_to_next", "median_time_seconds", "emotion")


def _svg(html: str) -> str:
    svg = html[html.index("<svg") : html.index("</svg>") + 6]
    return re.sub(r"<title>.*?</title>", "", svg, flags=re.S)


def _said(phases: list[dict]) -> list[dict]:
    return [
        {
            **{k: p[k] for k in SAME},
            "pains": [
                (x["kind"], x["key"], x["title"], x["size"], x["quote"]) for x in p["pain_points"]
            ],
            "opportunities": [(o["title"], o["effect"]) for o in p["opportunities"]],
        }
        for p in phases
    ]


def test_cli_api_dashboard_and_file_agree(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    # the store as the pipeline leaves it (the server's routine does the same on its own):
    # texts scored and opportunities ranked, which the map reads and never computes itself
    for step in (["voice", "update"], ["opportunities", "--json"]):
        done = CliRunner().invoke(cli, [*step, "--store", str(store_path)])
        assert done.exit_code == 0, done.output
    result = CliRunner().invoke(
        cli, ["map", "--store", str(store_path), "--json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.stdout)

    app = create_app(Settings(store_path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        from_api = client.get("/api/map").json()
        page = settled(client, "/map")

    assert _said(from_api["phases"]) == _said(from_cli["phases"])
    assert from_api["notes"] == from_cli["notes"]
    assert from_api["opportunities"] == from_cli["opportunities"]
    # the story's late delivery is a pain point with the customer's (escaped) words under it
    pains = [x for p in from_api["phases"] for x in p["pain_points"]]
    late = next(x for x in pains if x["key"] == "delivery_promise_kept")
    assert late["quote"] and "Slow delivery" in late["quote"]["text"]

    # one drawing: the file written by the CLI is the dashboard's SVG
    svg = _svg(page)
    assert svg == _svg(out.read_text("utf-8"))
    text = " ".join(re.sub(r"<[^>]+>", " ", svg).split())
    for pain in pains[:3]:
        assert pain["title"].split()[0] in text
    assert "&lt;script&gt;" in svg and "<script" not in svg
