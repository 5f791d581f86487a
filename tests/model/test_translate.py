"""The model built in one journey definition, read in another, is the model built in that one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.model import build, load_definition
from klantreis.model.translate import translation
from klantreis.store.schema import EVENT_ARROW_SCHEMA


def _sorted(table: pa.Table, key: str) -> list[dict]:
    return table.sort_by(key).to_pylist()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same simulated shop built once in six-phase and once in AIDA."""
    folder = tmp_path_factory.mktemp("translate")
    events = simulate(SimulatorConfig(persons=300, seed=7)).iter_batches(1_000_000)
    table = pa.concat_tables(list(events)).cast(EVENT_ARROW_SCHEMA)
    first = folder / "six-phase.duckdb"
    with klantreis.open(first) as kr:
        kr.store.append(table)
    paths = {"six-phase": first, "aida": folder / "aida.duckdb"}
    shutil.copy(first, paths["aida"])
    for name, path in paths.items():
        with klantreis.open(path) as kr:
            build(kr.engine, load_definition(name))
    return paths


@pytest.mark.parametrize(("built", "wanted"), [("six-phase", "aida"), ("aida", "six-phase")])
def test_reading_in_another_definition_is_building_in_it(
    stores: dict[str, Path], built: str, wanted: str
) -> None:
    with klantreis.open(stores[wanted]) as kr:
        expected = {
            "journey_events": kr.engine.fetch("SELECT * FROM journey_events"),
            "journeys": kr.engine.fetch("SELECT * FROM journeys"),
            "phase_map": kr.engine.fetch("SELECT * FROM phase_map"),
        }
    with klantreis.open(stores[built]) as kr:
        read = translation(kr.engine, load_definition(built), load_definition(wanted))
        got = {name: kr.engine.fetch(query) for name, query in read.tables.items()}
        differs = kr.engine.scalar(
            "SELECT count(*) FROM journey_events AS a JOIN phase_map AS m ON m.event = a.event "
            "WHERE a.event NOT IN ('Order Completed')"
        )
    assert differs  # the built model has events to translate
    keys = {"journey_events": "message_id", "journeys": "journey_id", "phase_map": "event"}
    for name, table in expected.items():
        assert got[name].schema == table.schema, name
        assert _sorted(got[name], keys[name]) == _sorted(table, keys[name]), name


def test_the_two_definitions_place_some_events_in_other_journeys(
    stores: dict[str, Path],
) -> None:
    """Not a vacuous comparison: AIDA puts after-sales events without an order in the next
    journey, six-phase in the last one."""
    journeys = {}
    for name, path in stores.items():
        with klantreis.open(path) as kr:
            rows = kr.engine.rows("SELECT message_id, journey_id, phase FROM journey_events")
            journeys[name] = {r["message_id"]: (r["journey_id"], r["phase"]) for r in rows}
    moved = [m for m, (j, _) in journeys["aida"].items() if journeys["six-phase"][m][0] != j]
    assert moved
