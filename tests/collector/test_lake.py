"""Two real collector processes write into one lake side by side; compaction keeps each
message id once; an import writes there too."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import duckdb
import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from servers import NO_WARM_UP, Server, cli

from klantreis.store import Store
from klantreis.store.lake import Lake


def _config(tmp_path: Path, state: Path) -> str:
    lake = tmp_path / "lake"
    return f'[store]\nkind = "lake"\npath = "{lake}"\nstate = "{state}"\n' + NO_WARM_UP


def _events(path: Path) -> list[dict]:
    con = duckdb.connect()
    files = [str(f) for f in sorted(path.glob("events/date=*/part-*.parquet"))]
    if not files:
        return []
    return (
        con.sql(
            "SELECT message_id, event, timestamp, received_at, filename FROM read_parquet($f, "
            "filename = true, hive_partitioning = false) ORDER BY message_id, received_at",
            params={"f": files},
        )
        .to_arrow_table()
        .to_pylist()
    )


def test_two_collectors_write_one_lake_and_compaction_keeps_each_message_once(tmp_path):
    state = tmp_path / "state.duckdb"
    lake = tmp_path / "lake"
    config = _config(tmp_path, state)
    first = Server(state, config=config).create_keys()
    second = Server(state, config=config)
    second.write_key = first.write_key
    first.start()
    second.start()
    try:
        sent: dict[str, int] = {}
        repeated = f"repeat-{uuid.uuid4().hex}"

        def send(server: Server, worker: int) -> None:
            for round_ in range(10):
                ids = [f"w{worker}-{round_}-{i}" for i in range(20)]
                batch = [
                    {
                        "type": "track",
                        "userId": f"u{i}",
                        "event": "Product Viewed",
                        "messageId": mid,
                        # two days, so each batch becomes one file per day
                        "timestamp": f"2026-03-0{1 + i % 2}T10:00:00Z",
                    }
                    for i, mid in enumerate(ids)
                ]
                batch.append({"type": "track", "event": "No person", "messageId": "bad"})
                batch.append(
                    {
                        "type": "track",
                        "userId": "r",
                        "event": "Retried",
                        "messageId": repeated,
                        "timestamp": "2026-03-01T09:00:00Z",
                    }
                )
                while True:  # as a tracking SDK does: a busy collector is asked again
                    response = httpx.post(
                        f"{server.url}/v1/batch",
                        content=orjson.dumps({"batch": batch}),
                        auth=(server.write_key, ""),
                        timeout=120,
                    )
                    if response.status_code not in (429, 503):
                        break
                    time.sleep(float(response.headers.get("retry-after", "1")))
                assert response.status_code == 200, response.text
                # acknowledged means on disk: the files are there before the next request
                sent.update(dict.fromkeys(ids, 1))

        failures: list[BaseException] = []

        def sender(server: Server, worker: int) -> None:
            try:
                send(server, worker)
            except BaseException as exc:  # a thread's error is otherwise lost to the test
                failures.append(exc)

        threads = [
            threading.Thread(target=sender, args=(server, n))
            for n, server in enumerate((first, second, first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures
    finally:
        first.stop()
        second.stop()

    rows = _events(lake)
    assert {r["message_id"] for r in rows} == set(sent) | {repeated}
    assert sum(r["message_id"] == repeated for r in rows) == 40  # every retry was written
    assert not list(lake.rglob(".*.tmp"))  # no half-written file left behind
    days = sorted(p.name for p in (lake / "events").iterdir())
    assert days == ["date=2026-03-01", "date=2026-03-02"]
    quarantined = pq.read_table(lake / "quarantine").to_pylist()
    assert len(quarantined) == 40 and {q["column_name"] for q in quarantined} == {"userId"}

    first_received = min(r["received_at"] for r in rows if r["message_id"] == repeated)
    result = cli("lake", "compact", str(lake), "--grace", "0", "--json", check=True)
    summary = orjson.loads(result.stdout)
    assert summary["repeats_dropped"] == 39 and summary["days"] == ["2026-03-01", "2026-03-02"]
    live = Lake(lake).live_files()
    assert len(live) == 2 and all(f.name.startswith("part-c-") for f in live)
    # the replaced files stay for readers until a later compaction, past the grace period
    assert len(list(lake.glob("events/date=*/part-*.parquet"))) > 2
    assert (
        orjson.loads(cli("lake", "compact", str(lake), "--grace", "0", "--json").stdout)[
            "files_removed"
        ]
        > 0
    )
    rows = _events(lake)
    assert len(rows) == len(sent) + 1 == len({r["message_id"] for r in rows})
    kept = next(r for r in rows if r["message_id"] == repeated)
    assert kept["received_at"] == first_received  # the first received wins


def test_compaction_again_after_new_events_keeps_every_event_once(tmp_path):
    from datetime import datetime

    import pyarrow as pa

    from klantreis.store.schema import EVENT_ARROW_SCHEMA

    def batch(ids: list[str], received: datetime) -> pa.Table:
        rows = [
            {
                "message_id": mid,
                "type": "track",
                "event": "Product Viewed",
                "user_id": "u",
                "timestamp": datetime(2026, 3, 1, 10, 0),
                "received_at": received,
                "source": "test",
            }
            for mid in ids
        ]
        return pa.Table.from_pylist(rows, schema=EVENT_ARROW_SCHEMA)

    lake = Lake(tmp_path / "lake")
    lake.append(batch(["a", "b"], datetime(2026, 3, 1, 10, 1)))
    lake.append(batch(["b", "c"], datetime(2026, 3, 1, 10, 2)))
    assert lake.compact(grace_seconds=0).repeats_dropped == 1
    lake.append(batch(["c", "d"], datetime(2026, 3, 1, 10, 3)))  # after the first compaction
    second = lake.compact(grace_seconds=0)
    assert second.repeats_dropped == 1 and second.files_removed == 2
    assert lake.compact(grace_seconds=0).files_removed == 2
    rows = _events(lake.path)
    assert [(r["message_id"], r["received_at"].minute) for r in rows] == [
        ("a", 1),
        ("b", 1),
        ("c", 2),
        ("d", 3),
    ]
    assert len(lake.live_files()) == 1


def test_import_writes_into_the_lake(tmp_path):
    lake = tmp_path / "lake"
    config = tmp_path / "klantreis.toml"
    config.write_text(f'[store]\nkind = "lake"\npath = "{lake}"\n')
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer,placed_at,total\n"
        "o1,anna,2026-03-01 10:00:00,10.5\n"
        "o2,bo,2026-03-02 11:00:00,20\n"
        "o3,,not a date,1\n"
    )
    mapping = tmp_path / "orders.yaml"
    mapping.write_text(
        "name: orders\n"
        "format: csv\n"
        "user_id: customer\n"
        "events:\n"
        "  - event: Order Completed\n"
        "    timestamp: {column: placed_at}\n"
        '    message_id: "order:{order_id}"\n'
        "    properties:\n"
        "      order_id: order_id\n"
        "      total: {column: total, type: number}\n"
    )
    result = cli(
        "import",
        "csv",
        str(orders),
        "--mapping",
        str(mapping),
        "--json",
        env={"KLANTREIS_CONFIG": str(config)},
    )
    assert result.returncode == 0, result.stderr
    rows = _events(lake)
    assert sorted(r["event"] for r in rows) == ["Order Completed", "Order Completed"]
    assert sorted(p.name for p in (lake / "events").iterdir()) == [
        "date=2026-03-01",
        "date=2026-03-02",
    ]
    assert pq.read_table(lake / "quarantine").num_rows == 1
    assert not list(lake.glob(".import-*"))  # the import's own store is gone


def _catalogue(prices: dict[str, float], imported: int) -> pa.Table:
    from datetime import datetime

    from klantreis.collect.catalogue.table import PRODUCT_SCHEMA

    rows = [
        {"product_id": pid, "name": pid, "price": price, "source": "test"}
        | {"imported_at": datetime(2026, 3, 1, imported)}
        for pid, price in prices.items()
    ]
    return pa.Table.from_pylist(rows, schema=PRODUCT_SCHEMA)


def test_a_product_imported_again_is_kept_once_by_compaction_with_its_latest_import(tmp_path):
    lake = Lake(tmp_path / "lake")
    assert lake.append_products(_catalogue({}, 9)) is None  # nothing to write, no empty file
    lake.append_products(_catalogue({"p1": 10.0, "p2": 20.0}, 9))
    lake.append_products(_catalogue({"p2": 25.0, "p3": 30.0}, 11))  # a newer export
    assert len(lake.product_files()) == 2

    summary = lake.compact(grace_seconds=0)
    assert (summary.products_kept, summary.product_versions_dropped) == (3, 1)
    (merged,) = lake.product_files()
    merged_rows = pq.read_table(merged, columns=["product_id", "price"]).to_pylist()
    prices = {row["product_id"]: row["price"] for row in merged_rows}
    assert prices == {"p1": 10.0, "p2": 25.0, "p3": 30.0}
    assert lake.compact(grace_seconds=0).files_removed == 2  # the replaced files, later
    assert [f.name for f in lake.products_path.glob("*.parquet")] == [merged.name]
    assert lake.compact(grace_seconds=0).products_kept == 0  # merged already: left alone


def _post_until(server: Server, key: str, status: int, *, seconds: float = 20) -> int:
    """POST one event with `key` until the collector answers `status` (a key made or revoked
    by another process reaches it within its reload interval), or `seconds` have passed."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        response = httpx.post(
            f"{server.url}/v1/track",
            content=orjson.dumps(
                {"userId": "u1", "event": "Product Viewed", "messageId": uuid.uuid4().hex}
            ),
            auth=(key, ""),
            timeout=30,
        )
        if response.status_code == status or time.monotonic() > deadline:
            return response.status_code
        time.sleep(0.5)


