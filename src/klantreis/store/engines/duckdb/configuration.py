"""DuckDB settings: `[engine]` in klantreis.toml, for stores larger than memory.

    [engine]
    name = "duckdb"
    memory_limit = "6GB"            # DuckDB's own cap (default: 80 % of the machine's memory)
    threads = 2                     # default: every core
    temp_directory = "/fast/disk"   # where work beyond the cap spills (default: <store>.tmp)

A model build over tens of millions of events sorts every event per person; with a cap it
spills to `temp_directory` instead of taking the machine's memory, which is how 50M events fit
in a few GiB (docs/scaling.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the registry reads the known options without loading DuckDB
    import duckdb

KNOWN = ("memory_limit", "threads", "temp_directory")
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class DuckDBConfiguration:
    memory_limit: str | None = None
    threads: int | None = None
    temp_directory: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DuckDBConfiguration:
        from klantreis.config import ConfigError

        known = set(KNOWN)
        # Spark's settings may stay in the file while KLANTREIS_ENGINE=duckdb overrides the name.
        spark = {"events_path", "master", "remote", "shuffle_partitions", "driver_memory"}
        unknown = set(options) - known - spark - {"name"}
        if unknown:
            raise ConfigError(
                f"[engine] has unknown setting(s) {sorted(unknown)} for duckdb; "
                f"known: {sorted(known)}"
            )
        memory = options.get("memory_limit")
        if memory is not None and not _MEMORY.match(str(memory)):
            raise ConfigError(
                f"[engine] memory_limit = {memory!r}: use an amount such as '6GB' or '512MB'"
            )
        threads = options.get("threads")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ConfigError(f"[engine] threads = {threads!r}: use a whole number of 1 or more")
        temp = options.get("temp_directory")
        return cls(
            memory_limit=str(memory) if memory is not None else None,
            threads=threads,
            temp_directory=str(temp) if temp is not None else None,
        )

    def apply(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Set what is configured on the store's connection (the rest keeps DuckDB's defaults)."""
        if self.memory_limit is not None:
            connection.execute(f"SET memory_limit = '{self.memory_limit.strip()}'")
        if self.threads is not None:
            connection.execute(f"SET threads = {int(self.threads)}")
        if self.temp_directory is not None:
            connection.execute("SET temp_directory = ?", [self.temp_directory])
