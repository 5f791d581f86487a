"""Synthetic journey_events logs for the benchmarks: Parquet, with skewed heavy persons.

Most persons have a few dozen events spread over 90 days; ten heavy persons share 1% of all
events (tens of thousands each at 10M events), the shape that hurts per-person algorithms.
Generated in chunks so 100M events fit in memory comfortably. Deterministic per (size, seed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

EVENTS = [
    ("Page Viewed", "awareness", 0, "web page", 0.22),
    ("Products Searched", "orientation", 1, "search", 0.10),
    ("Product Viewed", "consideration", 2, "product page", 0.30),
    ("Product Added", "consideration", 2, "cart", 0.10),
    ("Cart Viewed", "consideration", 2, "cart", 0.06),
    ("Checkout Started", "purchase", 3, "checkout", 0.05),
    ("Payment Info Entered", "purchase", 3, "checkout", 0.04),
    ("Order Completed", "purchase", 3, "checkout", 0.04),
    ("Email Opened", "service", 4, "e-mail", 0.05),
    ("Review Submitted", "evaluation", 5, "review site", 0.04),
]
START_US = 1_767_225_600_000_000  # 2026-01-01
DAYS = 90
HEAVY_PERSONS = 10
HEAVY_SHARE = 0.01

SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("timestamp", pa.timestamp("us")),
        ("event", pa.string()),
        ("type", pa.string()),
        ("channel", pa.string()),
        ("touchpoint", pa.string()),
        ("direct", pa.bool_()),
        ("phase", pa.string()),
        ("phase_index", pa.int32()),
        ("session_id", pa.string()),
        ("journey_id", pa.string()),
        ("order_id", pa.string()),
        ("properties", pa.string()),
    ]
)


def _take(values: list, codes: np.ndarray, type_: pa.DataType) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, type_))


def generate(events: int, path: Path, seed: int = 7, chunk: int = 5_000_000) -> Path:
    """Write `events` rows to `path` (skipped when the file is already there)."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    persons = max(events // 40, 10)
    probabilities = np.array([e[4] for e in EVENTS])
    probabilities /= probabilities.sum()
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, SCHEMA) as writer:
        done = 0
        while done < events:
            m = min(chunk, events - done)
            person = rng.integers(HEAVY_PERSONS, persons, m)
            heavy = rng.random(m) < HEAVY_SHARE
            person[heavy] = rng.integers(0, HEAVY_PERSONS, int(heavy.sum()))
            seconds = rng.integers(0, DAYS * 86400, m)
            kind = rng.choice(len(EVENTS), m, p=probabilities)
            person_id = pc.binary_join_element_wise("p", pc.cast(pa.array(person), pa.string()), "")
            day = pc.cast(pa.array(seconds // 86400), pa.string())
            table = pa.table(
                {
                    "person_id": person_id,
                    "timestamp": pa.array(START_US + seconds * 1_000_000, pa.timestamp("us")),
                    "event": _take([e[0] for e in EVENTS], kind, pa.string()).cast(pa.string()),
                    "type": pa.array(["track"] * m),
                    "channel": pa.array(["web"] * m),
                    "touchpoint": _take([e[3] for e in EVENTS], kind, pa.string()).cast(
                        pa.string()
                    ),
                    "direct": pa.array(np.ones(m, dtype=bool)),
                    "phase": _take([e[1] for e in EVENTS], kind, pa.string()).cast(pa.string()),
                    "phase_index": pa.array(np.array([e[2] for e in EVENTS])[kind], pa.int32()),
                    "session_id": pc.binary_join_element_wise(person_id, day, "-"),
                    "journey_id": pc.binary_join_element_wise(person_id, "j1", "-"),
                    "order_id": pa.nulls(m, pa.string()),
                    "properties": pa.array(["{}"] * m),
                },
                schema=SCHEMA,
            )
            writer.write_table(table, row_group_size=1_000_000)
            done += m
    tmp.rename(path)
    return path
