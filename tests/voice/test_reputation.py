"""Reputation per platform over time, from the review presets and the listening import."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest
from servers import Server, cli_here

import klantreis
from klantreis.collect.imports import import_file
from klantreis.measure.contract import QueryError
from klantreis.measure.voice.stored import update_voice
from klantreis.store import Store

SAMPLES = Path(__file__).resolve().parents[1] / "collect" / "presets"
MENTIONS = """\
author,platform,text,rating,url,time
sam,trustpilot,Weer te laat geleverd en geen antwoord,1,https://example.org/r/1,2024-04-02T10:00:00Z
@joop,X,Top service vandaag!,,https://x.com/joop/status/1,2024-04-03T09:00:00Z
"""


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    """Trustpilot, Google and listening samples (March 2024) plus two April texts."""
    path = tmp_path / "store.duckdb"
    april = tmp_path / "april.csv"
    april.write_text(MENTIONS)
    with Store(path) as store:
        import_file(store, SAMPLES / "trustpilot_reviews.json", "trustpilot-reviews")
        import_file(store, SAMPLES / "google_reviews.json", "google-reviews")
        import_file(store, SAMPLES / "listening.csv", "listening")
        import_file(store, april, "listening")
    return path


@pytest.fixture
def scored_file(store_file: Path) -> Path:
    """The samples with their texts scored, as `voice update`, the demo or the server do."""
    with Store(store_file) as store:
        update_voice(store, store.engine)
    return store_file


def test_reputation_reads_scores_and_scores_nothing(store_file: Path) -> None:
    with klantreis.open(store_file) as kr:
        result = kr.reputation()
        assert (
            not kr.engine.has_table("voice") or kr.engine.scalar("SELECT count(*) FROM voice") == 0
        )
    assert result.meta["unscored_texts"] > 0
    assert {r["sentiment"] for r in result.to_pylist()} == {None}


def test_reputation_per_platform_and_month(scored_file: Path) -> None:
    with klantreis.open(scored_file) as kr:
        rows = kr.reputation().to_pylist()
    by_key = {(r["platform"], r["period"]): r for r in rows}
    assert sorted({r["platform"] for r in rows}) == [
        "feedbackcompany",
        "google",
        "instagram",
        "kiyoh",
        "trustpilot",
        "x",
    ]
    march = by_key[("trustpilot", date(2024, 3, 1))]
    assert (march["texts"], march["ratings"], march["mean_rating"]) == (2, 2, 3.0)
    assert march["negative_share"] == 0.5  # "Nog steeds geen pakket ..." is negative
    april = by_key[("trustpilot", date(2024, 4, 1))]
    assert april["mean_rating"] == 1.0 and april["rating_change"] == -2.0
    google = by_key[("google", date(2024, 3, 1))]
    assert (google["texts"], google["mean_rating"]) == (2, 3.0)  # FOUR and TWO
    x_april = by_key[("x", date(2024, 4, 1))]  # "X" and "x" are one platform
    assert (x_april["mentions"], x_april["mean_rating"]) == (1, None)
    assert x_april["sentiment"] > 0
    assert by_key[("x", date(2024, 3, 1))]["sentiment"] < 0


def test_reputation_filters_and_errors(store_file: Path) -> None:
    with klantreis.open(store_file) as kr:
        only = kr.reputation(period="year", platform="Trustpilot").to_pylist()
        assert [(r["platform"], r["period"], r["texts"]) for r in only] == [
            ("trustpilot", date(2024, 1, 1), 3)
        ]
        april = kr.reputation(start="2024-04-01").to_pylist()
        assert {r["platform"] for r in april} == {"trustpilot", "x"}
        with pytest.raises(QueryError, match="period: Input should be 'day', 'week'"):
            kr.reputation(period="fortnight")


def test_reputation_cli(store_file: Path) -> None:
    run = cli_here("voice", "reputation", "--platform", "google", "--json", store=store_file)
    assert run.returncode == 0, run.stderr
    assert [r["mean_rating"] for r in json.loads(run.stdout)] == [3.0]
    bad = cli_here("voice", "reputation", "--period", "fortnight", store=store_file)
    assert bad.returncode == 2 and "period: Input should be 'day', 'week'" in bad.stderr


@pytest.mark.slow
def test_reputation_route(store_file: Path) -> None:
    server = Server(store_file)
    key = server.create_key("analyst", read=True)
    server.start()
    try:
        url = f"{server.url}/api/voice/reputation"
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(url, timeout=60).status_code == 401
        rows = httpx.get(url, params={"platform": "x"}, headers=auth, timeout=60).json()
        assert [(r["period"], r["mentions"]) for r in rows] == [
            ("2024-03-01", 1),
            ("2024-04-01", 1),
        ]
        bad = httpx.get(url, params={"period": "fortnight"}, headers=auth, timeout=60)
        assert bad.status_code == 422 and bad.json()["field"] == "period"
    finally:
        server.stop()
