"""A map in another journey definition reads the stored model: the same map as a store built
in that definition, and the configured model is left as it was."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.opportunities import refresh_opportunities
from klantreis.measure.voice.stored import update_voice
from klantreis.store.schema import EVENT_ARROW_SCHEMA


def _without_opportunities(journey_map: dict[str, Any]) -> dict[str, Any]:
    """The map but the opportunities: those are ranked by the routine in the store's own
    definition (its touchpoints are drivers) and read as stored, in either store."""
    journey_map = {k: v for k, v in journey_map.items() if k != "opportunities"}
    journey_map["phases"] = [
        {k: v for k, v in p.items() if k != "opportunities"} for p in journey_map["phases"]
    ]
    return journey_map


def _opened(path: Path, definition: str) -> Any:
    kr = klantreis.open(path)
    kr.settings.sections["journey"] = {"definition": definition}
    return kr


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One simulated shop, with its texts scored, cases judged and opportunities ranked, in a
    store configured for six-phase and in one configured for AIDA."""
    folder = tmp_path_factory.mktemp("definitions")
    events = simulate(SimulatorConfig(persons=300, seed=5)).iter_batches(1_000_000)
    table = pa.concat_tables(list(events)).cast(EVENT_ARROW_SCHEMA)
    paths = {"six-phase": folder / "six.duckdb", "aida": folder / "aida.duckdb"}
    with klantreis.open(paths["six-phase"]) as kr:
        kr.store.append(table)
        update_voice(kr.store, kr.engine, retrain=False)
    shutil.copy(paths["six-phase"], paths["aida"])
    for definition, path in paths.items():
        with _opened(path, definition) as kr:
            ensure_cases(kr)
            refresh_opportunities(kr)
    return paths


def test_the_aida_map_of_a_six_phase_store_is_that_of_an_aida_store(
    stores: dict[str, Path],
) -> None:
    with _opened(stores["aida"], "aida") as kr:
        built_in_aida = kr.journey_map("aida").to_dict()
    with _opened(stores["six-phase"], "six-phase") as kr:
        model = kr.store.get_meta("model_fingerprint")
        read_in_aida = kr.journey_map("aida").to_dict()
        assert kr.store.get_meta("model_definition") == "six-phase"
        assert kr.store.get_meta("model_fingerprint") == model  # nothing was built again
    assert [p["id"] for p in read_in_aida["phases"]] == [
        "attention",
        "interest",
        "desire",
        "action",
    ]
    assert any(p["pain_points"] for p in read_in_aida["phases"])
    assert not read_in_aida["errors"]
    assert _without_opportunities(read_in_aida) == _without_opportunities(built_in_aida)


def test_the_six_phase_map_of_an_aida_store_is_that_of_a_six_phase_store(
    stores: dict[str, Path],
) -> None:
    with _opened(stores["six-phase"], "six-phase") as kr:
        built = kr.journey_map("six-phase", language="nl").to_dict()
    with _opened(stores["aida"], "aida") as kr:
        read = kr.journey_map("six-phase", language="nl").to_dict()
        assert kr.store.get_meta("model_definition") == "aida"
    assert _without_opportunities(read) == _without_opportunities(built)
