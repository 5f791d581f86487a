"""Spark settings: `[engine]` in klantreis.toml.

    [engine]
    name = "spark"
    events_path = "lake/"          # Parquet tables: lake/journey_events/, lake/events/, ...
    tables_path = "lake/tables"    # derived tables written here, read by every process
    master = "local[2]"            # or spark://host:7077; ignored when `remote` is set
    remote = "sc://spark:15002"    # Spark Connect (optional)
    shuffle_partitions = 8
    driver_memory = "4g"
    java_options = "-Xss4m"        # the driver JVM's options (none by default)

    [engine.spark_conf]            # any Spark property, as spark-submit --conf takes it
    "spark.executor.memory" = "8g"

Each table is a Parquet file or folder named after it (`journey_events.parquet` or
`journey_events/`), as `klantreis engine export-parquet DIR` writes them; a lake's
`events/date=*/` folders (`[store] kind = "lake"`) are read as `events`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field, PositiveInt

from klantreis.config import SectionSettings, parse_section


class SparkConfiguration(SectionSettings):
    SECTION: ClassVar[str] = "engine"

    events_path: Annotated[
        Path | None, Field(description="a folder of <table>.parquet files or <table>/ folders")
    ] = None
    tables_path: Annotated[
        Path | None, Field(description="a folder for the derived tables, e.g. lake/tables")
    ] = None
    master: str = "local[2]"
    remote: Annotated[str | None, Field(description="a Spark Connect URL, sc://host:port")] = None
    shuffle_partitions: Annotated[PositiveInt, Field(description="a whole number >= 1")] = 8
    driver_memory: Annotated[str, Field(description="a memory size such as 4g")] = "4g"
    java_options: Annotated[
        str | None,
        Field(description="options for the driver's JVM, e.g. '-XX:+UseParallelGC'"),
    ] = None
    """`spark.driver.extraJavaOptions`, set before the driver's JVM starts (the only moment
    it can be). None by default: the JVM's own choices were measured the best of those tried
    for this workload in local mode (docs/scale-out.md "Where the time goes")."""
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description='a table of Spark properties, e.g. {"spark.executor.memory" = "8g"}',
    )
    """Passed to the session as they are, after (so overriding) the settings above."""
    app_name: str = "klantreis"

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> SparkConfiguration:
        """The `[engine]` table (without `name`), typed; unknown settings refused."""
        return parse_section(cls, options)


KNOWN = tuple(name for name in SparkConfiguration.model_fields if name != "app_name")
