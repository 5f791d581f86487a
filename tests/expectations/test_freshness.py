"""The stored cases are current, or judged again: told from what they were judged on, kept
next to them, without compiling a rule or reading an event when nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from expectations.promised_orders import DELIVERED, LATER, ORDER
from klantreis.measure.expectations import cases
from klantreis.measure.expectations.cases import JUDGED_META, ensure_cases


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often the shared case query is built (the compile cache emptied first)."""
    calls: list[int] = []
    real = cases.cases_query

    def counted(rules, ctx, persons=None):
        calls.append(len(rules))
        return real(rules, ctx, persons)

    monkeypatch.setattr(cases, "cases_query", counted)
    cases._compiled.cache_clear()
    return calls


def _status(kr, case_id: str) -> str:
    return kr.sql(
        "SELECT status FROM expectation_cases "
        "WHERE expectation_id = 'delivery_promise_kept' AND case_id = :c",
        c=case_id,
    ).to_pylist()[0]["status"]


def test_current_cases_are_neither_compiled_nor_judged_again(kr, compiled) -> None:
    kr.store.append(story({"ann": [ORDER], "cas": DELIVERED}))
    first = ensure_cases(kr)
    assert first.rebuilt and len(compiled) == 1
    cases._compiled.cache_clear()  # what a fresh process has: nothing compiled yet
    again = ensure_cases(kr)
    assert not again.rebuilt and compiled == [compiled[0]]
    assert (again.as_of, again.no_data) == (first.as_of, first.no_data)


def test_a_new_handle_reads_what_they_were_judged_on(kr, tmp_path: Path, compiled) -> None:
    kr.store.append(story({"ann": [ORDER], "cas": DELIVERED}))
    first = ensure_cases(kr)
    path = kr.settings.store
    kr.close()
    cases._compiled.cache_clear()
    with klantreis.open(path) as other:
        again = ensure_cases(other)
        assert not again.rebuilt
        assert (again.as_of, again.no_data) == (first.as_of, first.no_data)
        assert other.store.get_meta(JUDGED_META)
    assert len(compiled) == 1


def test_new_events_make_them_stale(kr, compiled) -> None:
    """A later event of someone else moves the moment judged at: the open order's promised
    date has passed (this rule leaves an order never delivered unresolved). The rules are
    compiled once: the moment is bound into the compiled query when it runs."""
    kr.store.append(story({"ann": [ORDER], "cas": DELIVERED}))
    assert ensure_cases(kr).rebuilt
    assert _status(kr, "o1") == "open"
    kr.store.append(story({"ben": [LATER]}))
    judged = ensure_cases(kr)
    assert judged.rebuilt and len(compiled) == 1
    assert _status(kr, "o1") == "unresolved"
    assert not ensure_cases(kr).rebuilt


def test_changed_rules_make_them_stale(kr, tmp_path: Path) -> None:
    kr.store.append(story({"ann": [ORDER, LATER], "cas": DELIVERED}))
    assert ensure_cases(kr).rebuilt
    before = kr.sql("SELECT count(*) AS n FROM expectation_cases").to_pylist()[0]["n"]
    assert before
    config = Path(kr.settings.store).parent / "klantreis.toml"
    config.write_text('[expectations]\ndisabled = ["delivery_promise_kept"]\n', encoding="utf-8")
    with klantreis.open(kr.settings.store) as changed:
        judged = ensure_cases(changed)
        assert judged.rebuilt
        assert "delivery_promise_kept" not in {r.id for r in judged.rules}
        left = changed.sql(
            "SELECT count(*) AS n FROM expectation_cases "
            "WHERE expectation_id = 'delivery_promise_kept'"
        ).to_pylist()[0]["n"]
        assert left == 0
        assert not ensure_cases(changed).rebuilt


def test_another_comparison_or_moment_makes_them_stale(kr) -> None:
    kr.store.append(story({"ann": [ORDER, LATER], "cas": DELIVERED}))
    assert ensure_cases(kr).rebuilt
    assert ensure_cases(kr, compare="day").rebuilt
    assert not ensure_cases(kr, compare="day").rebuilt
    from datetime import datetime

    moment = datetime(2026, 3, 4)
    judged = ensure_cases(kr, compare="day", now=moment)
    assert judged.rebuilt and judged.as_of == moment
    assert _status(kr, "o1") == "open"
    assert not ensure_cases(kr, compare="day", now=moment).rebuilt


def test_changed_kind_code_makes_them_stale(kr, monkeypatch: pytest.MonkeyPatch) -> None:
    kr.store.append(story({"ann": [ORDER], "cas": DELIVERED}))
    assert ensure_cases(kr).rebuilt
    monkeypatch.setattr(cases, "_code_of", lambda kind_ids: "another version of the kinds")
    assert ensure_cases(kr).rebuilt


def test_the_scorecard_is_stored_per_judged_cases_and_read_back(
    demo_kr, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The uncut scorecard's figures are computed once per judged cases; read back they give
    the same scorecard, in any language; a cut scorecard is computed each time."""
    from klantreis.measure.expectations import scorecard

    computed: list[str] = []
    real = scorecard._parts

    def counted(kr, case_set, cut_tree, by, trend_period):
        computed.append(by or "")
        return real(kr, case_set, cut_tree, by, trend_period)

    monkeypatch.setattr(scorecard, "_parts", counted)
    demo_kr.store.connection.execute("DROP TABLE IF EXISTS expectation_scorecards")
    first = demo_kr.expectations(by="phase").to_dict()
    assert computed == ["phase"]
    again = demo_kr.expectations(by="phase").to_dict()
    assert computed == ["phase"] and again == first
    assert any(e["cases"] for e in again["expectations"])
    dutch = demo_kr.expectations(by="phase", language="nl").to_dict()
    assert computed == ["phase"]
    assert [e["breached"] for e in dutch["expectations"]] == [
        e["breached"] for e in first["expectations"]
    ]
    assert [e["title"] for e in dutch["expectations"]] != [
        e["title"] for e in first["expectations"]
    ]
    monkeypatch.setattr(scorecard, "_parts", real)
    fresh = scorecard.build_scorecard(demo_kr, by="phase")  # computed, for comparison
    demo_kr.store.connection.execute("DELETE FROM expectation_scorecards")
    assert scorecard.build_scorecard(demo_kr, by="phase").to_dict() == fresh.to_dict() == first
    monkeypatch.setattr(scorecard, "_parts", counted)
    demo_kr.expectations(start="2000-01-01")
    demo_kr.expectations(start="2000-01-01")
    assert computed == ["phase", "", ""]


def test_new_events_make_the_stored_scorecard_stale(kr) -> None:
    kr.store.append(story({"ann": [ORDER], "cas": DELIVERED}))
    assert kr.expectations().get("delivery_promise_kept").open == 1
    kr.store.append(story({"ben": [LATER]}))
    score = kr.expectations().get("delivery_promise_kept")
    assert (score.open, score.unresolved) == (0, 1)
    rows = kr.sql("SELECT count(*) AS n FROM expectation_scorecards").to_pylist()
    assert rows[0]["n"] == 1  # the figures of cases judged before are dropped
