"""A tabular result of an analysis: an Arrow table with conversions for notebooks."""

from __future__ import annotations

import builtins
from typing import Any

import pyarrow as pa


class Result:
    """A tabular result: an Arrow table with conversions for notebooks."""

    def __init__(self, table: pa.Table, meta: dict[str, Any] | None = None) -> None:
        self.table = table
        self.meta = meta or {}

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_pandas(self) -> Any:
        return self.table.to_pandas()

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.table)

    def to_pylist(self) -> builtins.list[dict[str, Any]]:
        return self.table.to_pylist()

    def __len__(self) -> int:
        return self.table.num_rows

    def _repr_html_(self) -> str:
        return str(self.to_pandas()._repr_html_())

    def __repr__(self) -> str:
        return f"Result({self.table.num_rows} rows: {', '.join(self.table.column_names)})"
