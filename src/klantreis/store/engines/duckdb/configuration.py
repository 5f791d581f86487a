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

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field

from klantreis.config import SectionSettings, parse_section

if TYPE_CHECKING:  # the registry reads the known options without loading DuckDB
    import duckdb

_MEMORY = r"^\s*\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)\s*$"
SPARK_ONLY = frozenset(
    {
        "events_path",
        "tables_path",
        "master",
        "remote",
        "shuffle_partitions",
        "driver_memory",
        "java_options",
        "spark_conf",
    }
)
"""Spark's settings may stay in the file while `KLANTREIS_ENGINE=duckdb` overrides the name."""


class DuckDBConfiguration(SectionSettings):
    """`[engine]` for DuckDB, typed: unknown settings and bad values refused by key."""

    SECTION: ClassVar[str] = "engine"

    memory_limit: Annotated[
        str | None,
        Field(pattern=_MEMORY, description="an amount such as '6GB' or '512MB'"),
    ] = None
    threads: Annotated[
        int | None, Field(ge=1, strict=True, description="a whole number of 1 or more")
    ] = None
    temp_directory: Annotated[str | None, Field(description="a folder path")] = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DuckDBConfiguration:
        """The `[engine]` table (without `name` and Spark's settings), typed."""
        own = {k: v for k, v in options.items() if k not in SPARK_ONLY and k != "name"}
        return parse_section(cls, own)

    def apply(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Set what is configured on the store's connection (the rest keeps DuckDB's defaults)."""
        if self.memory_limit is not None:
            connection.execute(f"SET memory_limit = '{self.memory_limit.strip()}'")
        if self.threads is not None:
            connection.execute(f"SET threads = {int(self.threads)}")
        if self.temp_directory is not None:
            connection.execute("SET temp_directory = ?", [self.temp_directory])


KNOWN = tuple(DuckDBConfiguration.model_fields)
