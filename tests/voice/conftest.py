from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

import klantreis


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "voice.duckdb")
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def olist_reviews(olist_dir: Path) -> list[dict[str, Any]]:
    """Olist reviews that have a comment (real Portuguese customer text with a 1-5 score)."""
    with (olist_dir / "olist_order_reviews_dataset.csv").open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["review_comment_message"].strip()]
