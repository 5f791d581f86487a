"""Spark settings: `[engine]` in klantreis.toml.

    [engine]
    name = "spark"
    events_path = "lake/"          # Parquet tables: lake/journey_events/, lake/events/, ...
    master = "local[2]"            # or spark://host:7077; ignored when `remote` is set
    remote = "sc://spark:15002"    # Spark Connect (optional)
    shuffle_partitions = 8
    driver_memory = "4g"

Each table is a Parquet file or folder named after it (`journey_events.parquet` or
`journey_events/`), as `klantreis engine export-parquet DIR` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

KNOWN = ("events_path", "master", "remote", "shuffle_partitions", "driver_memory")


@dataclass(frozen=True)
class SparkConfiguration:
    events_path: Path | None = None
    master: str = "local[2]"
    remote: str | None = None
    shuffle_partitions: int = 8
    driver_memory: str = "4g"
    app_name: str = "klantreis"

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> SparkConfiguration:
        known = set(KNOWN)
        unknown = set(options) - known
        if unknown:
            from klantreis.config import ConfigError

            raise ConfigError(
                f"[engine] has unknown setting(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        path = options.get("events_path")
        return cls(
            events_path=Path(path) if path else None,
            master=str(options.get("master", cls.master)),
            remote=options.get("remote"),
            shuffle_partitions=int(options.get("shuffle_partitions", cls.shuffle_partitions)),
            driver_memory=str(options.get("driver_memory", cls.driver_memory)),
        )
