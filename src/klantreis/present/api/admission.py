"""Admission control: answer 429 at once rather than late.

Under a flood the server's one event loop, not the writer, is where requests wait: every
connection's parsing and validation runs on it, so with a thousand busy connections a request
(and `/v1/health`) waits its turn for tens of seconds while nothing is refused. The loop's lag
(how late a 50 ms timer fires) measures that wait directly; while it or the writer's queue age
(`Ingest.queue_age`) is above its bound, or too many collector requests are in flight, the
collector refuses new requests with 429 and `Retry-After` before routing them or reading their
bodies, which costs almost nothing and so brings the lag back down. Health is never refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from klantreis.collect.ingest import Ingest, Overloaded

TICK = 0.05
"""Seconds between the loop's lag measurements."""


class Admission:
    """The collector's door: `check()` raises `Overloaded` while the server is behind."""

    def __init__(
        self, ingest: Ingest, *, max_loop_lag: float = 2.0, max_in_flight: int = 128
    ) -> None:
        self.ingest = ingest
        self.max_loop_lag = max_loop_lag
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self._lag = 0.0
        self._tick_due: float | None = None
        self.refused = 0

    @property
    def loop_lag(self) -> float:
        """Seconds the event loop is behind: the last measured lag, or, when the timer that
        measures it is overdue right now, how overdue it is."""
        due = self._tick_due
        if due is None:
            return self._lag
        with contextlib.suppress(RuntimeError):  # called outside the loop
            return max(self._lag, asyncio.get_running_loop().time() - due)
        return self._lag

    def check(self) -> None:
        try:
            if self.in_flight >= self.max_in_flight > 0:
                raise Overloaded(retry_after=1)
            if self.loop_lag > self.max_loop_lag:
                raise Overloaded(retry_after=1)
            self.ingest.admit()
        except Overloaded:
            self.refused += 1
            raise

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._tick_due = loop.time() + TICK
            await asyncio.sleep(TICK)
            self._lag = max(0.0, loop.time() - self._tick_due)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[Admission]:
        """Measure the loop's lag while the server runs (the app's lifespan)."""
        task = asyncio.create_task(self._watch(), name="klantreis-loop-lag")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


_BUSY_BODY = orjson.dumps({"success": False, "error": "the collector is busy; retry later"})


class AdmissionMiddleware:
    """Admission for the collector's writes (`POST /v1/...`) ahead of routing, so a refusal
    costs as little loop time as possible: under a flood the 429s themselves are most of the
    work. Inside the CORS middleware, so browsers can read the 429."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission: Admission | None = None
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"][:4] == "/v1/":
            admission = getattr(scope["app"].state, "admission", None)
        if admission is None:
            await self.app(scope, receive, send)
            return
        try:
            admission.check()
        except Overloaded as exc:
            await _busy(send, exc.retry_after)
            return
        # The lag and the queue age react to a flood only once it is being worked on; the cap
        # on requests in flight stops a burst from being admitted before either rises.
        admission.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            admission.in_flight -= 1


async def _busy(send: Send, retry_after: int) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_BUSY_BODY)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": _BUSY_BODY})
