from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def _shared_data() -> Path | None:
    for candidate in (REPO.parent / "shared" / "data", Path("/work/shared/data")):
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public data sets in ../shared/data (skips where they are not present)."""
    path = _shared_data()
    if path is None:
        pytest.skip("../shared/data is not present")
    return path


@pytest.fixture(scope="session")
def olist_dir(shared_data: Path) -> Path:
    return shared_data / "github-Dhipin1-olist-sample15k"
