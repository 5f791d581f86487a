"""The acquisition view: per source, persons, conversion, breached and repeat buyers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stories import story
from typer.testing import CliRunner

import klantreis
from klantreis.collect.keys import create_key
from klantreis.config import load_settings
from klantreis.present.api.app import create_app
from klantreis.present.cli.app import app
from klantreis.store import Store

SHOP = "https://shop.example"
TIKTOK = {"campaign": {"source": "tiktok", "medium": "paid_social", "name": "spring"}}
GOOGLE = {"url": SHOP + "/", "referrer": "https://www.google.nl/"}


def page(when: str, day: str = "2026-03-02", **options: object) -> tuple:
    return ("Page Viewed", f"{day}T{when}", {"type": "page", **options})


PEOPLE = {
    # first came from TikTok, bought twice; the first parcel came three days late
    "anna": [
        page("09:00", context=TIKTOK),
        (
            "Order Completed",
            "2026-03-02T09:10",
            {"properties": {"order_id": "o1", "promised_delivery_date": "2026-03-04"}},
        ),
        ("Order Shipped", "2026-03-03T09:00", {"properties": {"order_id": "o1"}}),
        ("Order Delivered", "2026-03-07T12:00", {"properties": {"order_id": "o1"}}),
        page("10:00", day="2026-03-20"),
        ("Order Completed", "2026-03-20T10:10", {"properties": {"order_id": "o2"}}),
    ],
    "bram": [page("09:00", context=TIKTOK)],
    "cees": [
        page("09:00", properties=GOOGLE),
        ("Order Completed", "2026-03-02T09:20", {"properties": {"order_id": "o3"}}),
    ],
    # typed the address first, came back from Google and then bought
    "dirk": [
        page("09:00", properties={"url": SHOP + "/"}),
        page("09:00", day="2026-03-05", properties=GOOGLE),
        ("Order Completed", "2026-03-05T09:30", {"properties": {"order_id": "o4"}}),
    ],
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


def _by_value(found: dict) -> dict[str, tuple]:
    return {
        r["value"]: (r["persons"], r["buyers"], r["breached"], r["repeat"])
        for r in found["sources"]
    }


def test_each_person_counts_under_the_first_or_last_touch(store_file: Path) -> None:
    with klantreis.open(store_file) as kr:
        first = kr.sources().as_json()
        last = kr.sources(touch="last").as_json()
        by_source = kr.sources(by="source").as_json()
    assert _by_value(first) == {
        "social": (2, 1, 1, 1),
        "organic search": (1, 1, 0, 0),
        "direct": (1, 1, 0, 0),
    }
    assert _by_value(last) == {"social": (2, 1, 1, 1), "organic search": (2, 2, 0, 0)}
    assert _by_value(by_source)["tiktok"] == (2, 1, 1, 1)
    social = next(r for r in first["sources"] if r["value"] == "social")
    assert social["conversion"]["share"] == 0.5
    assert 0 < social["conversion"]["low"] < 0.5 < social["conversion"]["high"] < 1
    assert social["conversion"]["vs_all"] == "same"  # two persons: nothing to call
    assert social["label"] == {"en": "Social", "nl": "Sociale media", "da": "Sociale medier"}
    assert first["persons"] == 4 and first["buyers"] == 3


def test_the_period_cuts_on_the_attributed_visit(store_file: Path) -> None:
    with klantreis.open(store_file) as kr:
        found = kr.sources(start="2026-03-03").as_json()
    assert _by_value(found) == {}
    with klantreis.open(store_file) as kr:
        found = kr.sources(start="2026-03-03", touch="last").as_json()
    assert _by_value(found) == {"organic search": (1, 1, 0, 0)}


def test_cli_and_read_api_agree(store_file: Path) -> None:
    result = CliRunner().invoke(app, ["sources", "--store", str(store_file), "--json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    with Store(store_file) as store:
        secret = create_key(store, "analyst", "read")[1]
    with TestClient(create_app(load_settings(store_file))) as client:
        response = client.get(
            "/api/sources?by=touchpoint", headers={"Authorization": f"Bearer {secret}"}
        )
        refused = client.get(
            "/api/sources?by=colour", headers={"Authorization": f"Bearer {secret}"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["sources"] == cli["sources"]
    assert refused.status_code == 422 and refused.json()["field"] == "by"
    text = CliRunner().invoke(app, ["sources", "--store", str(store_file)])
    assert text.exit_code == 0 and "Sources (first touch)" in text.stdout


def test_expectations_by_where_the_journey_began(store_file: Path) -> None:
    with klantreis.open(store_file) as kr:
        card = kr.expectations(by="acquisition")
    groups = card.get("delivery_promise_kept").groups
    assert {g["value"]: (g["cases"], g["breached"]) for g in groups} == {"social": (1, 1)}


def test_map_of_the_persons_who_came_from_a_source(store_file: Path) -> None:
    from klantreis.errors import UnknownName

    with klantreis.open(store_file) as kr:
        social = kr.journey_map(source="social")
        tiktok = kr.journey_map(source="tiktok")
        everyone = kr.journey_map()
        with pytest.raises(UnknownName, match="'nope'"):
            kr.journey_map(source="nope")
    persons = {p.id: p.persons for p in social.phases}
    assert persons["orientation"] == 2 and persons["purchase"] == 1
    assert {p.id: p.persons for p in tiktok.phases} == persons
    assert social.cut["source"] == "social"
    orientation = next(p for p in everyone.phases if p.id == "orientation")
    # anna came back typing the address: she counts under social and direct
    assert {s["touchpoint"]: s["persons"] for s in orientation.sources} == {
        "social": 2,
        "organic search": 2,
        "direct": 2,
    }
