"""A small shop with one customer for each kind of case, written as a story."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from case_story import SHOP
from stories import story

import klantreis
from klantreis.api import Klantreis


@pytest.fixture
def kr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Klantreis]:
    monkeypatch.setenv("KLANTREIS_CONFIG", str(tmp_path / "klantreis.toml"))
    handle = klantreis.open(tmp_path / "s.duckdb")
    yield handle
    handle.close()


@pytest.fixture
def shop(kr: Klantreis) -> Klantreis:
    """The story stored, its texts scored (as the routine's voice job does)."""
    from klantreis.measure.voice.stored import update_voice

    kr.store.append(story(SHOP))
    update_voice(kr.store, kr.engine, retrain=False)
    return kr
