"""DuckDB settings: `[engine]` in klantreis.toml (with `name = "duckdb"`, the default).

DuckDB runs on the store's own file and connection: one read-write process per file, each
thread its own cursor of that one connection (`engine.py`), every write through the store's
write lock. It has no settings of its own yet; a setting given anyway is refused, so a typo
never passes for a tuned engine.
"""

from __future__ import annotations

from typing import Any, ClassVar

from klantreis.config import SectionSettings, parse_section


class DuckDBConfiguration(SectionSettings):
    SECTION: ClassVar[str] = "engine"

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DuckDBConfiguration:
        """The `[engine]` table (without `name`); DuckDB takes no settings yet."""
        return parse_section(cls, options)


KNOWN = tuple(DuckDBConfiguration.model_fields)
