"""DuckDB settings: `[engine]` in klantreis.toml (with `name = "duckdb"`, the default).

DuckDB runs on the store's own file and connection: one read-write process per file, each
thread its own cursor of that one connection (`engine.py`), every write through the store's
write lock. It has no settings of its own yet; a setting given anyway is refused, so a typo
never passes for a tuned engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KNOWN: tuple[str, ...] = ()


@dataclass(frozen=True)
class DuckDBConfiguration:
    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DuckDBConfiguration:
        unknown = sorted(set(options) - set(KNOWN))
        if unknown:
            from klantreis.config import ConfigError

            raise ConfigError(
                f"[engine] has unknown setting(s) {unknown} for duckdb; it takes none",
                field="engine",
            )
        return cls()
