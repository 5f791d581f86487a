"""The hop from an HTTP worker of `serve --workers N` to the writer, for everything but events.

A worker stores nothing and cannot read the store (the writer holds it), so the read API, the
dashboard, the admin channel and the collector's GET routes are passed to the writer's own
server on a loopback port, request and answer unchanged. The writer must still see who asked
(the login limit counts per address, the admin channel admits loopback only): the worker sends
the client's address, the address it was reached at and the scheme in `x-klantreis-*` headers
with a secret token, and `ForwardedByWorker` in the writer believes them only with that token.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_HEADER = b"x-klantreis-worker"
CLIENT_HEADER = b"x-klantreis-client"
SERVER_HEADER = b"x-klantreis-server"
SCHEME_HEADER = b"x-klantreis-scheme"
_OURS = (TOKEN_HEADER, CLIENT_HEADER, SERVER_HEADER, SCHEME_HEADER)
_HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"te",
    b"trailer",
    b"upgrade",
    b"content-length",
}


def _address(value: tuple[str, int] | list[Any] | None) -> str:
    if not value:
        return ""
    host, port = value[0], value[1]
    return f"{host}|{port}"


def _parse_address(value: str) -> tuple[str, int] | None:
    host, _, port = value.rpartition("|")
    return (host, int(port)) if host and port.isdigit() else None


class WriterProxy:
    """ASGI endpoint passing a request to the writer at `base_url` and its answer back."""

    def __init__(self, base_url: str, token: str, *, connections: int = 32) -> None:
        self.token = token
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(300.0, connect=10.0),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is the worker app's own
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if name not in _HOP_BY_HOP and name not in _OURS
        ]
        headers += [
            (TOKEN_HEADER, self.token.encode()),
            (CLIENT_HEADER, _address(scope.get("client")).encode()),
            (SERVER_HEADER, _address(scope.get("server")).encode()),
            (SCHEME_HEADER, scope.get("scheme", "http").encode()),
        ]
        path = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            path += b"?" + scope["query_string"]
        request = self.client.build_request(
            scope["method"], path.decode("latin-1"), headers=headers, content=bytes(body)
        )
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError:
            await _unavailable(send)
            return
        try:
            answer = [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP_BY_HOP]
            await send(
                {"type": "http.response.start", "status": response.status_code, "headers": answer}
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()


async def _unavailable(send: Send) -> None:
    body = b'{"error":"the store writer is not reachable; retry","detail":"unavailable"}'
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"5"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ForwardedByWorker:
    """In the writer: take the client, server and scheme a worker names, when the request
    carries the workers' token; drop `x-klantreis-*` headers from anyone else."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            ours = {n: v for n, v in scope["headers"] if n in _OURS}
            if ours:
                scope = dict(scope)
                scope["headers"] = [(n, v) for n, v in scope["headers"] if n not in _OURS]
                if secrets.compare_digest(ours.get(TOKEN_HEADER, b""), self.token):
                    client = _parse_address(ours.get(CLIENT_HEADER, b"").decode("latin-1"))
                    server = _parse_address(ours.get(SERVER_HEADER, b"").decode("latin-1"))
                    scope["client"] = client
                    if server is not None:
                        scope["server"] = server
                    scheme = ours.get(SCHEME_HEADER, b"").decode("latin-1")
                    if scheme in ("http", "https"):
                        scope["scheme"] = scheme
        await self.app(scope, receive, send)
