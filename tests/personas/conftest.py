"""Stores for persona tests: the demo simulator (with its ground truth) and the Olist sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

import klantreis
from klantreis.api import Klantreis
from klantreis.model import ensure_built


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    """A simulated shop of 800 persons (seed 7) in a built store, and its truth table.

    Without the demo's anonymous visitors: these tests are about finding the five customer
    personas back, and visitors (15 per person, who never buy) are a sixth group that would
    swamp them.
    """
    from klantreis.collect.simulator import SimulatorConfig, simulate

    shop = simulate(SimulatorConfig(persons=800, seed=7, visitors_per_person=0))
    path = tmp_path_factory.mktemp("sim") / "shop.duckdb"
    with klantreis.open(path) as kr:
        for batch in shop.iter_batches(50_000):
            kr.store.append(batch)
        ensure_built(kr)
    return path, shop.truth


@pytest.fixture
def sim_kr(simulated: tuple[Path, pa.Table]) -> Iterator[Klantreis]:
    with klantreis.open(simulated[0]) as kr:
        yield kr


@pytest.fixture(scope="session")
def olist_store(olist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from klantreis.collect.imports.olist import import_olist

    path = tmp_path_factory.mktemp("olist") / "olist.duckdb"
    with klantreis.open(path) as kr:
        import_olist(kr.store, olist_dir)
        ensure_built(kr)
    return path
