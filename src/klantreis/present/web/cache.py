"""Slow analyses computed in the background, served stale-while-revalidate.

Some analyses take far longer than a page may (the journey map asks the key-driver regression
of the opportunities module, tens of seconds on the demo data). The dashboard therefore never
computes them inside a request: a request gets the last result for the same parameters at once
(marked stale if events arrived since) and, if that result is missing or stale, starts one
recomputation on a single worker thread. A page without any result yet shows progress and
reloads itself. One worker keeps the embedded engine from being flooded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from klantreis.present.errors import user_message

log = logging.getLogger(__name__)


@dataclass
class Computed:
    value: Any
    fingerprint: str
    computed_at: float
    seconds: float


@dataclass
class Lookup:
    """What a request gets: a value (possibly stale), or how long the computation has run."""

    value: Any = None
    stale: bool = False
    pending_since: float | None = None
    error: str | None = None
    computed_at: datetime | None = None
    """When the routine computed a value read from the store (None: computed here)."""

    @property
    def ready(self) -> bool:
        return self.value is not None

    @property
    def running_seconds(self) -> float:
        return 0.0 if self.pending_since is None else time.monotonic() - self.pending_since


class ResultCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[Hashable, Computed] = {}
        self._running: dict[Hashable, tuple[Future[Any], float, str]] = {}
        self._errors: dict[Hashable, str] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="klantreis-web")

    def lookup(self, key: Hashable, fingerprint: str, compute: Callable[[], Any]) -> Lookup:
        with self._lock:
            done = self._done.get(key)
            if done is not None and done.fingerprint == fingerprint:
                return Lookup(done.value)
            running = self._running.get(key)
            if running is None:
                future = self._pool.submit(self._run, key, fingerprint, compute)
                running = (future, time.monotonic(), fingerprint)
                self._running[key] = running
            if done is not None:
                return Lookup(done.value, stale=True)
            return Lookup(pending_since=running[1], error=self._errors.get(key))

    def get(self, key: Hashable, fingerprint: str) -> Any:
        """The value computed or put for `key` at `fingerprint`, else None (nothing started)."""
        with self._lock:
            done = self._done.get(key)
            return done.value if done is not None and done.fingerprint == fingerprint else None

    def put(self, key: Hashable, fingerprint: str, value: Any) -> None:
        """Keep a value read elsewhere (the routine's stored results) for the next request."""
        with self._lock:
            self._done[key] = Computed(value, fingerprint, time.time(), 0.0)

    def wait(
        self, key: Hashable, fingerprint: str, compute: Callable[[], Any], timeout: float = 300
    ) -> Any:
        """The fresh value, waiting for it (exports, which must not be stale or empty)."""
        found = self.lookup(key, fingerprint, compute)
        if found.ready and not found.stale:
            return found.value
        with self._lock:
            running = self._running.get(key)
        if running is not None:
            running[0].result(timeout=timeout)
        with self._lock:
            done = self._done.get(key)
        if done is None:
            raise RuntimeError(self._errors.get(key, "the computation did not finish"))
        return done.value

    def _run(self, key: Hashable, fingerprint: str, compute: Callable[[], Any]) -> Any:
        started = time.monotonic()
        try:
            value = compute()
        except Exception as exc:
            log.exception("computing %s failed", key)
            with self._lock:
                self._errors[key] = user_message(exc)
                self._running.pop(key, None)
            raise
        with self._lock:
            self._done[key] = Computed(value, fingerprint, time.time(), time.monotonic() - started)
            self._errors.pop(key, None)
            self._running.pop(key, None)
        return value

    def shutdown(self) -> None:
        """Drop queued work and wait for the running computation (it holds the store)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
