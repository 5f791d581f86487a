"""Fixtures of the import tests (helpers are in importing.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from klantreis.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    handle = Store(tmp_path / "store.duckdb")
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def rees46_file(shared_data: Path) -> Path:
    return shared_data / "github-ibrhmspl-rees46-2019oct-head" / "2019-Oct-head.csv"
