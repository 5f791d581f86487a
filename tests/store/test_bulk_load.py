"""A store without events loads in bulk: the same events as appending batch by batch, repeats
removed exactly (the first wins), and the message-id key in place afterwards."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.store import Store

ORDER = "ORDER BY message_id"


@pytest.fixture(scope="module")
def events() -> pa.Table:
    return simulate(SimulatorConfig(persons=60, seed=11)).events


def _rows(store: Store) -> list[tuple[object, ...]]:
    return store.connection.execute(f"SELECT * FROM events {ORDER}").fetchall()


def test_bulk_load_stores_what_batch_appends_store(tmp_path: Path, events: pa.Table) -> None:
    one_by_one = Store(tmp_path / "batches.duckdb")
    for offset in range(0, events.num_rows, 1000):
        one_by_one.append(events.slice(offset, 1000))
    bulk = Store(tmp_path / "bulk.duckdb")
    chunks = [events.slice(offset, 3000) for offset in range(0, events.num_rows, 3000)]
    result = bulk.append_many(iter(chunks))
    assert result.stored == events.num_rows and result.duplicates == 0
    assert _rows(bulk) == _rows(one_by_one)


def test_repeated_ids_in_a_bulk_load_are_stored_once_first_wins(
    tmp_path: Path, events: pa.Table
) -> None:
    first = events.slice(0, 500)
    repeat = first.slice(100, 50)
    # the same message ids with another event name: the first stored must win, as in `append`
    changed = repeat.set_column(
        repeat.schema.get_field_index("event"), "event", pa.array(["Changed"] * 50)
    )
    store = Store(tmp_path / "repeats.duckdb")
    result = store.append_many([first, changed, events.slice(500, 200), repeat])
    assert (result.stored, result.duplicates) == (700, 100)
    assert store.connection.execute(
        "SELECT count(*), count(DISTINCT message_id), count(*) FILTER (event = 'Changed') "
        "FROM events"
    ).fetchall() == [(700, 700, 0)]


def test_after_a_bulk_load_the_key_skips_stored_ids(
    tmp_path: Path, events: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("klantreis.store.store.BULK_ROWS", 1000)  # `append` of a large table
    path = tmp_path / "keyed.duckdb"
    with Store(path) as store:
        assert store.append(events).stored == events.num_rows
        store.append_many([events.slice(0, 10)])
    with Store(path) as store:  # the key is kept in the file
        again = store.append_many([events.slice(0, 300), events.slice(0, 5)])
        assert (again.stored, again.duplicates) == (0, 305)
        keys = store.connection.execute(
            "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'events'"
        ).fetchall()
        assert ("PRIMARY KEY",) in keys
        assert store.connection.execute("SELECT count(*) FROM events").fetchall() == [
            (events.num_rows,)
        ]


def test_a_failed_bulk_load_leaves_the_store_as_it_was(tmp_path: Path, events: pa.Table) -> None:
    def batches():  # type: ignore[no-untyped-def]
        yield events.slice(0, 100)
        raise OSError("the source went away")

    path = tmp_path / "failed.duckdb"
    with Store(path) as store:
        with pytest.raises(OSError, match="went away"):
            store.append_many(batches())
        assert store.connection.execute("SELECT count(*) FROM events").fetchall() == [(0,)]
        # still keyed: an append after the failure skips repeats
        assert store.append_many([events.slice(0, 10), events.slice(0, 10)]).stored == 10
        assert store.append(events.slice(0, 10)).duplicates == 10


def test_a_bulk_load_holds_no_batch_it_has_stored(tmp_path: Path, events: pa.Table) -> None:
    """The load is one transaction; a batch given to it must be freed once stored, not kept
    until the commit (a 50M-event import held every batch, far past any memory limit)."""
    allocated: list[int] = []

    def batches() -> Iterator[pa.Table]:
        for offset in range(0, events.num_rows, 1000):
            allocated.append(pa.total_allocated_bytes())
            rows = pa.array(range(offset, min(offset + 1000, events.num_rows)))
            yield events.take(rows)  # buffers of its own, as a file reader's batch has

    with Store(tmp_path / "held.duckdb") as store:
        store.append_many(batches())
    assert len(allocated) >= 8
    one_batch = events.slice(0, 1000).nbytes
    assert allocated[-1] - allocated[1] < 3 * one_batch


def test_a_bulk_load_lets_go_of_its_batches_before_the_key_is_built(
    tmp_path: Path, events: pa.Table
) -> None:
    """No batch is held while the repeated ids are looked for and the key is built: those
    run within DuckDB's memory limit, a batch held beside them would be memory above it."""
    path = tmp_path / "s.duckdb"
    store = Store(path)
    # A second connection in this process shares the store's database and its query log.
    watcher = duckdb.connect(str(path))
    watcher.execute("CALL enable_logging('QueryLog')")
    after_load: list[int] = []

    def freed() -> None:  # how many statements after the load had run when a batch went
        after_load.append(
            watcher.execute(
                "SELECT count(*) FROM duckdb_logs WHERE type = 'QueryLog' "
                "AND connection_id <> current_connection_id() AND (message LIKE "
                "'%count(DISTINCT message_id)%' OR message LIKE 'ALTER TABLE%')"
            ).fetchall()[0][0]
        )

    def chunks() -> Iterator[pa.Table]:
        for offset in range(0, events.num_rows, 3000):
            chunk = events.slice(offset, 3000)
            weakref.finalize(chunk, freed)
            yield chunk

    assert store.append_many(chunks()).stored == events.num_rows
    store.close()
    watcher.close()
    assert len(after_load) == -(-events.num_rows // 3000)
    assert after_load == [0] * len(after_load)


def test_a_bulk_load_lets_go_of_each_batch_before_asking_for_the_next(
    tmp_path: Path, events: pa.Table
) -> None:
    """A batch stored is freed before the next is read and made: the load holds one batch at
    a time, not the last one beside the next (each above DuckDB's memory limit)."""
    freed: list[int] = []
    held_when_asked: list[int] = []

    def batches() -> Iterator[pa.Table]:
        for number, offset in enumerate(range(0, events.num_rows, 1000)):
            held_when_asked.append(number - len(freed))  # batches given and not yet freed
            rows = pa.array(range(offset, min(offset + 1000, events.num_rows)))
            batch = events.take(rows)
            weakref.finalize(batch, freed.append, number)
            yield batch
            del batch  # the producer keeps none: only the load may hold one

    with Store(tmp_path / "one.duckdb") as store:
        assert store.append_many(batches()).stored == events.num_rows
    assert len(held_when_asked) >= 8
    assert held_when_asked == [0] * len(held_when_asked)


def test_a_bulk_load_commits_by_a_checkpoint_without_writing_its_key_to_the_wal(
    tmp_path: Path, events: pa.Table
) -> None:
    """The load's commit writes the message-id key into the store file, not into the WAL: a
    key written to the WAL is first serialised whole into one buffer beside the key, memory
    outside DuckDB's limit that grows with the events (about 6 GiB at 50M events). The
    database's checkpoint settings are as they were after it, and the key is in force."""
    path = tmp_path / "s.duckdb"
    store = Store(path)
    con = store.connection
    con.execute("SET checkpoint_threshold = '32MB'")
    before = con.execute(
        "SELECT current_setting('checkpoint_threshold'), "
        "current_setting('auto_checkpoint_skip_wal_threshold')"
    ).fetchall()
    chunks = [events.slice(offset, 3000) for offset in range(0, events.num_rows, 3000)]
    assert store.append_many(iter(chunks)).stored == events.num_rows
    wal = path.with_name(path.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0
    after = con.execute(
        "SELECT current_setting('checkpoint_threshold'), "
        "current_setting('auto_checkpoint_skip_wal_threshold')"
    ).fetchall()
    assert after == before
    assert store.append(events.slice(0, 10)).duplicates == 10
    store.close()
    with Store(path, read_only=True) as reopened:
        count = reopened.connection.execute("SELECT count(*) FROM events").fetchall()[0][0]
        assert count == events.num_rows
