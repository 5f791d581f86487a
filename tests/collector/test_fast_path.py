"""`canonical_event`'s fast path for well-formed messages must agree with the Pydantic path.

The fast path exists only for speed (benchmarks/collector.py); every message, valid or not,
must give the same row or the same `InvalidEvent` (field and reason) either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.collect import events
from klantreis.collect.events import InvalidEvent, canonical_event

RECEIVED = datetime(2026, 11, 20, 12, 0, 0)


def outcome(message: Any, *, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(events, "_fast_fields", lambda payload: None)
        try:
            return canonical_event(message, received_at=RECEIVED, source="http")
        except InvalidEvent as exc:
            return ("invalid", exc.field, exc.reason)


texts = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.text(min_size=499, max_size=502),
    st.integers(-5, 5),
    st.booleans(),
    st.just(""),
)
objects = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["a", "channel", "name", "traits"]), st.text(max_size=4)),
    st.just({"library": {"name": "analytics.js"}, "traits": {"email": "a@b.nl"}}),
    st.just({"library": "analytics-ios"}),
    st.just([1]),
    st.just({1: "x"}),
)
timestamps = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2026-11-20T10:00:00.000Z",
            "2026-11-20T10:00:00+02:00",
            "2026-11-20t10:00:00z",
            " 2026-11-20T10:00:00Z",
            "2026-13-20T10:00:00Z",
            "2026-11-20",
            "2031-01-01T00:00:00Z",
            "soon",
        ]
    ),
    st.integers(0, 2_000_000_000_000),
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["track", "identify", "page", "screen", "group", "alias", "x"]),
        "messageId": st.one_of(texts, st.text(min_size=199, max_size=201)),
        "userId": texts,
        "anonymousId": texts,
        "previousId": texts,
        "groupId": texts,
        "user_id": texts,
        "event": texts,
        "name": texts,
        "channel": st.one_of(st.none(), st.sampled_from(["browser", "mobile", "server"]), texts),
        "properties": objects,
        "traits": objects,
        "context": objects,
        "timestamp": timestamps,
        "originalTimestamp": timestamps,
        "sentAt": timestamps,
        "extra": st.integers(),
    },
)


@settings(max_examples=600, deadline=None)
@given(messages)
def test_fast_path_agrees_with_pydantic(message: dict[str, Any]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = outcome(message, fast=True, monkeypatch=monkeypatch)
        slow = outcome(message, fast=False, monkeypatch=monkeypatch)
    assert fast == slow


def test_the_benchmark_shape_takes_the_fast_path() -> None:
    message = {
        "type": "track",
        "event": "Product Viewed",
        "userId": "u-1",
        "messageId": "m-1",
        "timestamp": "2026-11-20T10:00:00.000Z",
        "properties": {"price": 19.95},
        "context": {"library": {"name": "analytics-python"}},
    }
    assert events._fast_fields(message) is not None
    assert events._fast_fields({**message, "userId": 7}) is None  # Pydantic turns it to text
