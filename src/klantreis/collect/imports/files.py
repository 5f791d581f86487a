"""Import any CSV / JSON-lines / Parquet export through a declarative mapping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from klantreis.collect.imports.mapping import Mapping, load_mapping
from klantreis.collect.imports.quarantine import QuarantineBuffer
from klantreis.collect.imports.readers import Source
from klantreis.collect.imports.summary import ImportSummary, Progress
from klantreis.collect.imports.tabular import BATCH_TABLE, compile_mapping
from klantreis.store import Store
from klantreis.store.store import utcnow

BATCH_ROWS = 200_000


def import_file(
    store: Store,
    file: str | Path,
    mapping: str | Path | dict[str, Any] | Mapping,
    *,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportSummary:
    """Read `file`, make events by `mapping`, store them; bad rows go to the quarantine.

    Raises `ImportFailed` (one line naming file and column or key) when the file or mapping
    cannot be used at all; never for a bad row.
    """
    started = time.perf_counter()
    spec, origin = load_mapping(mapping)
    path = Path(file)
    csv = spec.csv
    source = Source.open(
        path,
        spec.format,
        delimiter=csv.delimiter,
        quote=csv.quote,
        encoding=csv.encoding,
        records=spec.json_.records,
    )
    spec.check_columns(list(source.columns), path, origin)
    where = str(path.resolve())  # quarantine rows name the file the same from any directory
    label = f"import:{spec.name}:{path.name}"
    compiled = compile_mapping(spec, source.columns, source=label, file=where, received_at=utcnow())
    summary = ImportSummary(source=label, files=[str(path)])
    rejects = QuarantineBuffer(source=label)
    con = source.connection.cursor()  # the reader streams on the connection itself

    def events() -> Iterator[pa.Table]:
        for batch in whole_groups(source.batches(batch_rows), spec.group_keys()):
            con.register(BATCH_TABLE, batch)
            try:
                made = con.sql(compiled.events_sql).to_arrow_table()
                bad = con.sql(compiled.quarantine_sql).to_arrow_table()
            finally:
                con.unregister(BATCH_TABLE)
            summary.count_events(made)
            rejects.add(bad)
            rows = batch.num_rows
            # Hold no table across the yield: a local would keep this batch's events beside
            # the next batch while that is read and made (two batches in memory, not one).
            del batch, bad
            yield made
            del made
            if progress:
                progress(rows, f"reading {path.name}")

    # The whole file in one `append_many`: into a new store that is one bulk load with the
    # message-id key built once at the end; appending batch by batch against the key costs
    # three times the CPU, and the key's memory grows with every batch (docs/scaling.md).
    result = store.append_many(events())
    summary.events_stored += result.stored
    summary.duplicates += result.duplicates
    summary.rows_read = source.rows_read
    rejects.add_rejected(source.rejected(), file=where)
    rejects.write(store, summary, {where: source.rejected()})
    summary.seconds = time.perf_counter() - started
    return summary


def whole_groups(batches: Iterator[pa.Table], keys: list[str]) -> Iterator[pa.Table]:
    """Batches that never split a group: the rows of the last group of a batch (an order's
    line items, which exports write together) wait for the next batch."""
    if not keys:
        yield from batches
        return
    held: pa.Table | None = None
    for batch in batches:
        if held is not None:
            batch = pa.concat_tables([held, batch.cast(held.schema)])
            held = None
        if batch.num_rows == 0:
            continue
        last = [batch.column(key)[-1] for key in keys]
        if not all(value.is_valid for value in last):
            yield batch  # a row without a key is a group of its own
            continue
        same = None
        for key, value in zip(keys, last, strict=True):
            equal = pc.fill_null(pc.equal(batch.column(key), value), False)
            same = equal if same is None else pc.and_(same, equal)
        assert same is not None
        # The tail of rows equal to the last row's key: everything after the last other row.
        others = pc.indices_nonzero(pc.invert(same))
        start = others[-1].as_py() + 1 if len(others) else 0
        held = batch.slice(start)
        if start == 0:
            continue
        yield batch.slice(0, start)
    if held is not None:
        yield held
