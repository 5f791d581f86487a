"""Store visits, calls, marketplace messages and social mentions take the phase of what they
are about: a complaint after the order is service, a product question before it is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from klantreis.model import build


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    yield handle
    handle.close()


def test_contact_events_take_the_phase_of_what_they_are_about(kr) -> None:
    kr.store.append(
        story(
            {
                "anna": [
                    # before any order: a question about a product, a grumble in public
                    (
                        "Store Visited",
                        "09:00",
                        {"properties": {"purpose": "browse"}, "channel": "store"},
                    ),
                    (
                        "Social Mention",
                        "09:30",
                        {"properties": {"kind": "complaint", "text": "queue"}},
                    ),
                    ("Order Completed", "10:00", {"properties": {"order_id": "o1"}}),
                    # after it: a call naming the order, a complaint naming none
                    (
                        "Phone Call Received",
                        "2026-03-04T10:00",
                        {
                            "properties": {"order_id": "o1", "text": "where is my parcel"},
                            "channel": "phone",
                        },
                    ),
                    (
                        "Social Mention",
                        "2026-03-05T10:00",
                        {"properties": {"kind": "complaint", "text": "still no parcel"}},
                    ),
                    (
                        "Marketplace Message Received",
                        "2026-03-06T10:00",
                        {"properties": {"topic": "Returns", "text": "how do I send it back"}},
                    ),
                    # and a new product question: the next journey's consideration
                    (
                        "Phone Call Received",
                        "2026-03-20T10:00",
                        {"properties": {"topic": "product", "text": "is the jacket waterproof"}},
                    ),
                ]
            }
        )
    )
    build(kr.engine)
    rows = kr.sql(
        "SELECT event, phase, touchpoint, right(journey_id, 3) AS journey FROM journey_events "
        "ORDER BY timestamp"
    ).to_pylist()
    assert [(r["event"], r["phase"], r["touchpoint"], r["journey"]) for r in rows] == [
        ("Store Visited", "consideration", "store", ":j1"),
        ("Social Mention", "evaluation", "social media", ":j1"),
        ("Order Completed", "purchase", "checkout", ":j1"),
        ("Phone Call Received", "service", "phone", ":j1"),
        ("Social Mention", "service", "social media", ":j1"),
        ("Marketplace Message Received", "service", "marketplace", ":j1"),
        ("Phone Call Received", "consideration", "phone", ":j2"),
    ]
