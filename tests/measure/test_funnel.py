"""Funnels on every engine: stories with known answers, modes, exclusions, breakdowns."""

from __future__ import annotations

import pytest
from journeys import journeys_for

from klantreis.measure.funnels import FunnelSpec, run_funnel
from klantreis.measure.trees import AnalysisError

SHOP = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]


def persons(load, people, steps=SHOP, **options):
    engine = load({"journey_events": journeys_for(people)})
    return run_funnel(engine, FunnelSpec.build(steps, **options)).persons()


def test_ordered_counts_each_step(load):
    people = {
        "anna": [
            ("Product Viewed", 0),
            ("Product Added", 5),
            ("Checkout Started", 9),
            ("Order Completed", 12),
        ],
        "bram": [("Product Viewed", 0), ("Product Added", 5)],
        "cees": [("Product Added", 0), ("Product Viewed", 5)],  # wrong order: step 1 only
        "dirk": [("Cart Viewed", 0)],
    }
    assert persons(load, people, window="1h") == [3, 2, 1, 1]


def test_window_is_inclusive(load):
    people = {
        "edge": [("Product Viewed", 0), ("Product Added", 60)],
        "late": [("Product Viewed", 0), ("Product Added", 61)],
    }
    assert persons(load, people, steps=SHOP[:2], window="1h") == [2, 1]


def test_equal_timestamps_count_in_step_order(load):
    people = {"tie": [("Product Added", 0), ("Product Viewed", 0), ("Checkout Started", 0)]}
    assert persons(load, people, steps=SHOP[:3], window="1m") == [1, 1, 1]


def test_latest_start_keeps_later_steps_in_reach(load):
    # the first view is too early for the add; the second view starts a chain that converts
    people = {"late": [("Product Viewed", 0), ("Product Viewed", 600), ("Product Added", 650)]}
    assert persons(load, people, steps=SHOP[:2], window="1h") == [1, 1]


def test_strict_mode_breaks_on_other_events(load):
    people = {
        "straight": [("Product Viewed", 0), ("Product Added", 1)],
        "detour": [("Product Viewed", 0), ("Cart Viewed", 1), ("Product Added", 2)],
    }
    assert persons(load, people, steps=SHOP[:2], window="1h", mode="strict") == [2, 1]
    assert persons(load, people, steps=SHOP[:2], window="1h", mode="ordered") == [2, 2]


def test_unordered_mode_counts_steps_in_any_order(load):
    people = {
        "reverse": [("Order Completed", 0), ("Checkout Started", 1), ("Product Viewed", 2)],
        "spread": [("Product Viewed", 0), ("Product Added", 600)],
    }
    got = persons(load, people, steps=SHOP, window="1h", mode="unordered")
    assert got == [2, 1, 1, 0]


def test_exclusion_inside_the_window_drops_the_person(load):
    people = {
        "refund": [("Product Viewed", 0), ("Order Refunded", 5), ("Product Added", 10)],
        "clean": [("Product Viewed", 0), ("Product Added", 10)],
        "later": [("Product Viewed", 0), ("Product Added", 10), ("Order Refunded", 200)],
    }
    got = persons(load, people, steps=SHOP[:2], window="1h", exclude=["Order Refunded"])
    assert got == [2, 2]


def test_optional_step_may_be_skipped(load):
    people = {
        "direct": [("Product Viewed", 0), ("Checkout Started", 5)],
        "via_cart": [("Product Viewed", 0), ("Product Added", 2), ("Checkout Started", 5)],
    }
    steps = ["Product Viewed", {"event": "Product Added", "optional": True}, "Checkout Started"]
    assert persons(load, people, steps=steps, window="1h") == [2, 1, 2]


def test_property_filter_on_a_step(load):
    people = {
        "shoes": [
            ("Product Viewed", 0, {"properties": {"category": "shoes"}}),
            ("Product Added", 1),
        ],
        "hats": [("Product Viewed", 0, {"properties": {"category": "hats"}}), ("Product Added", 1)],
    }
    steps = [{"event": "Product Viewed", "where": {"category": "shoes"}}, "Product Added"]
    assert persons(load, people, steps=steps, window="1h") == [1, 1]


def test_filter_values_are_bound_not_pasted(load):
    people = {"x": [("Product Viewed", 0, {"properties": {"category": "a' OR '1'='1"}})]}
    steps = [{"event": "Product Viewed", "where": {"category": "a' OR '1'='1"}}]
    assert persons(load, people, steps=steps, window="1h") == [1]
    assert persons(load, people, steps=["' OR 1=1 --"], window="1h") == [0]


def test_phases_as_steps(load):
    people = {
        "anna": [("Product Viewed", 0), ("Order Completed", 30)],
        "bram": [("Product Viewed", 0)],
    }
    got = persons(load, people, steps=["phase:consideration", "phase:purchase"], window="1d")
    assert got == [2, 1]


