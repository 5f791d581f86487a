"""Request bodies have a size limit: a route reads at most what it can use.

A body is read into memory to be parsed, and an error that shows the input repeats it, so an
unlimited body let one public POST cost the server a multiple of its size (a probe's 300 MB
survey answer raised memory by 1.2 GB and came back whole in the 400 page). `BodyLimit` caps
every route but the collector's (`/v1/`, which has limits of its own) at `MAX_BODY_BYTES`;
a route that needs less reads through `capped_body`.
"""

from __future__ import annotations

import json

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024
"""Dashboard forms, share and export requests and read-API bodies are a few kilobytes."""


class _TooLarge(Exception):
    pass


async def capped_body(request: Request, limit: int) -> bytes | None:
    """The body if it has at most `limit` bytes, else None (the rest is not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class BodyLimit:
    """413 for a body over `limit` bytes on any path outside `skip` (the collector's)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, skip: str = "/v1/") -> None:
        self.app = app
        self.limit = limit
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        text = f"the request body is larger than {self.limit // 1024} KiB"
        body = json.dumps({"error": text, "detail": text}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
