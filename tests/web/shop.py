"""A small shop told as a story, and helpers to log in through the real forms."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
XSS_SCRIPT = "<script>window.__pwned = 1</script>Slow delivery"
XSS_IMG = '<img src=x onerror="window.__pwned = 2">'
XSS_LINK = '<a href="javascript:window.__pwned=3">click me</a>'
XSS_EVENT = "<script>window.__pwned=4</script>"
XSS_CHANNEL = "<img src=x onerror=window.__pwned=5>"


def shop_story() -> dict[str, list[tuple[Any, ...]]]:
    """Three customers; one late delivery, reviews carrying script, an image and a link."""
    order = {
        "properties": {"order_id": "o1", "total": 59.9, "promised_delivery_date": "2026-03-04"}
    }
    return {
        "anna": [
            ("Products Searched", "09:00", {"properties": {"query": "lamp"}}),
            ("Product Viewed", "09:02"),
            ("Product Added", "09:05"),
            ("Checkout Started", "09:07"),
            ("Order Completed", "09:10", order),
            ("Order Shipped", "2026-03-03T10:00", {"channel": "carrier", **order}),
            ("Order Delivered", "2026-03-06T12:00", {"channel": "carrier", **order}),
            (
                "Ticket Created",
                "2026-03-06T13:00",
                {
                    "channel": "e-mail",
                    "properties": {
                        "ticket_id": "t1",
                        "order_id": "o1",
                        "subject": "Where is it?",
                        "text": XSS_LINK,
                    },
                },
            ),
            (
                "Review Submitted",
                "2026-03-07T09:00",
                {
                    "channel": "review site",
                    "properties": {
                        "review_id": "r1",
                        "order_id": "o1",
                        "rating": 1,
                        "title": XSS_IMG,
                        "text": XSS_SCRIPT,
                    },
                },
            ),
        ],
        "bram": [
            ("Product Viewed", "10:00"),
            ("Product Added", "10:03"),
            ("Checkout Started", "10:05"),
            (
                "Order Completed",
                "10:06",
                {"properties": {"order_id": "o2", "promised_delivery_date": "2026-03-05"}},
            ),
            (
                "Order Delivered",
                "2026-03-04T12:00",
                {
                    "channel": "carrier",
                    "properties": {"order_id": "o2", "promised_delivery_date": "2026-03-05"},
                },
            ),
            (
                "Review Submitted",
                "2026-03-05T09:00",
                {
                    "channel": "review site",
                    "properties": {
                        "review_id": "r2",
                        "order_id": "o2",
                        "rating": 5,
                        "text": "Snel en netjes",
                    },
                },
            ),
        ],
        "cleo": [
            ("Product Viewed", "11:00"),
            ("Product Viewed", "11:04", {"channel": XSS_CHANNEL}),
            (XSS_EVENT, "11:05"),
        ],
    }


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def login(client: TestClient, user: str = "anna-admin", password: str = PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": user,
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": "/map",
        },
        follow_redirects=False,
    )


PENDING = ("map-progress", "map-stale", "page-progress", "page-stale")
"""What a page shows while a background computation runs: the map's and a page's own progress,
and the figures shown meanwhile (the map's from before the events changed; a page's stored
figures while the routine computes them again after newer results, `_stored_note.html`)."""


def settled(client: TestClient, url: str, timeout: float = 300) -> str:
    """The page once the background computation it shows has finished (`PENDING`)."""
    import time

    deadline = time.monotonic() + timeout
    asked = False
    while True:
        html = client.get(url).text
        pending = [marker for marker in PENDING if f'id="{marker}"' in html]
        if not pending:
            return html
        routine = getattr(getattr(client, "app", None), "state", None)
        routine = getattr(routine, "routine", None)
        if "page-stale" in pending and routine is not None and not asked:
            # the routine's dashboard job stores the pages again on its schedule (a minute):
            # run it now, as the routine would next
            asked = True
            for job in routine.jobs:
                if job.name == "dashboard":
                    routine.run_once(job)
            continue
        assert time.monotonic() < deadline, f"{url} still shows {pending} after {timeout} s"
        time.sleep(0.2)
