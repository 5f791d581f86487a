"""Any event carrying a customer's text is voice: a call note, a store visit's note, a
marketplace message, a shop's own event; an agent's chat line is not."""

from __future__ import annotations

from pathlib import Path

from stories import story

import klantreis
from klantreis.measure.voice.stored import unscored_texts, update_voice
from klantreis.privacy import erase_person


def test_every_event_with_a_text_is_scored_and_erasable(tmp_path: Path) -> None:
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        kr.store.append(
            story(
                {
                    "anna": [
                        (
                            "Phone Call Received",
                            "09:00",
                            {
                                "properties": {
                                    "text": "The parcel arrived damaged, very disappointed"
                                }
                            },
                        ),
                        (
                            "Store Visited",
                            "10:00",
                            {
                                "properties": {
                                    "text": "Friendly staff, great advice",
                                    "purpose": "browse",
                                }
                            },
                        ),
                        (
                            "Marketplace Message Received",
                            "11:00",
                            {"properties": {"text": "When will my order be delivered?"}},
                        ),
                        (
                            "Gift Card Redeemed",
                            "12:00",
                            {"properties": {"text": "Lovely gift, thanks"}},
                        ),
                        (
                            "Live Chat Message Received",
                            "13:00",
                            {"properties": {"message_body": "Agent here", "text": "Agent here"}},
                        ),
                        ("Product Viewed", "14:00", {"properties": {"name": "text"}}),
                    ]
                }
            )
        )
        assert unscored_texts(kr.store, kr.engine) == 4
        update_voice(kr.store, kr.engine, retrain=False)
        rows = kr.sql("SELECT event, label FROM voice ORDER BY timestamp").to_pylist()
        assert [r["event"] for r in rows] == [
            "Phone Call Received",
            "Store Visited",
            "Marketplace Message Received",
            "Gift Card Redeemed",
        ]
        assert rows[0]["label"] == "negative" and rows[1]["label"] == "positive"
        assert unscored_texts(kr.store, kr.engine) == 0
        erase_person(kr.store, "anna")
        assert kr.sql("SELECT count(*) AS n FROM voice").to_pylist() == [{"n": 0}]
