"""A funnel split by where the session came from (`--breakdown source`, `campaign.source`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stories import story
from typer.testing import CliRunner

from klantreis.present.cli.app import app
from klantreis.store import Store

TIKTOK = {"campaign": {"source": "tiktok", "medium": "paid_social", "name": "spring"}}
PEOPLE = {
    "anna": [
        ("Page Viewed", "09:00", {"type": "page", "context": TIKTOK}),
        # the order's own event carries no campaign: it takes the session's
        ("Order Completed", "09:10", {"properties": {"order_id": "o1"}}),
    ],
    "bram": [("Page Viewed", "09:00", {"type": "page", "context": TIKTOK})],
    "cees": [
        (
            "Page Viewed",
            "09:00",
            {"type": "page", "properties": {"url": "https://shop.example/?gclid=1"}},
        ),
        ("Order Completed", "09:20", {"properties": {"order_id": "o2"}}),
    ],
    "dirk": [("Page Viewed", "09:00", {"type": "page"})],
}


@pytest.fixture
def store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLANTREIS_ENGINE", raising=False)
    monkeypatch.delenv("KLANTREIS_CONFIG", raising=False)
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(story(PEOPLE))
    return path


def funnel(store_file: Path, breakdown: str) -> dict[tuple[int, str], int]:
    result = CliRunner().invoke(
        app,
        [
            "funnel",
            "Page Viewed",
            "Order Completed",
            "--breakdown",
            breakdown,
            "--store",
            str(store_file),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return {(s["step"], s["breakdown"]): s["persons"] for s in json.loads(result.stdout)["steps"]}


def test_breakdown_by_campaign_source_reads_the_campaign_in_context(store_file: Path) -> None:
    assert funnel(store_file, "campaign.source") == {
        (1, "(direct)"): 2,
        (2, "(direct)"): 1,
        (1, "tiktok"): 2,
        (2, "tiktok"): 1,
    }


@pytest.mark.parametrize(
    ("breakdown", "expected"),
    [
        ("source", {"(direct)": 2, "tiktok": 2}),
        ("medium", {"paid_social": 2, "cpc": 1, "(none)": 1}),
        ("campaign", {"spring": 2, None: 2}),
        ("acquisition", {"social": 2, "paid search": 1, "direct": 1}),
    ],
)
def test_breakdown_by_source_medium_campaign_and_touchpoint(
    store_file: Path, breakdown: str, expected: dict
) -> None:
    got = funnel(store_file, breakdown)
    assert {value: n for (step, value), n in got.items() if step == 1} == expected
