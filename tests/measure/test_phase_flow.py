"""Time in phase and the phase-transition matrix, on every engine."""

from __future__ import annotations

import pytest
from journeys import journeys_for

from klantreis.measure.phase_flow import run_phase_transitions, run_time_in_phase

PEOPLE = {
    # consideration 0-10, purchase 10-15, back to consideration 15-20 (journey ends at 20)
    "anna": [
        ("Product Viewed", 0),
        ("Product Added", 5),
        ("Checkout Started", 10),
        ("Order Completed", 15, {"phase": "consideration", "phase_index": 2}),
        ("Product Viewed", 20),
    ],
    "bram": [("Product Viewed", 0), ("Checkout Started", 30)],
}


def test_time_in_phase(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    rows = {r["phase"]: r for r in run_time_in_phase(engine).to_pylist()}
    # anna: consideration 10 + 5 minutes; bram: 30 minutes
    assert rows["consideration"]["journeys"] == 2
    assert rows["consideration"]["median_seconds"] == pytest.approx((15 * 60 + 30 * 60) / 2)
    # anna's purchase stay lasts 5 minutes; bram's ends with his journey (0 seconds)
    assert rows["purchase"]["persons"] == 2
    assert rows["purchase"]["mean_seconds"] == pytest.approx(150.0)


def test_phase_transition_matrix(load):
    engine = load({"journey_events": journeys_for(PEOPLE)})
    got = {
        (r["from_phase"], r["to_phase"]): (r["transitions"], r["persons"])
        for r in run_phase_transitions(engine).to_pylist()
    }
    assert got == {
        ("consideration", "purchase"): (2, 2),
        ("purchase", "consideration"): (1, 1),
        ("consideration", None): (1, 1),
        ("purchase", None): (1, 1),
    }


def test_events_at_the_same_moment_go_through_their_phases_in_order(load):
    """A purchase recorded at the same moment as a product page, its event listed (and its
    message id ordered) first: the customer went from consideration to purchase, and the ten
    minutes until the next page are the purchase's. Ordered by message id, the page came after
    the purchase and took them."""
    people = {
        "cleo": [
            ("Order Completed", 0),
            ("Product Viewed", 0),
            ("Product Viewed", 10),
        ]
    }
    engine = load({"journey_events": journeys_for(people)})
    rows = {r["phase"]: r for r in run_time_in_phase(engine).to_pylist()}
    assert rows["purchase"]["mean_seconds"] == pytest.approx(600.0)
    assert rows["consideration"]["mean_seconds"] == pytest.approx(0.0)
    got = {
        (r["from_phase"], r["to_phase"]): r["transitions"]
        for r in run_phase_transitions(engine).to_pylist()
    }
    assert got == {
        ("consideration", "purchase"): 1,
        ("purchase", "consideration"): 1,
        ("consideration", None): 1,
    }
