"""Rows of an engine's Arrow table made comparable across engines: Spark's Arrow says UTC on
timestamps, a missing float may be NaN on one engine and NULL on the other, and sums differ in
the last bits; sorted, since neither engine promises an order."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa


def plain(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return round(float(value), 6)
    return value


def comparable_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    rows = [tuple(plain(v) for v in row.values()) for row in table.to_pylist()]
    return sorted(rows, key=lambda row: tuple(str(v) for v in row))
