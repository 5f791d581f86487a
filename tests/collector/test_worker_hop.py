"""The writer believes the client address a worker names only with the workers' token."""

from __future__ import annotations

import asyncio
from typing import Any

from klantreis.present.api.proxy import ForwardedByWorker


def _seen(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(client=scope["client"], scheme=scope["scheme"], headers=scope["headers"])

    scope = {
        "type": "http",
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 41000),
        "scheme": "http",
        "headers": headers,
    }
    asyncio.run(ForwardedByWorker(app, token="s3cret")(scope, None, None))
    return seen


def test_a_worker_with_the_token_names_the_client() -> None:
    seen = _seen(
        [
            (b"host", b"shop.example"),
            (b"x-klantreis-worker", b"s3cret"),
            (b"x-klantreis-client", b"203.0.113.9|4444"),
            (b"x-klantreis-scheme", b"https"),
        ]
    )
    assert seen["client"] == ("203.0.113.9", 4444) and seen["scheme"] == "https"
    assert seen["headers"] == [(b"host", b"shop.example")]


def test_anyone_else_naming_a_client_is_ignored_and_the_headers_dropped() -> None:
    seen = _seen(
        [
            (b"x-klantreis-worker", b"guess"),
            (b"x-klantreis-client", b"203.0.113.9|4444"),
            (b"x-klantreis-scheme", b"https"),
        ]
    )
    assert seen["client"] == ("127.0.0.1", 5000) and seen["scheme"] == "http"
    assert seen["headers"] == []
    assert _seen([(b"x-klantreis-client", b"10.0.0.1|1")])["client"] == ("127.0.0.1", 5000)
