"""Export and erasure of persons in a lake: its Parquet files and the tables Spark wrote back.

A shop on a lake keeps a person in three places: the lake's events and quarantine
(`lake/events/date=*/part-*.parquet`, store/lake.py), the derived tables Spark wrote to
`[engine] tables_path` (`<table>/v-<uuid>/`, engines/spark/lake.py), and the state file (keys,
users, stored results, and the events of a DuckDB store moved by `klantreis lake load`), which
store/privacy.py erases as any store. A Parquet file cannot lose a row in place: each file that
holds a row of the person is written again without it (hidden name, fsync, rename) and the old
file is removed, so no byte of the person is left in it, and a reader sees the old file, both
(readers keep each message id once) or the new one.

Cost. Which files hold the person is one DuckDB scan of the person columns of every file
(`read_parquet` reads those columns only, in parallel; the values are bound into the query as
literal nodes). Each matching file is then read whole and written again: a person's events lie
in the day files of the days they were active, so an erasure rewrites a few days of the lake,
not all of it. Measured (benchmarks/lake_erasure.py, docs/scaling.md "Erasure on a lake"): the
scan about 3 CPU seconds per GB of compacted events (0.34 s for 10M events in 121 MB), each
file rewritten about 110 CPU seconds per GB (0.1 s for a 0.9 MB day file of 47,000 events).

The derived tables are rewritten the same way, file by file, into a new version that `_current`
is switched to, and every other version (the one kept for readers that resolved it a moment
before) is removed, since it holds the person too. Rewritten rather than dropped: the model's
tables would come back at the next build anyway, but voice scores and discovered personas are
made by other jobs (`klantreis voice update`, ...), and a dashboard reads the tables without the
person at once instead of failing until those ran. The model's fingerprint is cleared, as on
DuckDB, so the next build recomputes everything from the events that remain.

Collectors keep writing during an erasure: they only add files, the files listed at its start
are the ones searched, and a file written after it is not touched, so nothing acknowledged is
lost. An event of the erased person that arrives meanwhile or later is kept, as on DuckDB
(DESIGN.md: every accepted event is stored): with the erased ids gone from the model, it starts
a new person. A compaction waits for the erasure (`Lake.maintenance`): it would otherwise copy
rows from a file being rewritten into its merged file. A crash part way leaves each file whole
(old or new); running the same erasure again finishes it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

from klantreis.store import privacy
from klantreis.store.engines.base import Engine
from klantreis.store.engines.spark.lake import Shelf
from klantreis.store.lake import EVENTS, QUARANTINED, Lake, replace_durably, write_durably
from klantreis.store.privacy import PersonIds
from klantreis.store.schema import TABLES, TableSpec
from klantreis.store.store import Store

LAKE_TABLES = {EVENTS: "events", QUARANTINED: "quarantine"}
"""The lake's folders of rows about persons, and the declared table whose columns they have.
`products/` (the catalogue) and `_keys.json` (hashed write keys) hold nothing about a person."""


@dataclass(frozen=True)
class LakePlaces:
    """Where a shop on a lake keeps personal data besides its state file."""

    lake: Path
    tables: Path | None = None
    """`[engine] tables_path`: the derived tables Spark wrote back, if configured."""


@contextmanager
def _scanner() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true").fetchall()
        yield con
    finally:
        con.close()


def _read(files: list[Path], **options: bool) -> str:
    """`read_parquet` over bound `$files`; hive columns (`date=`) left out: not in the rows."""
    extra = "".join(f", {name} = {str(value).lower()}" for name, value in options.items())
    return f"read_parquet($files, hive_partitioning = false, union_by_name = true{extra})"


def _matches(
    con: duckdb.DuckDBPyConnection, files: list[Path], condition: exp.Condition
) -> dict[Path, int]:
    """Rows about the person in each of `files` that has any (a scan of the person columns)."""
    if not files:
        return {}
    rows = con.execute(
        f"SELECT filename, count(*) FROM {_read(files, filename=True)} "  # noqa: S608
        f"WHERE {condition.sql('duckdb')} GROUP BY filename",  # values are literal nodes
        {"files": [str(f) for f in files]},
    ).fetchall()
    return {Path(name): int(n) for name, n in rows}


def _rows(
    con: duckdb.DuckDBPyConnection, files: list[Path], condition: exp.Condition
) -> list[dict[str, Any]]:
    if not files:
        return []
    table = con.sql(
        f"SELECT * FROM {_read(files)} WHERE {condition.sql('duckdb')}",  # noqa: S608
        params={"files": [str(f) for f in files]},
    ).to_arrow_table()
    return list(table.to_pylist())


def _without(
    con: duckdb.DuckDBPyConnection,
    file: Path,
    rows: exp.Condition | None,
    lists: exp.Condition | None,
    spec: TableSpec,
    who: PersonIds,
) -> tuple[pa.Table, int]:
    """`file`'s rows less the person's, and the person taken out of JSON arrays that name
    them; how many rows were dropped or changed. Read with pyarrow and filtered by a mask, so
    the file's own schema (Spark's types, kept in its metadata) is written back as it was."""
    table = pq.ParquetFile(file, coerce_int96_timestamp_unit="us").read()
    drop = (rows or exp.false()).sql("duckdb")
    listed = (lists or exp.false()).sql("duckdb")
    con.register("_kr_file", table)
    try:
        masks = con.sql(
            f"SELECT ({drop}) IS TRUE AS drop_row, ({listed}) IS TRUE AS listed "  # noqa: S608
            "FROM _kr_file"
        ).to_arrow_table()
    finally:
        con.unregister("_kr_file")
    if masks.num_rows != table.num_rows:  # never seen: the mask must line up with the rows
        raise RuntimeError(f"erasure stopped: {file} changed while it was read")
    dropped = pc.sum(masks["drop_row"]).as_py() or 0
    keep = pc.invert(masks["drop_row"])
    kept = table.filter(keep)
    listed_kept = masks["listed"].filter(keep)
    changed = pc.sum(listed_kept).as_py() or 0
    if changed:
        for column in spec.person_list_columns:
            at = kept.schema.get_field_index(column)
            values = [
                _taken_out(value, who) if hit else value
                for value, hit in zip(
                    kept[column].to_pylist(), listed_kept.to_pylist(), strict=True
                )
            ]
            kept = kept.set_column(at, kept.schema.field(at), pa.array(values, kept[column].type))
    return kept, int(dropped) + int(changed)


def _taken_out(value: str | None, who: PersonIds) -> str | None:
    names = json.loads(value or "[]")
    if not isinstance(names, list):
        return "[]"
    return json.dumps([n for n in names if n not in who.every])


def _parts(version: Path) -> list[Path]:
    """The data files of a derived table's version (Spark's `_SUCCESS` and `.crc` left out)."""
    return sorted(f for f in version.glob("*.parquet") if not f.name.startswith((".", "_")))


def _spec(name: str, files: list[Path]) -> TableSpec:
    """The person columns of a derived table as Spark wrote it: the declared table's that
    its files have; for a table only the lake has, those any declared table names so."""
    columns = set(pq.read_schema(files[0]).names) if files else set()
    declared = TABLES.get(name)
    if declared is None:
        return TableSpec(
            name,
            person_columns=tuple(
                sorted(columns & {c for s in TABLES.values() for c in s.person_columns})
            ),
            person_id_columns=tuple(
                sorted(columns & {c for s in TABLES.values() for c in s.person_id_columns})
            ),
        )
    return dataclasses.replace(
        declared,
        person_columns=tuple(c for c in declared.person_columns if c in columns),
        person_id_columns=tuple(c for c in declared.person_id_columns if c in columns),
        person_list_columns=tuple(c for c in declared.person_list_columns if c in columns),
    )


def _conditions(
    name: str, who: PersonIds, spec: TableSpec
) -> tuple[exp.Condition | None, exp.Condition | None]:
    return privacy._row_condition(name, who, spec), privacy._list_condition(name, who, spec)


def resolve(store: Store, places: LakePlaces, persons: list[str]) -> PersonIds:
    """All ids of `persons`: through the state file's `identities` (a model built on DuckDB
    before the move to the lake) and the `identities` Spark wrote to the lake. Without a model
    only the ids given are known (as on DuckDB): build the model before erasing."""
    who = privacy.resolve_all(store, persons)
    shelf = Shelf(places.tables) if places.tables is not None else None
    current = shelf.current("identities") if shelf is not None else None
    files = _parts(current) if current is not None else []
    if not files:
        return who
    with _scanner() as con:
        params = {"files": [str(f) for f in files], "ids": sorted(who.every)}
        found = con.execute(
            f"SELECT DISTINCT person_id FROM {_read(files)} "  # noqa: S608 - static
            "WHERE list_contains($ids, id) OR list_contains($ids, person_id)",
            params,
        ).fetchall()
        person_ids = {str(row[0]) for row in found if row[0] is not None}
        if person_ids:
            ids = con.execute(
                f"SELECT DISTINCT id FROM {_read(files)} "  # noqa: S608 - static
                "WHERE list_contains($persons, person_id)",
                {"files": params["files"], "persons": sorted(person_ids)},
            ).fetchall()
            who.ids |= {str(row[0]) for row in ids if row[0] is not None}
            who.person_ids |= person_ids
    return who


def _involved(
    con: duckdb.DuckDBPyConnection, files: list[Path], who: PersonIds, shelf: Shelf | None
) -> frozenset[str]:
    """The erasure steps (a voice model trained on the person's reviews) the person fed from
    the lake's events: each step asks its question of a view `events` over `files`, the event
    files that hold the person (the others cannot answer yes; asked of every file, the
    question read twice the columns the search for the person did)."""
    from klantreis.store.engines.duckdb import DuckDBEngine

    if not files:
        return frozenset()
    for name in shelf.names() if shelf is not None else []:
        # The derived tables as views too: a step's question may be about a stored result
        # (a stored map counted everyone's events and may quote them).
        current = shelf.current(name) if shelf is not None else None
        parts = _parts(current) if current is not None else []
        if parts and name != "events":
            listed = exp.Array(expressions=[exp.convert(str(f)) for f in parts])
            table = exp.select("*").from_(exp.Anonymous(this="read_parquet", expressions=[listed]))
            con.execute(f"CREATE OR REPLACE VIEW {name} AS {table.sql('duckdb')}").fetchall()
    source = exp.Anonymous(
        this="read_parquet",
        expressions=[
            exp.Array(expressions=[exp.convert(str(f)) for f in files]),
            exp.EQ(this=exp.column("hive_partitioning"), expression=exp.false()),
        ],
    )
    view = exp.select("*").from_(source).sql("duckdb")
    con.execute(f"CREATE OR REPLACE VIEW events AS {view}").fetchall()
    events = _LakeEvents(DuckDBEngine(con))
    return frozenset(
        step.table for step in privacy.ERASURE_STEPS.values() if step.involved(events, who)
    )


@dataclass(frozen=True)
class _LakeEvents:
    """The lake's files as `events`, for an erasure step's question (`privacy.Searched`)."""

    engine: Engine


def _found(
    con: duckdb.DuckDBPyConnection, lake: Lake, who: PersonIds
) -> dict[str, dict[Path, int]]:
    """Per folder of the lake (`events`, `quarantine`), the files holding rows of the person."""
    found: dict[str, dict[Path, int]] = {}
    for root, name in LAKE_TABLES.items():
        rows, _ = _conditions(name, who, TABLES[name])
        found[root] = _matches(con, lake.files(root), rows) if rows is not None else {}
    return found


def _erase_lake_files(
    con: duckdb.DuckDBPyConnection, lake: Lake, who: PersonIds, found: dict[str, dict[Path, int]]
) -> dict[str, int]:
    changed: dict[str, int] = {}
    for root, name in LAKE_TABLES.items():
        spec = TABLES[name]
        rows, _ = _conditions(name, who, spec)
        for file, count in sorted(found[root].items()):
            if lake.is_replaced(file):  # merged into a compacted file, which is rewritten
                lake.replace_file(file, None)
                continue
            kept, _ = _without(con, file, rows, None, spec, who)
            lake.replace_file(file, kept)
            changed[f"lake/{root}"] = changed.get(f"lake/{root}", 0) + count
    return changed


def _erase_shelf(con: duckdb.DuckDBPyConnection, shelf: Shelf, who: PersonIds) -> dict[str, int]:
    """Each derived table holding the person as a new version without them; every other
    version of that table removed."""
    changed: dict[str, int] = {}
    for name in shelf.names():
        folder = shelf.root / name
        current = shelf.current(name)
        versions = sorted(d for d in folder.glob("v-*") if d.is_dir())
        spec = _spec(name, _parts(current) if current is not None else [])
        rows, lists = _conditions(name, who, spec)
        found = [c for c in (rows, lists) if c is not None]
        if not found:
            continue
        condition = exp.or_(*found)
        hits = {v: _matches(con, _parts(v), condition) for v in versions}
        if not any(hits.values()):
            continue
        if current is not None and hits.get(current):
            version = f"v-{uuid.uuid4().hex}"
            fresh = folder / version
            fresh.mkdir()
            count = 0
            for file in _parts(current):
                if file in hits[current]:
                    kept, n = _without(con, file, rows, lists, spec, who)
                    write_durably(fresh, kept, "part-")
                    count += n
                else:
                    _link(file, fresh / file.name)
            _fsync_folder(fresh)
            replace_durably(folder / "_current", version.encode())
            changed[f"lake/tables/{name}"] = count
            current = fresh
        for stale in versions:
            if stale != current:
                shutil.rmtree(stale, ignore_errors=True)
        _fsync_folder(folder)
    return changed


def _drop_stored_results(shelf: Shelf, involved: frozenset[str]) -> dict[str, int]:
    """The derived tables of the erasure steps the person is involved in (the stored journey
    maps) removed whole, every version: a stored map counted the person's events and may quote
    their words in a text with no person column to filter on, so it goes as its rows go on
    DuckDB (the step's own erasure), and the next `map` computes it again from what remains."""
    dropped: dict[str, int] = {}
    for name in sorted(involved & set(shelf.names())):
        folder = shelf.root / name
        current = shelf.current(name)
        files = _parts(current) if current is not None else []
        dropped[f"lake/tables/{name}"] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        (folder / "_current").unlink()
        shutil.rmtree(folder, ignore_errors=True)
        _fsync_folder(shelf.root)
    return dropped


def _link(source: Path, target: Path) -> None:
    """An unchanged file of a derived table into its new version: a hard link where the file
    system has them (no copy, and removing the old version leaves the data), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def erase_persons(store: Store, places: LakePlaces, persons: list[str]) -> dict[str, int]:
    """Remove persons from the lake's files, the derived tables in it and the state file;
    returns rows changed per place (`lake/events`, `lake/tables/journeys`, `events`, ...)."""
    lake = Lake(places.lake)
    shelf = Shelf(places.tables) if places.tables is not None else None
    with lake.maintenance():
        who = resolve(store, places, persons)
        with _scanner() as con:
            found = _found(con, lake, who)
            live = [f for f in found[EVENTS] if not lake.is_replaced(f)]
            involved = _involved(con, live, who, shelf)
            changed = _erase_lake_files(con, lake, who, found)
            if shelf is not None:
                changed.update(_erase_shelf(con, shelf, who))
        if shelf is not None and (changed or involved):
            changed.update(_drop_stored_results(shelf, involved))
            shelf.update_state({"model_fingerprint": ""})
        for name, count in privacy.erase_ids(store, who, involved).items():
            changed[name] = changed.get(name, 0) + count
    return changed


def export_person(store: Store, places: LakePlaces, person: str) -> dict[str, Any]:
    """Everything stored about a person in the state file, the lake and its derived tables."""
    lake = Lake(places.lake)
    who = resolve(store, places, [person])
    who.person = person
    out = privacy.export_ids(store, who)
    tables: dict[str, Any] = out["tables"]
    with _scanner() as con:
        for root, name in LAKE_TABLES.items():
            rows, _ = _conditions(name, who, TABLES[name])
            files = lake.live_files() if root == EVENTS else lake.files(root)
            if rows is not None and (found := _rows(con, files, rows)):
                tables[f"lake/{root}"] = found
        shelf = Shelf(places.tables) if places.tables is not None else None
        for name in shelf.names() if shelf is not None else []:
            current = shelf.current(name) if shelf is not None else None
            files = _parts(current) if current is not None else []
            conditions = [c for c in _conditions(name, who, _spec(name, files)) if c is not None]
            if conditions and (found := _rows(con, files, exp.or_(*conditions))):
                tables[f"lake/tables/{name}"] = found
    return out