def test_the_cli_writes_the_state_beside_running_collectors_which_see_new_keys(tmp_path):
    """A shop runs two collectors into its lake and, at the same time, the commands that write
    the state file (a new key, an analysis); no collector holds the state open, and a key
    made or revoked reaches the running collectors without a restart."""
    state = tmp_path / "state.duckdb"
    lake = tmp_path / "lake"
    first = Server(state, config=_config(tmp_path, state))
    env = {"KLANTREIS_CONFIG": first.env["KLANTREIS_CONFIG"]}
    first.write_key = cli("keys", "create", "--name", "shop", env=env, check=True).stdout.strip()
    assert (lake / "_keys.json").exists()  # published for the collectors
    assert first.write_key not in (lake / "_keys.json").read_text()  # hashes only
    second = Server(state, config=None, env=env)
    first.start()
    second.start()
    try:
        for server in (first, second):
            assert _post_until(server, first.write_key, 200, seconds=0) == 200
        made = cli("keys", "create", "--name", "app", env=env)
        assert made.returncode == 0, made.stderr  # the state is not held by a collector
        later = made.stdout.strip()
        for server in (first, second):
            assert _post_until(server, later, 200) == 200
        # an analysis command opens the state read-write beside them
        stats = cli("stats", "--json", env=env)
        assert stats.returncode == 0, stats.stderr
        revoked = cli("keys", "revoke", "app", env=env)
        assert revoked.returncode == 0, revoked.stderr
        for server in (first, second):
            assert _post_until(server, later, 401) == 401
        assert _post_until(first, first.write_key, 200, seconds=0) == 200
    finally:
        first.stop()
        second.stop()
    assert len(_events(lake)) >= 5


def test_a_collector_publishes_keys_made_before_the_lake_had_them(tmp_path):
    """Keys made through the Python API (or before keys were published) reach the lake when
    the first collector starts; the state is opened read-only for that moment only."""
    state = tmp_path / "state.duckdb"
    server = Server(state, config=_config(tmp_path, state)).create_keys()
    server.start()
    try:
        assert _post_until(server, server.write_key, 200, seconds=0) == 200
        assert _post_until(server, server.read_key, 401, seconds=0) == 401  # a read key
        answer = httpx.get(f"{server.url}/api/stats", auth=(server.read_key, ""), timeout=30)
        assert answer.status_code == 503 and "lake" in answer.json()["error"]
        with Store(state) as handle:  # the state is free while the collector runs
            assert handle.engine.scalar("SELECT count(*) FROM api_keys") == 2
    finally:
        server.stop()
