"""The journey commands as a user runs them: real store file, real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stories import story
from typer.testing import CliRunner

from klantreis.present.cli.app import app
from klantreis.store import Store

runner = CliRunner()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(
            story(
                {
                    "femke": [
                        ("Product Viewed", "09:00"),
                        ("Order Completed", "09:30", {"properties": {"order_id": "F1"}}),
                        (
                            "Review Submitted",
                            "2026-03-06T12:00",
                            {"properties": {"order_id": "F1", "rating": 4}},
                        ),
                    ],
                    "gijs": [("Product Viewed", "10:00")],
                }
            )
        )
    return path


def test_map_json_has_the_documented_structure(store_path: Path, tmp_path: Path):
    out = tmp_path / "map.html"
    result = runner.invoke(app, ["map", "--store", str(store_path), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["definition"] == "six-phase"
    assert [p["id"] for p in data["phases"]][3] == "purchase"
    consideration = data["phases"][2]
    assert consideration["persons"] == 2
    assert consideration["conversion_to_next"] == 0.5
    assert set(consideration) >= {
        "persons",
        "journeys",
        "conversion_to_next",
        "median_time_seconds",
        "top_events",
        "touchpoints",
        "channels",
        "emotion",
        "pain_points",
    }
    assert out.read_text().startswith("<!doctype html>")


def test_map_table_and_store_from_environment(store_path: Path, monkeypatch):
    monkeypatch.setenv("KLANTREIS_STORE", str(store_path))
    result = runner.invoke(app, ["map", "--definition", "aida"])
    assert result.exit_code == 0, result.output
    assert "Desire" in result.output


def test_unknown_definition_is_a_one_line_error(store_path: Path):
    result = runner.invoke(app, ["map", "--store", str(store_path), "--definition", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output and "Traceback" not in result.output


def test_stats_json(store_path: Path):
    result = runner.invoke(app, ["stats", "--store", str(store_path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["events"] == 4
    assert data["persons"] == 2
    assert data["journeys"] == 2
    assert {"event": "Product Viewed", "count": 2} in data["events_by_name"]


def test_export_then_erase(store_path: Path):
    result = runner.invoke(app, ["export", "femke", "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["tables"]["events"]) == 3
    result = runner.invoke(app, ["erase", "femke", "--store", str(store_path), "--json"])
    assert json.loads(result.stdout)["removed"]["events"] == 3
    result = runner.invoke(app, ["export", "femke", "--store", str(store_path)])
    assert result.exit_code == 1
    assert "nothing is stored" in result.output


def test_missing_store_for_export_is_clear(tmp_path: Path):
    missing = tmp_path / "none" / "x.duckdb"
    result = runner.invoke(app, ["stats", "--store", str(missing)])
    # a mistyped --store is an error, not a new empty store with all-zero figures
    assert result.exit_code == 2, result.output
    assert "does not exist" in result.output
    assert not missing.exists()


def test_map_speaks_the_language_asked_for(store_path: Path, monkeypatch: pytest.MonkeyPatch):
    from klantreis.present.cli.options import console

    monkeypatch.setattr(console, "width", 200)  # a wide terminal: no cell folded
    result = runner.invoke(app, ["map", "--store", str(store_path), "--lang", "nl"])
    assert result.exit_code == 0, result.output
    for word in ("Klantreiskaart", "Overweging", "Gebruik & service", "Productpagina", "fase"):
        assert word in result.output, word
    assert "Consideration" not in result.output and "product page" not in result.output
    danish = runner.invoke(app, ["map", "--store", str(store_path), "--lang", "da"])
    assert "Overvejelse" in danish.output and "Produktside" in danish.output


def test_map_names_a_language_it_does_not_speak(store_path: Path):
    result = runner.invoke(app, ["map", "--store", str(store_path), "--lang", "fr"])
    assert result.exit_code == 2
    assert "language: Input should be 'en', 'nl' or 'da'" in result.output
