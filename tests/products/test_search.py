"""Search and filter analytics on a story whose answers can be counted by hand."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from stories import story
from typer.testing import CliRunner

import klantreis
from klantreis.present.cli.app import app
from klantreis.store import Store


def _searched(query: str, results: int) -> dict:
    return {"properties": {"query": query, "results": results}}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    filtered = {
        "properties": {
            "filters": [{"type": "price", "value": "0-5"}],
            "sorts": [{"type": "price", "value": "asc"}],
            "results": 0,
        }
    }
    with Store(path) as handle:
        handle.append(
            story(
                {
                    # a failing term, refined, then a view and an order
                    "anna": [
                        ("Products Searched", "09:00", _searched("Regnjas ", 0)),
                        ("Products Searched", "09:01", _searched("regenjas", 12)),
                        ("Product Viewed", "09:02"),
                        ("Order Completed", "09:10"),
                    ],
                    # the same failing term, and she leaves
                    "bram": [
                        ("Page Viewed", "10:00"),
                        ("Products Searched", "10:01", _searched("regnjas", 0)),
                    ],
                    # a search, a filter with nothing in it, a view, no order
                    "cora": [
                        ("Products Searched", "11:00", _searched("regenjas", 30)),
                        ("Product List Filtered", "11:01", filtered),
                        ("Product Viewed", "11:02"),
                    ],
                }
            )
        )
    return path


def test_terms_refinements_exits_and_filters(store: Path) -> None:
    with klantreis.open(store) as kr:
        found = kr.search()
    assert (found.searches, found.zero_result_searches) == (4, 2)
    (failing,) = found.failing_terms
    assert failing.term == "regnjas" and failing.zero_results == 2
    # anna refined and went on; bram left right after his search
    assert (failing.refined, failing.exited, failing.viewed_after) == (0.5, 0.5, 0.5)
    regenjas = next(t for t in found.terms if t.term == "regenjas")
    assert (regenjas.searches, regenjas.viewed_after, regenjas.ordered_after) == (2, 1.0, 0.5)
    kinds = {f.kind: f for f in found.filters}
    assert set(kinds) == {"filter: price", "sort: price"}
    assert kinds["filter: price"].zero_results == 1 and kinds["filter: price"].uses == 1
    assert kinds["filter: price"].ordered_after == 0.0


def test_cli_json(store: Path) -> None:
    result = CliRunner().invoke(app, ["search", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["failing_terms"][0]["term"] == "regnjas"
    with klantreis.open(store) as kr:
        assert printed == json.loads(json.dumps(kr.search().as_json()))


def test_read_api(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from klantreis.collect.keys import create_key
    from klantreis.config import load_settings
    from klantreis.present.api.app import create_app

    with Store(store) as handle:
        secret = create_key(handle, "analyst", "read")[1]
    monkeypatch.chdir(store.parent)
    with TestClient(create_app(load_settings(store))) as client:
        response = client.get("/api/search", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.text
        assert response.json()["zero_result_searches"] == 2
        assert client.get("/api/search").status_code == 401


@pytest.mark.parametrize("lang", ["en", "nl", "da"])
def test_search_page(store: Path, lang: str) -> None:
    from fastapi.testclient import TestClient
    from web.shop import PASSWORD, login, settled
    from web.vocabulary_check import english_words, page_text

    from klantreis.config import Settings
    from klantreis.present.api.app import create_app
    from klantreis.present.web.auth import create_user

    with Store(store) as handle:
        create_user(handle, "anna-admin", PASSWORD, lang)
    app = create_app(Settings(store, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        html = settled(client, "/search")
    assert 'class="error"' not in html
    failing = html.split('id="failing-terms"')[1].split("</table>")[0]
    assert "regnjas" in failing and "regenjas" not in failing
    assert "filter: price" in html
    if lang != "en":
        assert not english_words(page_text(html), lang)
        assert (
            "Zoektermen die niets vinden" if lang == "nl" else "Søgeord der intet finder"
        ) in html


def test_the_period_selects_searches(tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    april = datetime(2026, 4, 2)
    with Store(path) as handle:
        handle.append(story({"anna": [("Products Searched", "09:00", _searched("regnjas", 0))]}))
        handle.append(
            story({"dirk": [("Products Searched", "09:00", _searched("winterjas", 0))]}, april)
        )
    with klantreis.open(path) as kr:
        everything, later = kr.search(), kr.search(start="2026-04-01")
        before = kr.search(end="2026-04-01")
    assert everything.searches == 2
    assert [t.term for t in later.failing_terms] == ["winterjas"]
    assert [t.term for t in before.failing_terms] == ["regnjas"]
    result = CliRunner().invoke(
        app, ["search", "--store", str(path), "--from", "2026-04-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["searches"] == 1


@pytest.mark.slow
def test_simulated_searches_end_sessions_as_the_events_say(tmp_path: Path) -> None:
    """On the simulated shop, some sessions end right after a search (more often after one that
    found nothing); the analysis's exits and views after, per term, against pandas over the
    same rows (sessions cut at 30 quiet minutes, as the model does)."""
    import pandas as pd

    from klantreis.collect.simulator import SimulatorConfig, simulate

    path = tmp_path / "shop.duckdb"
    with Store(path) as handle:
        handle.append(simulate(SimulatorConfig(persons=300, seed=11)).events)
    with klantreis.open(path) as kr:
        found = kr.search(limit=1000).as_json()
        rows = kr.sql(
            "SELECT person_id, timestamp, event, message_id, properties FROM journey_events"
        ).to_pandas()
    rows = rows.sort_values(["person_id", "timestamp", "message_id"], kind="stable")
    seconds = rows["timestamp"].dt.floor("s")
    gap = seconds.groupby(rows["person_id"]).diff().dt.total_seconds()
    rows["session"] = (gap.isna() | (gap > 1800)).cumsum()
    ended = rows.groupby("session")["timestamp"].transform("max")
    views = rows[rows["event"] == "Product Viewed"].groupby("session")["timestamp"].max()
    searched = rows[rows["event"] == "Products Searched"].copy()
    props = searched["properties"].map(json.loads)
    searched["term"] = props.map(lambda p: (p.get("query") or "").strip().lower())
    searched = searched[searched["term"] != ""]
    searched["exited"] = searched["timestamp"] >= ended[searched.index]
    searched["viewed"] = searched["timestamp"] < views.reindex(searched["session"]).to_numpy()
    expected = searched.groupby("term")[["exited", "viewed"]].mean()
    by_term = {t["term"]: t for t in found["terms"]}
    assert set(by_term) == set(expected.index)
    for term, row in expected.iterrows():
        assert by_term[term]["exited"] == pytest.approx(row["exited"], abs=1e-6), term
        assert by_term[term]["viewed_after"] == pytest.approx(row["viewed"], abs=1e-6), term
    failing = pd.Series({t["term"]: t["exited"] for t in found["failing_terms"]})
    found_something = pd.Series(
        {t["term"]: t["exited"] for t in found["terms"] if not t["zero_results"]}
    )
    assert 0 < found_something.mean() < failing.mean() < 1


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "Finds nothing: “regnjas” (2)"), ("nl", "Vindt niets: “regnjas” (2)")],
)
def test_the_map_names_the_failing_terms(store: Path, lang: str, said: str) -> None:
    from klantreis.present.web.i18n import Lang
    from klantreis.present.web.mapview import draw, view_of

    with klantreis.open(store) as kr:
        found = kr.journey_map()
    pains = [p for phase in found.phases for p in phase.pain_points if p.key == "search_finds"]
    assert len(pains) == 1
    assert pains[0].failing_terms == [{"term": "regnjas", "searches": 2}]
    svg, _ = draw(view_of(found), Lang(lang), "map")
    assert said in svg
