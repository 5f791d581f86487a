"""`[collector]` in klantreis.toml, typed: the collector's queue, admission and connection limits.

    [collector]
    max_pending_events = 100000
    merge_interval_ms = 500
    max_queue_age_ms = 2000
    max_loop_lag_ms = 2000
    max_requests_in_flight = 128       # 0: no cap
    header_timeout_ms = 10000          # 0: no deadline
    body_timeout_ms = 30000            # 0: no deadline
    max_header_bytes = 65536
    max_connections_per_address = 256  # 0: no cap
    public_url = "https://klantreis.example.com"

What each one does is in docs/collector.md; a bad value stops `klantreis serve` with a message
naming the file, the section and the key.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from klantreis.config import SectionSettings

_MS = "milliseconds"


class CollectorSettings(SectionSettings):
    SECTION: ClassVar[str] = "collector"

    max_pending_events: Annotated[
        int, Field(ge=1, description="a whole number of events, at least 1")
    ] = 100_000
    merge_interval_ms: Annotated[float, Field(gt=0, description=f"{_MS} above 0")] = 500
    max_queue_age_ms: Annotated[float, Field(gt=0, description=f"{_MS} above 0")] = 2000
    max_loop_lag_ms: Annotated[float, Field(gt=0, description=f"{_MS} above 0")] = 2000
    max_requests_in_flight: Annotated[
        int, Field(ge=0, description="a whole number of requests, 0 for no cap")
    ] = 128
    header_timeout_ms: Annotated[float, Field(ge=0, description=f"{_MS}, 0 for none")] = 10_000
    body_timeout_ms: Annotated[float, Field(ge=0, description=f"{_MS}, 0 for none")] = 30_000
    max_header_bytes: Annotated[
        int, Field(ge=1024, description="a whole number of bytes, at least 1024")
    ] = 64 * 1024
    max_connections_per_address: Annotated[
        int, Field(ge=0, description="a whole number of connections, 0 for no cap")
    ] = 256
    public_url: Annotated[
        str | None,
        Field(pattern=r"^https?://\S+$", description="an http(s) URL, e.g. https://shop.example"),
    ] = None

    @property
    def merge_interval(self) -> float:
        return self.merge_interval_ms / 1000

    @property
    def max_queue_age(self) -> float:
        return self.max_queue_age_ms / 1000

    @property
    def max_loop_lag(self) -> float:
        return self.max_loop_lag_ms / 1000
