"""Two independent answers to "how far did each person get?" for the ordered funnel.

- `clickhouse_levels`: ClickHouse's own `windowFunnel`, run by chDB on the same rows.
- `reference_levels`: a brute force written for clarity, not speed: for every step-1 event, walk
  the steps taking the earliest event of each next step at or after the previous one (equal
  times allowed, so one event may serve two consecutive steps), and stop when out of window.
"""

from __future__ import annotations

import bisect
import tempfile
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def clickhouse_levels(table: pa.Table, steps: list[str], window_us: int) -> dict[str, int]:
    import chdb

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.parquet"
        pq.write_table(table.select(["person_id", "timestamp", "event"]), path)
        conditions = ", ".join(f"event = '{s}'" for s in steps)  # test-only, fixed names
        sql = (
            f"SELECT person_id, windowFunnel({window_us})("
            f"toUInt64(toUnixTimestamp64Micro(timestamp)), {conditions}) AS level "
            f"FROM file('{path}', Parquet) GROUP BY person_id"
        )
        rows = chdb.query(sql, "ArrowTable")
    return {
        p: int(lv)
        for p, lv in zip(rows["person_id"].to_pylist(), rows["level"].to_pylist(), strict=True)
    }


def reference_levels(table: pa.Table, steps: list[str], window_us: int) -> dict[str, int]:
    times: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    persons = set()
    for person, ts, event in zip(
        table["person_id"].to_pylist(),
        table["timestamp"].cast(pa.int64()).to_pylist(),
        table["event"].to_pylist(),
        strict=True,
    ):
        persons.add(person)
        times[person][event].append(ts)
    levels = {}
    for person in persons:
        per_step = [sorted(times[person].get(step, [])) for step in steps]
        best = 0
        for start in per_step[0]:
            level, at = 1, start
            for later in per_step[1:]:
                i = bisect.bisect_left(later, at)
                if i == len(later) or later[i] > start + window_us:
                    break
                level, at = level + 1, later[i]
            best = max(best, level)
        levels[person] = best
    return levels
