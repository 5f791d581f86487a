"""Stores for the customer value tests: CDNOW's published sample and a simulated shop."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import klantreis
from klantreis.collect.imports.cdnow import import_cdnow
from klantreis.collect.simulator import SimulatorConfig, simulate


@pytest.fixture(scope="session")
def cdnow_sample(shared_data: Path) -> Path:
    return shared_data / "pypi-lifetimes-cdnow" / "CDNOW_sample.txt"


@pytest.fixture(scope="module")
def cdnow_store(cdnow_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb"
    with klantreis.open(path) as kr:
        import_cdnow(kr.store, cdnow_sample)
    return path


@pytest.fixture(scope="session")
def value_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated shop with visitors who never buy (conversion needs them) and repeat buyers,
    built and judged once per session (tens of CPU seconds); tests use `shop_store`'s copy."""
    path = tmp_path_factory.mktemp("value-shop") / "shop.duckdb"
    with klantreis.open(path) as kr:
        for batch in simulate(SimulatorConfig(persons=900, seed=11)).iter_batches(100_000):
            kr.store.append(batch)
        kr.evaluate_expectations()
    return path


@pytest.fixture(scope="module")
def shop_store(value_shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`value_shop` copied for one module: what a module writes stays in that module."""
    path = tmp_path_factory.mktemp("value-shop-copy") / "shop.duckdb"
    shutil.copy(value_shop, path)
    return path
