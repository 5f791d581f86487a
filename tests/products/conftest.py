"""Fixtures of the catalogue and content-quality tests: one Olist store for the module."""

from __future__ import annotations

from pathlib import Path

import pytest

from klantreis.collect.imports.olist import import_olist
from klantreis.store import Store


@pytest.fixture(scope="session")
def olist_store(olist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("olist-products") / "olist.duckdb"
    with Store(path) as store:
        import_olist(store, olist_dir)
    return path
