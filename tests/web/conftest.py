"""The small shop of `shop.py` in a temporary store, behind the real app (TestClient)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stories import story

from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.store import Store
from web.shop import PASSWORD, shop_story


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(story(shop_story()))
        create_user(store, "anna-admin", PASSWORD, "en")
    return path


@pytest.fixture
def client(store_path: Path) -> Iterator[TestClient]:
    # No warm-up of every page at start-up: each test asks only for what it checks.
    app = create_app(Settings(store_path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
