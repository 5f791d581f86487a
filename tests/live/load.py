"""A steady stream of event batches to a running collector, remembering what was acknowledged."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
from servers import Server


class Load:
    """Batches of events sent steadily to the collector; remembers what was acknowledged."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.acknowledged: list[str] = []
        self.refused = 0
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.server.url, auth=(self.server.write_key, "")) as http:
            while not self._stop.is_set():
                ids = [f"live-{uuid.uuid4().hex}" for _ in range(20)]
                batch = [
                    {
                        "type": "track",
                        "event": "Product Viewed",
                        "userId": "load-person",
                        "messageId": mid,
                        "properties": {"product_id": "p1"},
                    }
                    for mid in ids
                ]
                started = time.monotonic()
                try:
                    response = http.post("/v1/batch", json={"batch": batch}, timeout=30)
                except httpx.TransportError:  # the server stopped: what was sent is unknown
                    return
                self.slowest = max(self.slowest, time.monotonic() - started)
                if response.status_code == 200:
                    self.acknowledged.extend(ids)
                else:
                    self.refused += 1
                time.sleep(0.05)
