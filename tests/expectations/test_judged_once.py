"""Cases judged at a named moment are read, not judged again, by the analyses after them that
name none (opportunities, the map, the routine's jobs) while they hold every event; and cases
judged at the newest event are those asked for at that moment by name."""

from __future__ import annotations

from datetime import datetime

import pytest
from stories import story

from expectations.promised_orders import DELIVERED, LATER, ORDER
from klantreis.measure.expectations import cases
from klantreis.measure.expectations.cases import ensure_cases

NEWEST = datetime(2026, 3, 9, 9, 0)


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The moment of every judging of every rule (a compiled case query bound to a moment)."""
    moments: list[datetime] = []
    real = cases.at_moment

    def counted(query, as_of):
        moments.append(as_of)
        return real(query, as_of)

    monkeypatch.setattr(cases, "at_moment", counted)
    return moments


def _status(kr) -> str:
    return kr.sql(
        "SELECT status FROM expectation_cases "
        "WHERE expectation_id = 'delivery_promise_kept' AND case_id = 'o1'"
    ).to_pylist()[0]["status"]


def test_the_judge_step_at_a_moment_is_read_by_opportunities(kr, judged) -> None:
    kr.store.append(story({"ann": [ORDER, LATER], "cas": DELIVERED}))
    moment = datetime(2026, 6, 30)
    assert kr.evaluate_expectations(now=moment).as_of == moment
    kr.opportunities()
    assert judged == [moment]
    again = ensure_cases(kr)
    assert not again.rebuilt and again.as_of == moment
    assert judged == [moment]


def test_a_moment_before_the_newest_event_is_judged_again(kr, judged) -> None:
    kr.store.append(story({"ann": [ORDER, LATER], "cas": DELIVERED}))
    early = datetime(2026, 3, 4)
    assert ensure_cases(kr, now=early).rebuilt
    assert _status(kr) == "open"
    latest = ensure_cases(kr)
    assert latest.rebuilt and latest.as_of == NEWEST
    assert judged == [early, NEWEST]
    assert _status(kr) == "unresolved"


def test_the_newest_event_by_name_is_the_newest_event(kr, judged) -> None:
    kr.store.append(story({"ann": [ORDER, LATER], "cas": DELIVERED}))
    assert ensure_cases(kr).as_of == NEWEST
    named = ensure_cases(kr, now=NEWEST)
    assert not named.rebuilt and named.as_of == NEWEST
    assert judged == [NEWEST]


def test_new_events_make_cases_of_a_named_moment_stale(kr, judged) -> None:
    kr.store.append(story({"ann": [ORDER, LATER], "cas": DELIVERED}))
    moment = datetime(2026, 6, 30)
    ensure_cases(kr, now=moment)
    kr.store.append(story({"ben": [("Page Viewed", "2026-03-10T09:00")]}))
    assert ensure_cases(kr).rebuilt
    assert judged == [moment, datetime(2026, 3, 10, 9, 0)]
