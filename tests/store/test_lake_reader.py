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
