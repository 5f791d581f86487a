"""Acknowledged means stored: SIGKILL mid-stream loses nothing acknowledged; overload is 429."""

from __future__ import annotations

import functools
import threading
import time
import uuid

import httpx
import orjson
import pytest
from servers import Server

pytestmark = pytest.mark.slow


def batch_of(n: int, tag: str) -> list[dict]:
    return [
        {
            "type": "track",
            "userId": f"u-{i % 17}",
            "event": "Product Viewed",
            "messageId": f"{tag}-{uuid.uuid4().hex}",
            "properties": {"sku": f"sku-{i}"},
        }
        for i in range(n)
    ]


class Sender(threading.Thread):
    """Posts batches until told to stop or the server goes away; keeps what was acknowledged."""

    def __init__(self, server: Server, tag: str, *, batch_size: int, max_batches: int) -> None:
        super().__init__(daemon=True)
        self.url = f"{server.url}/v1/batch"
        self.auth = (server.write_key, "")
        self.tag = tag
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.acked: list[str] = []
        self.statuses: list[int] = []
        self.retry_after: set[str] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(auth=self.auth, timeout=10) as client:
            for _ in range(self.max_batches):
                if self.stop.is_set():
                    return
                batch = batch_of(self.batch_size, self.tag)
                try:
                    response = client.post(self.url, content=orjson.dumps({"batch": batch}))
                except httpx.HTTPError:
                    return  # the server was killed: this batch is unacknowledged
                self.statuses.append(response.status_code)
                if response.status_code == 200:
                    self.acked.extend(m["messageId"] for m in batch)
                elif response.status_code == 429:
                    self.retry_after.add(response.headers.get("retry-after", ""))


def stored_counts(server: Server, ids: list[str]) -> dict[str, int]:
    rows = server.stored("SELECT message_id, count(*) FROM events GROUP BY message_id")
    wanted = set(ids)
    return {mid: n for mid, n in rows if mid in wanted}


def test_sigkill_mid_stream_keeps_every_acknowledged_event_once(make_server) -> None:
    server: Server = make_server()
    server.write_key = server.create_key("shop")
    server.start()
    senders = [Sender(server, f"crash{i}", batch_size=50, max_batches=400) for i in range(4)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 20
    while sum(len(s.acked) for s in senders) < 3_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL while the senders are still posting
    for sender in senders:
        sender.join(15)
    acked = [mid for sender in senders for mid in sender.acked]
    assert len(acked) >= 3_000, "the load did not get going before the kill"
    assert any(sender.is_alive() is False for sender in senders)

    server.start()  # restart on the same store: DuckDB replays its write-ahead log
    # A client that resends an acknowledged batch after the restart must not duplicate it.
    resend = [{"type": "track", "userId": "u", "event": "E", "messageId": m} for m in acked[:100]]
    response = httpx.post(
        f"{server.url}/v1/batch",
        content=orjson.dumps({"batch": resend}),
        auth=(server.write_key, ""),
        timeout=10,
    )
    assert response.status_code == 200
    server.stop()

    counts = stored_counts(server, acked)
    missing = set(acked) - counts.keys()
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    assert set(counts.values()) == {1}


def test_overload_answers_429_and_loses_nothing_acknowledged(make_server) -> None:
    server: Server = make_server("[collector]\nmax_pending_events = 100\n")
    server.write_key = server.create_key("shop")
    server.start()
    senders = [Sender(server, f"load{i}", batch_size=100, max_batches=60) for i in range(6)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(60)
    statuses = [s for sender in senders for s in sender.statuses]
    assert 429 in statuses, "the queue never filled; overload was not exercised"
    assert set(statuses) <= {200, 429}, "overload must give 429, never an error or a crash"
    assert {"1"} == set().union(*(sender.retry_after for sender in senders))
    assert server.proc is not None and server.proc.poll() is None, "the server died"
    acked = [mid for sender in senders for mid in sender.acked]
    assert acked
    server.stop()
    rows = server.stored("SELECT message_id FROM events")
    # Exactly the acknowledged events: nothing refused with 429 slipped in, nothing acked is lost.
    assert sorted(mid for (mid,) in rows) == sorted(acked)


def test_quarantine_and_stored_once_in_the_store(make_server) -> None:
    server: Server = make_server()
    server.write_key = server.create_key("shop")
    server.start()
    message_id = f"twice-{uuid.uuid4().hex}"
    body = {"userId": "u", "event": "Twice", "messageId": message_id}
    post = functools.partial(httpx.post, auth=(server.write_key, ""), timeout=10)
    assert post(f"{server.url}/v1/track", content=orjson.dumps(body)).status_code == 200
    assert post(f"{server.url}/v1/track", content=orjson.dumps(body)).status_code == 200
    bad = {"userId": "u-q", "event": "E", "timestamp": "bad-time"}
    assert post(f"{server.url}/v1/track", content=orjson.dumps(bad)).status_code == 400
    batch = {"batch": [{"type": "track", "event": "No person"}, {**body, "type": "track"}]}
    assert post(f"{server.url}/v1/batch", content=orjson.dumps(batch)).status_code == 200
    server.stop()
    assert server.stored(f"SELECT count(*) FROM events WHERE message_id = '{message_id}'") == [(1,)]
    rows = server.stored(
        "SELECT column_name, reason, source, line, user_id FROM quarantine ORDER BY column_name"
    )
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("timestamp", "http", None),
        ("userId", "http", 0),
    ]
    assert "bad-time" in rows[0][1]
    assert rows[0][4] == "u-q"
