"""A small shop told as a story, in a temporary store, behind the real app (TestClient)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stories import story

from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.store import Store

PASSWORD = "correct horse battery"
XSS_SCRIPT = "<script>window.__pwned = 1</script>Slow delivery"
XSS_IMG = '<img src=x onerror="window.__pwned = 2">'
XSS_LINK = '<a href="javascript:window.__pwned=3">click me</a>'


def shop_story() -> dict[str, list[tuple]]:
    """Three customers; one late delivery, reviews carrying script, an image and a link."""
    order = {"properties": {"order_id": "o1", "total": 59.9,
                            "promised_delivery_date": "2026-03-04"}}
    return {
        "anna": [
            ("Products Searched", "09:00", {"properties": {"query": "lamp"}}),
            ("Product Viewed", "09:02"),
            ("Product Added", "09:05"),
            ("Checkout Started", "09:07"),
            ("Order Completed", "09:10", order),
            ("Order Shipped", "2026-03-03T10:00", {"channel": "carrier", **order}),
            ("Order Delivered", "2026-03-06T12:00", {"channel": "carrier", **order}),
            ("Ticket Created", "2026-03-06T13:00", {"channel": "e-mail", "properties": {
                "ticket_id": "t1", "order_id": "o1", "subject": "Where is it?",
                "text": XSS_LINK}}),
            ("Review Submitted", "2026-03-07T09:00", {"channel": "review site", "properties": {
                "review_id": "r1", "order_id": "o1", "rating": 1, "title": XSS_IMG,
                "text": XSS_SCRIPT}}),
        ],
        "bram": [
            ("Product Viewed", "10:00"),
            ("Product Added", "10:03"),
            ("Checkout Started", "10:05"),
            ("Order Completed", "10:06", {"properties": {
                "order_id": "o2", "promised_delivery_date": "2026-03-05"}}),
            ("Order Delivered", "2026-03-04T12:00", {"channel": "carrier", "properties": {
                "order_id": "o2", "promised_delivery_date": "2026-03-05"}}),
            ("Review Submitted", "2026-03-05T09:00", {"channel": "review site", "properties": {
                "review_id": "r2", "order_id": "o2", "rating": 5, "text": "Snel en netjes"}}),
        ],
        "cleo": [("Product Viewed", "11:00"), ("Product Viewed", "11:04")],
    }


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(story(shop_story()))
        create_user(store, "anna-admin", PASSWORD, "en")
    return path


@pytest.fixture
def client(store_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(store_path))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def login(client: TestClient, user: str = "anna-admin", password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf_token": csrf_of(page.text), "next": "/map"},
                       follow_redirects=False)
