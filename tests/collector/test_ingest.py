"""The one writer: group commit, acknowledgement after commit, bounded queue, failures."""

from __future__ import annotations

import asyncio
import time
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


def test_acknowledged_rows_are_committed_when_submit_returns(store: Store) -> None:
    ingest = Ingest(store, merge_interval=3600).start()  # the merger stays out of the way
    result = asyncio.run(ingest.submit(rows("a", 3)))
    assert result.stored == 3
    # committed before the answer, not merely queued: staged, and not yet in events
    assert count(store, "SELECT count(*) FROM events_staged") == 3
    assert count(store) == 0
    ingest.stop()  # stopping merges what is staged
    assert count(store) == 3
    assert count(store, "SELECT count(*) FROM events_staged") == 0


def test_acknowledged_rows_are_queryable_within_two_seconds(store: Store) -> None:
    ingest = Ingest(store).start()
    asyncio.run(ingest.submit(rows("v", 3)))
    acknowledged = time.monotonic()
    while count(store) < 3 and time.monotonic() - acknowledged < 2:
        time.sleep(0.02)
    assert count(store) == 3, "acknowledged events not in events after 2 s"
    ingest.stop()


def test_staged_events_are_merged_when_the_store_is_opened_again(tmp_path: Path) -> None:
    path = tmp_path / "crashed.duckdb"
    with Store(path) as first:
        first.stage(pa.Table.from_pylist(rows("c", 4) + rows("c", 2)))  # repeats too
        assert count(first) == 0  # as if the server died before its merger ran
    with Store(path) as second:
        assert count(second) == 4
        assert count(second, "SELECT count(*) FROM events_staged") == 0


def test_merging_beside_a_busy_writer_loses_and_repeats_nothing(store: Store) -> None:
    """The merge deletes exactly what it copied, while the writer keeps staging rows."""
    ingest = Ingest(store, merge_interval=0.005).start()

    async def many() -> None:
        for i in range(60):
            await asyncio.gather(*(ingest.submit(rows(f"b{i}-{j}", 25)) for j in range(4)))

    asyncio.run(many())
    ingest.stop()
    assert ingest.merges > 1
    assert count(store) == 60 * 4 * 25
    assert count(store, "SELECT count(DISTINCT message_id) FROM events") == 6000
    assert count(store, "SELECT count(*) FROM events_staged") == 0


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
