"""The lake's reader (`store/lake_reader.py`) over real files: what a page computed in the
dashboard's memory does not outlive the tables it was computed from."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from klantreis.store.engines.spark.lake import Shelf
from klantreis.store.lake_reader import LakeReader


def test_what_a_page_computed_is_dropped_when_a_job_or_an_erasure_changes_the_tables(
    tmp_path: Path,
) -> None:
    tables = tmp_path / "tables"
    tables.mkdir()
    shelf = Shelf(tables)
    shelf.update_state({"model_fingerprint": "built-1"})
    reader = LakeReader(tmp_path / "lake", tables)
    values = pa.table({"person_id": ["p-erased"], "value": [12.5]})
    reader.create_table_from_arrow("customer_values", values)
    reader.refresh()  # nothing changed: kept
    assert reader.has_table("customer_values")
    # an erasure clears the model's fingerprint (store/lake_privacy.py), a build sets a new one
    shelf.update_state({"model_fingerprint": ""})
    reader.refresh()
    assert not reader.has_table("customer_values")
    assert reader.get_state("model_fingerprint") == ""


def test_a_table_removed_whole_is_no_longer_read(tmp_path: Path) -> None:
    """An erasure removes the stored maps whole (every version and `_current`): the reader
    drops its view rather than reading files that are gone."""
    import shutil

    tables = tmp_path / "tables"
    version = tables / "journey_maps" / "v-1"
    version.mkdir(parents=True)
    pq.write_table(pa.table({"key": ["six-phase"], "map": ["{}"]}), version / "part-0.parquet")
    (tables / "journey_maps" / "_current").write_text("v-1")
    reader = LakeReader(tmp_path / "lake", tables)
    assert reader.rows("SELECT key FROM journey_maps") == [{"key": "six-phase"}]
    shutil.rmtree(tables / "journey_maps")
    reader.refresh()
    assert not reader.has_table("journey_maps")


def _version(tables: Path, name: str, version: str, rows: pa.Table) -> None:
    """A table's version written as a job writes it: the files, then `_current` naming it."""
    from klantreis.store.lake import replace_durably

    (tables / name / version).mkdir(parents=True)
    pq.write_table(rows, tables / name / version / "part-0.parquet")
    replace_durably(tables / name / "_current", version.encode())


def _aged(folder: Path) -> None:
    """Every folder under `folder` as last changed an hour ago (as a lake no job wrote for a
    while), so what the reader keeps of it is not held back as too recent."""
    import os
    import time

    hour_ago = time.time() - 3600
    for each in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        os.utime(each, (hour_ago, hour_ago))
    os.utime(folder, (hour_ago, hour_ago))


def test_a_table_a_page_computed_in_place_of_a_stored_one_is_kept_until_a_job_writes(
    tmp_path: Path,
) -> None:
    """A page that computes a stored table anew (a scorecard of other cases) keeps it while
    nothing changed; a job's new fingerprints bring back the stored version."""
    tables = tmp_path / "tables"
    _version(tables, "expectation_scorecards", "v-1", pa.table({"key": ["stored"]}))
    shelf = Shelf(tables)
    shelf.update_state({"model_fingerprint": "built-1"})
    reader = LakeReader(tmp_path / "lake", tables)
    reader.create_table_from_arrow("expectation_scorecards", pa.table({"key": ["computed"]}))
    reader.refresh()
    assert reader.rows("SELECT key FROM expectation_scorecards") == [{"key": "computed"}]
    shelf.update_state({"model_fingerprint": "built-2"})
    reader.refresh()
    assert reader.rows("SELECT key FROM expectation_scorecards") == [{"key": "stored"}]
    assert reader.has_table("expectation_scorecards")


def test_the_lakes_files_are_listed_again_only_when_a_job_or_a_collector_wrote(
    tmp_path: Path,
) -> None:
    """A warm page reads the modification times of the lake's folders, not every file: the
    event files are listed once while no day folder changed, and a new batch, an erasure's
    rewrite of a file and a job's new version are seen at the next request."""
    from stories import story
    from web.shop import shop_story

    from klantreis.store.lake import Lake

    lake = Lake(tmp_path / "lake")
    events = story(shop_story())
    lake.append(events.slice(0, 5))
    tables = tmp_path / "lake" / "tables"
    _version(tables, "journeys", "v-1", pa.table({"journey_id": ["j1"]}))
    Shelf(tables).update_state({"model_fingerprint": "built-1"})
    _aged(tmp_path / "lake")
    reader = LakeReader(lake.path, tables)
    first = reader.events_fingerprint()
    listed = reader.listings
    for _ in range(3):
        reader.refresh()
        assert reader.events_fingerprint() == first
    assert reader.listings == listed  # nothing changed: not listed again

    lake.append(events.slice(5, 5))  # a collector's batch
    second = reader.events_fingerprint()
    assert second != first
    assert reader.listings == listed + 1

    _aged(tmp_path / "lake")
    reader.events_fingerprint()
    listed = reader.listings
    file = lake.live_files()[0]
    lake.replace_file(file, None)  # an erasure: the file's rows without the person's
    assert file not in lake.live_files()
    assert reader.events_fingerprint() not in (first, second)
    assert reader.listings == listed + 1

    _aged(tmp_path / "lake")
    reader.refresh()
    assert reader.rows("SELECT journey_id FROM journeys") == [{"journey_id": "j1"}]
    _version(tables, "journeys", "v-2", pa.table({"journey_id": ["j2"]}))  # a new model
    reader.refresh()
    assert reader.rows("SELECT journey_id FROM journeys") == [{"journey_id": "j2"}]


def test_a_stored_tables_rows_are_read_once_per_version_a_job_stored(tmp_path: Path) -> None:
    """The personas every page offers are read from their Parquet once per version: while
    no job switched the table, a request gets the rows read before (here a file of the
    version changed under the reader, which no job does, shows they were not read again);
    a job's new version is read at the next request."""
    tables = tmp_path / "tables"
    query = "SELECT persona, size FROM personas ORDER BY persona"
    _version(tables, "personas", "v-1", pa.table({"persona": ["a"], "size": [3]}))
    Shelf(tables).update_state({"model_fingerprint": "built-1"})
    _aged(tables)
    reader = LakeReader(tmp_path / "lake", tables)
    assert reader.stored_rows(query, "personas") == [{"persona": "a", "size": 3}]
    pq.write_table(
        pa.table({"persona": ["b"], "size": [4]}), tables / "personas" / "v-1" / "part-0.parquet"
    )
    _aged(tables)
    reader.refresh()
    assert reader.stored_rows(query, "personas") == [{"persona": "a", "size": 3}]
    assert reader.rows(query) == [{"persona": "b", "size": 4}]  # what reading again gives
    _version(tables, "personas", "v-2", pa.table({"persona": ["c"], "size": [5]}))
    reader.refresh()
    assert reader.stored_rows(query, "personas") == [{"persona": "c", "size": 5}]
    # a table a page computed in place of the stored one is read as it is
    reader.create_table_from_arrow("personas", pa.table({"persona": ["d"], "size": [6]}))
    assert reader.stored_rows(query, "personas") == [{"persona": "d", "size": 6}]
