"""Where `klantreis import` writes: the store, or a lake by way of a store of its own.

An import into a lake runs exactly as into a store (the same readers, mapping, validation and
quarantine, and a repeated message id within the files stored once), into a temporary DuckDB
file beside the lake; what it stored then goes into the lake as Parquet files per day.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from klantreis.present.cli.options import open_store
from klantreis.store import Store

BATCH_ROWS = 1_000_000
"""Events per Parquet file (per day) moved from the import's store into the lake."""


@contextmanager
def import_target(store: Path | None) -> Iterator[Store]:
    """The store an import writes to; with `[store] kind = "lake"`, one that empties into it."""
    from klantreis.config import StoreSettings, load_settings

    settings = load_settings(store)
    lake = settings.section(StoreSettings).lake if store is None else None
    if lake is None:
        with open_store(store, create=True) as handle:
            yield handle
        return
    lake.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=lake) as work:
        handle = Store.configured(settings, Path(work) / "import.duckdb")
        try:
            yield handle
            into_lake(handle, lake)
        finally:
            handle.close()


def into_lake(store: Store, lake: Path) -> dict[str, int]:
    """Every event and quarantined row of `store` as Parquet files in `lake`; rows per table."""
    import pyarrow as pa

    from klantreis.store.lake import Lake

    target = Lake(lake)
    con = store.connection
    moved = {"events": 0, "quarantine": 0, "products": 0}
    if store.engine.has_table("events"):
        for batch in con.table("events").to_arrow_reader(BATCH_ROWS):
            moved["events"] += target.append(pa.Table.from_batches([batch])).stored
    if store.engine.has_table("quarantine"):
        moved["quarantine"] = target.quarantine_table(con.table("quarantine").to_arrow_table())
    # The catalogue of an Olist or product import: a table of its own in the lake.
    if store.engine.has_table("products"):
        products = con.table("products").to_arrow_table()
        target.append_products(products)
        moved["products"] = products.num_rows
    return moved


MOVED_TABLES = ("events", "events_staged", "quarantine", "products")
"""What `into_lake` moves (events staged by a collector were merged when the store opened)."""


def drop_moved(store: Store) -> list[str]:
    """Delete what `into_lake` moved from `store`, drop the model's tables made from it (the
    lake's model is built from the lake), and rewrite the file: DuckDB leaves deleted rows
    readable in freed blocks until then (store/privacy.py), and every event left in the old
    store would be one more copy an erasure must reach. Returns the tables dropped.

    Kept: what is not made from events alone (keys, users, the inbox's cases with their
    notes, voice scores, personas); `klantreis erase` reaches those in the state file."""
    from klantreis.privacy import declared_tables
    from klantreis.store.store import REWRITE_PENDING

    derived = [n for n, spec in declared_tables().items() if spec.derived]
    dropped = [n for n in derived if store.engine.has_table(n)]
    with store.write_lock, store.merge_lock:
        store.set_meta(REWRITE_PENDING, "lake load")
        store.set_meta("model_fingerprint", "")
        for name in MOVED_TABLES:
            if store.engine.has_table(name):
                store.connection.execute(f"DELETE FROM {name}").fetchall()  # noqa: S608 - static
        for name in dropped:
            store.connection.execute(f'DROP TABLE "{name}"').fetchall()
        store.rewrite()
    return dropped
