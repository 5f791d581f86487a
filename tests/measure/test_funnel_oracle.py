"""The ordered funnel equals ClickHouse's windowFunnel (chDB) and a brute force, on random logs.

Random logs are built to hit the edges: many equal timestamps, repeated steps (one event
matching two steps), windows of zero and exactly the gap between events, and heavy persons.
Both of our paths are checked: the portable query (every engine) and the DuckDB fast path.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from journeys import from_columns
from oracle import clickhouse_levels, reference_levels
from sqlglot import exp

from klantreis.measure.funnels import FunnelSpec, run_funnel
from klantreis.measure.funnels.query import persons_query

pytest.importorskip("chdb")

NAMES = ["A", "B", "C", "D", "X"]
SECOND = 1_000_000


def ours(engine, steps, window_seconds, fast_path):
    """Per step person counts from our funnel."""
    spec = FunnelSpec.build(steps, window=window_seconds)
    return run_funnel(engine, spec, fast_path=fast_path).persons()


def cumulative(levels: dict[str, int], steps: int) -> list[int]:
    return [sum(1 for v in levels.values() if v >= j) for j in range(1, steps + 1)]


logs = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3", "p4"]),
        st.integers(min_value=0, max_value=30),
        st.sampled_from(NAMES),
    ),
    min_size=1,
    max_size=60,
)
funnels = st.lists(st.sampled_from(NAMES[:4]), min_size=1, max_size=5)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(log=logs, steps=funnels, window=st.sampled_from([1, 2, 5, 10, 30]))
def test_ordered_equals_window_funnel(load_duckdb, log, steps, window):
    table = from_columns(
        [p for p, _, _ in log], [t * SECOND for _, t, _ in log], [e for _, _, e in log]
    )
    engine = load_duckdb({"journey_events": table})
    window_us = window * SECOND
    clickhouse = clickhouse_levels(table, steps, window_us)
    reference = reference_levels(table, steps, window_us)
    assert clickhouse == reference
    expected = cumulative(clickhouse, len(steps))
    assert ours(engine, steps, window, fast_path=False) == expected
    assert ours(engine, steps, window, fast_path=True) == expected
    # and person by person, not only in total
    query = persons_query(FunnelSpec.build(steps, window=window), exp.true())
    levels = {r["person_id"]: r["step"] for r in engine.rows(query)}
    assert {p: v for p, v in clickhouse.items() if v} == levels
    spec = FunnelSpec.build(steps, window=window)
    fast, portable = (run_funnel(engine, spec, fast_path=f) for f in (True, False))
    assert fast.path == "duckdb-fast"
    assert fast.dropoffs().to_pylist() == portable.dropoffs().to_pylist()


@pytest.mark.slow
def test_heavy_persons_match_window_funnel(load_duckdb):
    rng = random.Random(4)
    person, ts, event = [], [], []
    for name, count in (("heavy1", 30_000), ("heavy2", 20_000)):
        for _ in range(count):
            person.append(name)
            ts.append(rng.randrange(0, 40 * 86400) * SECOND)
            event.append(rng.choice(NAMES))
    for i in range(2_000):
        for _ in range(rng.randrange(1, 8)):
            person.append(f"light{i}")
            ts.append(rng.randrange(0, 40 * 86400) * SECOND)
            event.append(rng.choice(NAMES))
    table = from_columns(person, ts, event)
    engine = load_duckdb({"journey_events": table})
    steps = ["A", "B", "C", "D"]
    for window in (60, 3600, 86400):
        expected = cumulative(clickhouse_levels(table, steps, window * SECOND), len(steps))
        assert expected == cumulative(reference_levels(table, steps, window * SECOND), 4)
        assert ours(engine, steps, window, fast_path=False) == expected
        assert ours(engine, steps, window, fast_path=True) == expected


def test_window_edges_exactly(load_duckdb):
    # B exactly `window` after A counts; one microsecond later does not (inclusive window)
    table = from_columns(
        ["in", "in", "out", "out"],
        [0, 10 * SECOND, 0, 10 * SECOND + 1],
        ["A", "B", "A", "B"],
    )
    engine = load_duckdb({"journey_events": table})
    assert cumulative(clickhouse_levels(table, ["A", "B"], 10 * SECOND), 2) == [2, 1]
    assert ours(engine, ["A", "B"], 10, fast_path=False) == [2, 1]
    assert ours(engine, ["A", "B"], 10, fast_path=True) == [2, 1]
