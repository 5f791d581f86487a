"""Running the app under uvicorn, guarded against slow and greedy clients.

The collector faces the internet, and uvicorn bounds only the idle time between requests: a
client that sends half its headers, or trickles its body, holds a connection (an open file)
for as long as it likes, so about a thousand of them took a server with the usual 1,024-file
limit offline. `guarded_protocol` adds what is missing at the connection level, where it
costs nothing per request: a deadline for the headers, a deadline for the body, a cap on
header bytes and a cap on the connections one address may hold open. A refused or timed-out
client gets a short HTTP answer (429, 408, 431) and its connection is closed; everyone else
is served as before. `server_config` is what `klantreis serve` (and benchmarks/collector.py)
run.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from klantreis.config import Settings


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-connection bounds (`[collector]` settings in klantreis.toml)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_header_bytes: int = 64 * 1024
    max_connections_per_address: int = 256

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        from klantreis.present.api.settings import CollectorSettings

        section = settings.section(CollectorSettings)
        return cls(
            header_timeout=section.header_timeout_ms / 1000,
            body_timeout=section.body_timeout_ms / 1000,
            max_header_bytes=section.max_header_bytes,
            max_connections_per_address=section.max_connections_per_address,
        )


def _answer(status: str, message: str, *extra: str) -> bytes:
    body = orjson.dumps({"success": False, "error": message})
    head = [
        f"HTTP/1.1 {status}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
        *extra,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


_TOO_MANY = _answer(
    "429 Too Many Requests", "too many open connections from this address", "retry-after: 1"
)
_SLOW_HEADERS = _answer("408 Request Timeout", "the request headers took too long")
_SLOW_BODY = _answer("408 Request Timeout", "the request body took too long")
_HUGE_HEADERS = _answer("431 Request Header Fields Too Large", "the request headers are too large")


def guarded_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with `limits`; one class (and one count of open
    connections per address) per server."""
    open_by_address: dict[str, int] = {}

    class GuardedHttpProtocol(HttpToolsProtocol):
        _address: str | None = None
        _timer: asyncio.TimerHandle | None = None
        _header_bytes = 0
        _awaiting_headers = True

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else None
            cap = limits.max_connections_per_address
            if address is not None and cap > 0:
                if open_by_address.get(address, 0) >= cap:
                    self._refuse(_TOO_MANY)
                    return
                open_by_address[address] = open_by_address.get(address, 0) + 1
                self._address = address
            self._arm(limits.header_timeout, _SLOW_HEADERS)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._address is not None:
                left = open_by_address.get(self._address, 1) - 1
                if left > 0:
                    open_by_address[self._address] = left
                else:
                    open_by_address.pop(self._address, None)
                self._address = None
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if not self._awaiting_headers:
                super().data_received(data)
                return
            # Bytes until the headers are complete; a chunk that completes them may carry
            # body too, so only what is still incomplete after parsing it counts against the cap.
            self._header_bytes += len(data)
            super().data_received(data)
            if self._awaiting_headers and self._header_bytes > limits.max_header_bytes:
                self._refuse(_HUGE_HEADERS)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._awaiting_headers = True
            self._header_bytes = 0
            if self._timer is None:  # a keep-alive connection's next request
                self._arm(limits.header_timeout, _SLOW_HEADERS)

        def on_headers_complete(self) -> None:
            self._awaiting_headers = False
            self._arm(limits.body_timeout, _SLOW_BODY)
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            self._awaiting_headers = True
            self._header_bytes = 0
            super().on_message_complete()

        # -- the deadlines -----------------------------------------------------------------
        def _arm(self, seconds: float, answer: bytes) -> None:
            self._disarm()
            if seconds > 0:
                self._timer = self.loop.call_later(seconds, self._too_slow, answer)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _too_slow(self, answer: bytes) -> None:
            self._timer = None
            cycle = self.cycle
            if answer is _SLOW_BODY and cycle is not None:
                if cycle.response_complete:  # answered early (401, 429): stop the upload
                    self.transport.close()
                    return
                if cycle.response_started:  # the app is answering; close once it has
                    cycle.keep_alive = False
                    return
                # The app (still reading the body) now sees a disconnect, and cannot answer
                # after the 408.
                cycle.disconnected = True
                cycle.message_event.set()
            self._refuse(answer)

        def _refuse(self, answer: bytes) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(answer)
                self.transport.close()

    return GuardedHttpProtocol


def raise_open_file_limit() -> None:
    """Lift the soft limit on open files to the hard one: every connection is a file, and the
    usual soft limit of 1,024 is a small number of clients."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            target = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def server_config(
    app: Any, settings: Settings, *, host: str, port: int, **options: Any
) -> uvicorn.Config:
    """uvicorn's configuration for `app` on host:port with the connection guards (and the
    soft open-file limit lifted); `options` go to uvicorn."""
    raise_open_file_limit()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=1,
        http=guarded_protocol(ConnectionLimits.from_settings(settings)),
        timeout_graceful_shutdown=10,
        **options,
    )


def run(app: Any, settings: Settings, *, host: str, port: int, **options: Any) -> None:
    """Serve `app` on host:port with the connection guards (benchmarks/collector.py)."""
    uvicorn.Server(server_config(app, settings, host=host, port=port, **options)).run()
