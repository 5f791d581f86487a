"""The built-in REES46 mapping on the real event-log head, checked against pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from importing import events, quarantine

from klantreis.collect.imports import import_file
from klantreis.store import Store

NAMES = {
    "view": "Product Viewed",
    "cart": "Product Added",
    "remove_from_cart": "Product Removed",
    "purchase": "Order Completed",
}


def test_counts_ids_and_reimport(rees46_file: Path, store):
    summary = import_file(store, rees46_file, "rees46")
    again = import_file(store, rees46_file, "rees46")

    # An independent read: pandas skips the truncated last line the way a person would see it.
    log = pd.read_csv(rees46_file, dtype=str, on_bad_lines="skip")
    complete = log.dropna(subset=["user_session"])
    made = complete["event_type"].map(NAMES).value_counts().to_dict()
    assert dict(summary.events_by_name) == made
    key = ["event_type", "user_session", "product_id", "event_time"]
    distinct = complete.drop_duplicates(key)["event_type"].map(NAMES).value_counts().to_dict()
    stored = dict(
        store.connection.execute("SELECT event, count(*) FROM events GROUP BY event").fetchall()
    )
    assert stored == distinct
    # Rows that repeat the same user, session, product, type and second are one event.
    assert summary.duplicates == len(complete) - len(complete.drop_duplicates(key))
    assert again.events_stored == 0 and again.duplicates == summary.events

    (bad,) = quarantine(store)  # the file's last line is cut off (8 of 9 fields)
    line_count = rees46_file.read_bytes().count(b"\n") + 1
    assert bad["line"] == line_count
    assert bad["column_name"] == "user_session"
    assert bad["reason"].startswith("malformed CSV row")
    assert bad["raw"].startswith("2019-10-01 02:50:00 UTC,view,10900305")


def test_purchase_becomes_an_order(rees46_file: Path, store):
    import_file(store, rees46_file, "rees46")
    log = pd.read_csv(rees46_file, dtype=str, on_bad_lines="skip")
    purchase = log[log["event_type"] == "purchase"].iloc[0]
    order_id = f"{purchase['user_session']}:{purchase['product_id']}"
    (order,) = [
        e for e in events(store, "Order Completed") if e["properties"]["order_id"] == order_id
    ]
    assert order["user_id"] == purchase["user_id"]
    assert order["channel"] == "web"
    assert str(order["timestamp"]) == purchase["event_time"].removesuffix(" UTC")
    props = order["properties"]
    assert props["product_id"] == purchase["product_id"]
    assert props["price"] == float(purchase["price"])
    assert props["session_id"] == purchase["user_session"]
    assert props["brand"] == (None if pd.isna(purchase["brand"]) else purchase["brand"])


def test_broken_copies_of_real_rows(rees46_file: Path, tmp_path: Path, store):
    lines = rees46_file.read_text().splitlines()
    header, rows = lines[0], lines[1:201]
    broken = list(rows)
    fields = broken[10].split(",")
    fields[0] = "2019-10-01 25:61:00 UTC"
    broken[10] = ",".join(fields)
    fields = broken[20].split(",")
    fields[7] = ""  # user_id
    broken[20] = ",".join(fields)
    fields = broken[30].split(",")
    fields[6] = "12.3O"  # letter O, not zero
    broken[30] = ",".join(fields)
    fields = broken[40].split(",")
    fields[1] = "wishlist"
    broken[40] = ",".join(fields)
    file = tmp_path / "rees46.csv"
    file.write_text("\n".join([header, *broken]) + "\n")

    summary = import_file(store, file, "rees46")
    bad = {q["line"]: (q["column_name"], q["reason"]) for q in quarantine(store)}
    assert bad == {
        12: (
            "event_time",
            'not a timestamp in format %Y-%m-%d %H:%M:%S UTC: "2019-10-01 25:61:00 UTC"',
        ),
        22: ("user_id", "missing user id (user_id)"),
        32: ("price", 'not a number: "12.3O"'),
        42: ("event_type", 'no event name for value: "wishlist"'),
    }
    assert summary.rows_read == 200
    assert summary.events == 196
    assert all(q["file"] == str(file) for q in quarantine(store))


def test_a_new_store_loads_the_whole_file_in_bulk(rees46_file: Path, store, monkeypatch):
    """Into a new store the file is one bulk load, the message-id key built once at the end;
    appending batch by batch against the key costs three times the CPU and its memory grows
    with every batch (50M events, docs/scaling.md). Into a store with events each batch is
    appended against the key, so a second import stores nothing again."""
    appended: list[int] = []
    append = Store._append

    def counted(self: Store, events):  # the batch-by-batch path, counted, then taken
        appended.append(events.num_rows)
        return append(self, events)

    monkeypatch.setattr(Store, "_append", counted)
    # 18 batches of 1,000 rows (17,429 events): batches of 100 cost 8x the CPU in the reading
    summary = import_file(store, rees46_file, "rees46", batch_rows=1_000)
    assert appended == []
    assert summary.events_stored > 100 and summary.duplicates > 0
    key = store.connection.execute(
        "SELECT count(*) FROM duckdb_constraints() "
        "WHERE table_name = 'events' AND constraint_type = 'PRIMARY KEY'"
    ).fetchall()[0][0]
    assert key == 1
    # batches of 5,000 rows: four appends against the key (170 of 100 rows were half its CPU)
    again = import_file(store, rees46_file, "rees46", batch_rows=5_000)
    assert len(appended) > 1 and again.events_stored == 0
    assert again.duplicates == summary.events
