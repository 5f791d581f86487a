"""Stores for the expectation tests: empty ones for stories, the Olist sample and the demo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import klantreis
from klantreis.api import Klantreis


@pytest.fixture
def kr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Klantreis]:
    monkeypatch.setenv("KLANTREIS_CONFIG", str(tmp_path / "klantreis.toml"))
    handle = klantreis.open(tmp_path / "s.duckdb")
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def olist_kr(olist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Klantreis]:
    """The Olist sample imported with `klantreis import olist`'s code, once per session."""
    from klantreis.collect.imports.olist import import_olist

    handle = klantreis.open(tmp_path_factory.mktemp("olist") / "olist.duckdb")
    import_olist(handle.store, olist_dir)
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def demo_kr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Klantreis]:
    """A small simulated shop (the demo's simulator), once per session."""
    from klantreis.collect.simulator import SimulatorConfig, simulate

    handle = klantreis.open(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    shop = simulate(SimulatorConfig(persons=800, seed=11))
    for batch in shop.iter_batches(20_000):
        handle.store.append(batch)
    yield handle
    handle.close()