def test_breakdown_by_property_with_attribution(load):
    people = {
        "anna": [
            ("Product Viewed", 0, {"properties": {"source": "mail"}}),
            ("Product Added", 5, {"properties": {"source": "ads"}}),
        ],
        "bram": [("Product Viewed", 0, {"properties": {"source": "ads"}})],
    }
    engine = load({"journey_events": journeys_for(people)})
    # `source` alone is the session's source (test_funnel_sources.py); this is the property
    spec = FunnelSpec.build(SHOP[:2], window="1h", breakdown="properties.source")
    first = run_funnel(engine, spec)
    rows = {(r["breakdown"], r["step"]): r["persons"] for r in first.to_pylist()}
    assert rows == {("ads", 1): 1, ("ads", 2): 0, ("mail", 1): 1, ("mail", 2): 1}
    last = run_funnel(
        engine,
        FunnelSpec.build(
            SHOP[:2], window="1h", breakdown="properties.source", attribution="last_touch"
        ),
    )
    rows = {(r["breakdown"], r["step"]): r["persons"] for r in last.to_pylist()}
    assert rows == {("ads", 1): 2, ("ads", 2): 1}


def test_breakdown_by_person_table(load):
    import pyarrow as pa

    people = {
        "anna": [("Product Viewed", 0), ("Product Added", 5)],
        "bram": [("Product Viewed", 0)],
    }
    personas = pa.table({"person_id": ["anna", "bram"], "persona": ["bargain hunter", "browser"]})
    engine = load({"journey_events": journeys_for(people), "person_personas": personas})
    spec = FunnelSpec.build(
        SHOP[:2], window="1h", breakdown="persona", breakdown_table="person_personas"
    )
    rows = {(r["breakdown"], r["step"]): r["persons"] for r in run_funnel(engine, spec).to_pylist()}
    assert rows == {
        ("bargain hunter", 1): 1,
        ("bargain hunter", 2): 1,
        ("browser", 1): 1,
        ("browser", 2): 0,
    }


def test_times_conversions_and_dropoffs(load):
    people = {
        "anna": [("Product Viewed", 0), ("Product Added", 10)],
        "bram": [("Product Viewed", 0), ("Product Added", 30)],
        "cees": [("Product Viewed", 0)],
    }
    engine = load({"journey_events": journeys_for(people)})
    spec = FunnelSpec.build(SHOP[:2], window="1h")
    fast, portable = (run_funnel(engine, spec, fast_path=f).to_pylist() for f in (True, False))
    assert fast == portable
    for fast_path in (True, False):
        result = run_funnel(engine, FunnelSpec.build(SHOP[:2], window="1h"), fast_path=fast_path)
        second = result.to_pylist()[1]
        assert second["persons"] == 2
        assert second["conversion_from_previous"] == pytest.approx(2 / 3)
        assert second["median_seconds"] == pytest.approx(1200.0)
        assert second["p90_seconds"] == pytest.approx(600 + 0.9 * 1200)
        assert second["dropped"] == 1
        assert result.dropoffs().to_pylist() == [
            {"step": 2, "breakdown": None, "person_id": "cees"}
        ]


def test_fast_path_survives_person_hash_collisions(load_duckdb, monkeypatch):
    """Two persons sharing a hash must not merge: the fast path regroups by person id."""
    from klantreis.measure.funnels import fast

    people = {
        "anna": [("Product Viewed", 0), ("Product Added", 10), ("Order Completed", 20)],
        "bram": [("Product Added", 5), ("Checkout Started", 15)],
        "cees": [("Product Viewed", 1), ("Checkout Started", 30), ("Order Completed", 40)],
    }
    engine = load_duckdb({"journey_events": journeys_for(people)})
    spec = FunnelSpec.build(SHOP, window="1h")
    expected = run_funnel(engine, spec, fast_path=False)
    # Every person gets the same bucket: a collision on every pair.
    monkeypatch.setattr(
        fast, "_SORTED", fast._SORTED.replace("hash(person_id)", "hash(person_id) * 0")
    )
    result = run_funnel(engine, spec)
    assert result.path == "duckdb-fast"
    assert result.persons() == expected.persons() == [2, 1, 0, 0]  # merged would be 4 steps
    assert result.dropoffs().to_pylist() == expected.dropoffs().to_pylist()


def test_thirty_two_steps(load_duckdb):
    # DuckDB only: on Spark local mode each of the ~70 stages is a job (minutes); the same
    # query shape is covered on Spark by test_eight_steps.
    steps = [f"Step {i}" for i in range(32)]
    people = {
        "long": [(s, i) for i, s in enumerate(steps)],
        "half": [(s, i) for i, s in enumerate(steps[:16])],
    }
    assert persons(load_duckdb, people, steps=steps, window="1d") == [2] * 16 + [1] * 16


def test_eight_steps(load):
    steps = [f"Step {i}" for i in range(8)]
    people = {
        "long": [(s, i) for i, s in enumerate(steps)],
        "half": [(s, i) for i, s in enumerate(steps[:4])],
    }
    assert persons(load, people, steps=steps, window="1d") == [2] * 4 + [1] * 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "sideways"}, "mode"),
        ({"window": "7 parsecs"}, "window"),
        ({"window": "0d"}, "window"),
        ({"breakdown": "a'b"}, "property name"),
        ({"attribution": "step"}, "attribution_step"),
    ],
)
def test_bad_questions_name_what_is_wrong(options, message):
    with pytest.raises(AnalysisError, match=message):
        FunnelSpec.build(SHOP, **options)


def test_missing_table_is_a_clear_error(load):
    engine = load({})
    with pytest.raises(AnalysisError, match="journey_events"):
        run_funnel(engine, FunnelSpec.build(SHOP))
