"""The one writer: group commit, acknowledgement after commit, bounded queue, failures."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from klantreis.collect.events import canonical_event
from klantreis.collect.ingest import Ingest, Overloaded, WriterStopped
from klantreis.store import Store

RECEIVED = datetime(2026, 11, 23, 10, 0)


def rows(prefix: str, n: int) -> list[dict]:
    return [
        canonical_event(
            {"type": "track", "userId": "u", "event": "E", "messageId": f"{prefix}-{i}"},
            received_at=RECEIVED,
            source="http",
        )
        for i in range(n)
    ]


def count(store: Store, sql: str = "SELECT count(*) FROM events") -> int:
    return store.connection.execute(sql).fetchone()[0]


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "ingest.duckdb") as handle:
        yield handle


def test_concurrent_requests_share_commits(store: Store) -> None:
    ingest = Ingest(store).start()

    async def many() -> None:
        await asyncio.gather(*(ingest.submit(rows(f"r{i}", 10)) for i in range(200)))

    asyncio.run(many())
    ingest.stop()
    assert count(store) == 2000
    assert ingest.rows_committed == 2000
    assert ingest.commits < 200, "every request committed alone: no group commit"


def test_acknowledged_rows_are_visible_when_submit_returns(store: Store) -> None:
    ingest = Ingest(store).start()
    result = asyncio.run(ingest.submit(rows("a", 3)))
    assert result.stored == 3
    assert count(store) == 3  # before stop: committed, not merely queued
    ingest.stop()


def test_repeated_message_ids_in_one_round_are_stored_once(store: Store) -> None:
    ingest = Ingest(store).start()

    async def twice() -> None:
        await asyncio.gather(ingest.submit(rows("d", 5)), ingest.submit(rows("d", 5)))

    asyncio.run(twice())
    asyncio.run(ingest.submit(rows("d", 5)))
    ingest.stop()
    assert count(store) == 5


def test_quarantined_rows_commit_with_the_events(store: Store) -> None:
    ingest = Ingest(store).start()
    bad = {"source": "http", "line": 1, "column_name": "userId", "reason": "missing", "raw": "{}"}
    asyncio.run(ingest.submit(rows("q", 1), [bad]))
    ingest.stop()
    assert count(store, "SELECT count(*) FROM quarantine WHERE column_name = 'userId'") == 1


def test_full_queue_refuses_instead_of_growing(store: Store) -> None:
    ingest = Ingest(store, max_pending=10)  # not started: nothing drains the queue

    async def fill() -> None:
        first = asyncio.ensure_future(ingest.submit(rows("o", 8)))
        await asyncio.sleep(0)
        with pytest.raises(Overloaded):
            await ingest.submit(rows("p", 5))
        ingest.start()
        await first

    asyncio.run(fill())
    ingest.stop()
    assert count(store) == 8


def test_a_failed_commit_fails_its_requests_and_stores_nothing(store: Store) -> None:
    ingest = Ingest(store).start()
    broken = rows("f", 2)
    broken[1]["timestamp"] = "not a timestamp"  # Arrow refuses it inside the writer
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        asyncio.run(ingest.submit(broken))
    assert count(store) == 0
    asyncio.run(ingest.submit(rows("ok", 2)))  # the writer survives a failed round
    ingest.stop()
    assert count(store) == 2


def test_stopped_writer_refuses(store: Store) -> None:
    ingest = Ingest(store).start()
    ingest.stop()
    with pytest.raises(WriterStopped):
        asyncio.run(ingest.submit(rows("s", 1)))
