"""Stored voice: topic volume, sentiment, trend and quotes; emotion per phase; CLI and HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
import pytest
from servers import Server
from stories import story

import klantreis
from klantreis.measure.voice.analyses import VoiceQueryError
from klantreis.measure.voice.stored import update_voice

DAY = datetime(2026, 3, 2)
HOSTILE = "<script>alert('x')</script> [bold]kapot[/bold] product, slecht"


def shop_story():
    """Three customers: a late delivery, a broken product, a happy one; plus an agent reply."""
    return story(
        {
            "anna": [
                ("Order Completed", "09:00", {"properties": {"order_id": "o1"}}),
                (
                    "Review Submitted",
                    DAY + timedelta(days=200),
                    {
                        "properties": {
                            "order_id": "o1",
                            "rating": 1,
                            "language": "nl",
                            "title": "Te laat",
                            "text": "Het pakket kwam een week te laat, slechte service",
                        }
                    },
                ),
            ],
            "bo": [
                ("Order Completed", "10:00", {"properties": {"order_id": "o2"}}),
                (
                    "Ticket Created",
                    DAY + timedelta(days=3),
                    {"properties": {"order_id": "o2", "subject": "Kapot", "text": HOSTILE}},
                ),
                (
                    "Ticket Replied",
                    DAY + timedelta(days=4),
                    {"properties": {"author": "agent", "text": "Excuses, we sturen een nieuwe"}},
                ),
            ],
            "cato": [
                ("Order Completed", "11:00", {"properties": {"order_id": "o3"}}),
                (
                    "Survey Answered",
                    DAY + timedelta(days=201),
                    {
                        "properties": {
                            "kind": "nps",
                            "score": 10,
                            "comment": "Fantastische winkel, heel blij mee!",
                        }
                    },
                ),
                (
                    "Live Chat Message Sent",
                    DAY + timedelta(days=100),
                    {"properties": {"message_body": "Hurtig levering og god service, tak"}},
                ),
            ],
        }
    )


@pytest.fixture
def shop(kr):
    kr.store.append(shop_story())
    # scored by their own step, as `voice update` and the server's routine do
    update_voice(kr.store, kr.engine)
    return kr


def test_voice_per_topic_with_quotes(shop) -> None:
    rows = {r["topic"]: r for r in shop.voice().to_pylist()}
    delivery = rows["delivery"]
    assert delivery["phase"] == "service"
    assert delivery["texts"] == 2  # anna's review and cato's Danish chat
    assert delivery["mean_rating"] == 1.0
    assert any("een week te laat" in q["text"] for q in delivery["quotes"])
    # the agent's reply is not the customer's voice
    texts = shop.sql("SELECT text FROM voice").to_pylist()
    assert all("Excuses" not in t["text"] for t in texts)
    phases = shop.sql("SELECT event, phase FROM voice ORDER BY event").to_pylist()
    assert {"event": "Review Submitted", "phase": "service"} in phases
    assert {"event": "Survey Answered", "phase": None} in phases
    # untrusted text is stored as given
    assert {"text": f"Kapot. {HOSTILE}"} in texts
    # a text without a topic counts as `other` under the phase it was written in
    assert rows["other"]["phase"] == "evaluation"
    assert rows["other"]["sentiment"] > 0.5


def test_trend_compares_the_last_90_days_with_the_90_before(shop) -> None:
    rows = {r["topic"]: r for r in shop.voice().to_pylist()}
    # delivery: day 200 (negative, recent) vs day 100 (positive, previous window)
    assert rows["delivery"]["trend"] < 0
    assert rows["product quality"]["trend"] is None


def test_filters_by_topic_and_phase(shop) -> None:
    assert [r["topic"] for r in shop.voice(topic="delivery").to_pylist()] == ["delivery"]
    phases = {r["phase"] for r in shop.voice(phase="service").to_pylist()}
    assert phases == {"service"}
    assert len(shop.voice(phase="orientation")) == 0
    with pytest.raises(VoiceQueryError, match="topic: 'shipping' is not one of"):
        shop.voice(topic="shipping")


def test_emotion_by_phase_feeds_the_journey_map(shop) -> None:
    emotion = shop.emotion_by_phase().phases
    # service: anna's late-delivery review (rating 1 → -1), bo's broken-product ticket,
    # cato's happy Danish chat; evaluation: anna's review and cato's glowing survey comment
    assert emotion["service"].n == 3 and emotion["service"].value < 0
    assert emotion["service"].mean_rating == 1.0
    evaluation = emotion["evaluation"]
    assert evaluation.n == 2 and evaluation.ratings == 1
    survey = shop.sql("SELECT sentiment FROM voice WHERE event = 'Survey Answered'")
    assert evaluation.value == pytest.approx(
        (-1 + survey.to_pylist()[0]["sentiment"]) / 2, abs=1e-3
    )
    phases = {p["id"]: p for p in shop.journey_map().to_dict()["phases"]}
    assert phases["service"]["emotion"]["source"] == "voice"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "klantreis.present.cli.app", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_voice_summary(tmp_path) -> None:
    path = tmp_path / "shop.duckdb"
    with klantreis.open(path) as kr:
        kr.store.append(shop_story())
    run = _cli("voice", "--store", str(path), "--topic", "product quality", "--json")
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert rows[0]["quotes"][0]["text"] == f"Kapot. {HOSTILE}"
    table = _cli("voice", "--store", str(path), "--topic", "product quality")
    assert "[bold]kapot[/bold]" in table.stdout.replace("\n", " ").replace("│", "") or (
        "[bold]" in table.stdout
    )
    bad = _cli("voice", "--store", str(path), "--topic", "shipping")
    assert bad.returncode == 2 and "topic: 'shipping' is not one of" in bad.stderr


@pytest.mark.slow
def test_http_voice_routes(tmp_path) -> None:
    server = Server(tmp_path / "store.duckdb")
    with klantreis.open(server.store) as kr:
        kr.store.append(shop_story())
    key = server.create_key("analyst", read=True)
    server.start()
    try:
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{server.url}/api/voice", timeout=60).status_code == 401
        rows = httpx.get(f"{server.url}/api/voice", headers=auth, timeout=60).json()
        assert {r["topic"] for r in rows} >= {"delivery", "product quality"}
        bad = httpx.get(f"{server.url}/api/voice", params={"topic": "x"}, headers=auth)
        assert bad.status_code == 400 and bad.json()["field"] == "topic"
        emotion = httpx.get(f"{server.url}/api/voice/emotion", headers=auth, timeout=60).json()
        assert emotion["service"]["value"] < 0
        scored = httpx.post(
            f"{server.url}/api/voice/score",
            headers=auth,
            timeout=60,
            json={"texts": ["Snelle levering, top!"]},
        ).json()
        assert scored[0]["label"] == "positive" and scored[0]["topics"] == ["delivery"]
        empty = httpx.post(f"{server.url}/api/voice/score", headers=auth, json={"texts": []})
        assert empty.status_code == 422 and "texts" in empty.text
    finally:
        server.stop()


def test_erasure_reaches_scored_voice(shop) -> None:
    from klantreis.privacy import erase_person, export_person

    shop.voice()
    exported = export_person(shop.store, "bo")
    assert "voice" in exported["tables"] and "voice_topics" in exported["tables"]
    erase_person(shop.store, "bo")
    assert shop.sql("SELECT count(*) AS n FROM voice WHERE user_id = 'bo'").to_pylist() == [
        {"n": 0}
    ]
    assert shop.sql("SELECT count(*) AS n FROM voice_topics WHERE user_id = 'bo'").to_pylist() == [
        {"n": 0}
    ]


def test_each_other_row_quotes_texts_of_its_own_phase(kr) -> None:
    """`other` has a row per phase; a row's quotes are texts of that row, so a phase where
    nothing was praised shows no praise."""
    kr.store.append(
        story(
            {
                "dana": [
                    ("Order Completed", "09:00", {"properties": {"order_id": "d1"}}),
                    (
                        "Survey Answered",
                        DAY + timedelta(days=20),
                        {"properties": {"kind": "nps", "score": 10, "comment": FOND}},
                    ),
                ],
                "eli": [
                    ("Order Completed", "10:00", {"properties": {"order_id": "e1"}}),
                    (
                        "Ticket Created",
                        DAY + timedelta(days=3),
                        {"properties": {"order_id": "e1", "text": ANGRY}},
                    ),
                ],
            }
        )
    )
    update_voice(kr.store, kr.engine)
    rows = kr.voice(topic="other").to_pylist()
    assert len({r["phase"] for r in rows}) == 2
    for row in rows:
        assert len(row["quotes"]) == 1
        quote = row["quotes"][0]
        assert quote["label"] == ("positive" if row["positive_share"] else "negative")


FOND = "Wat een fijne winkel, echt fantastisch!"
ANGRY = "Ik ben woedend, dit is echt schandalig."


def test_the_more_common_label_is_quoted_first_also_when_its_texts_are_short(kr) -> None:
    texts = [*["Top levering"] * 3, "Snelle levering, de volgende dag al in huis."]
    texts.append("Het pakket kwam een week te laat, slechte levering.")
    kr.store.append(
        story(
            {
                f"p{i}": [
                    (
                        "Review Submitted",
                        DAY + timedelta(days=i),
                        {"properties": {"language": "nl", "text": text}},
                    )
                ]
                for i, text in enumerate(texts)
            }
        )
    )
    update_voice(kr.store, kr.engine)
    (delivery,) = kr.voice(topic="delivery").to_pylist()
    assert delivery["positive_share"] > delivery["negative_share"]
    assert [q["label"] for q in delivery["quotes"]] == ["positive", "negative"]
