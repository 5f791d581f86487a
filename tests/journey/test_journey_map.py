"""The journey map from a story whose numbers we can count by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from klantreis.present.export.journey_map_html import render


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    handle.store.append(
        story(
            {
                "anna": [
                    ("Products Searched", "09:00"),
                    ("Product Viewed", "09:05"),
                    ("Checkout Started", "09:20"),
                    ("Order Completed", "09:25", {"properties": {"order_id": "A1"}}),
                    ("Order Delivered", "2026-03-04T10:00", {"properties": {"order_id": "A1"}}),
                    (
                        "Review Submitted",
                        "2026-03-05T10:00",
                        {
                            "properties": {
                                "order_id": "A1",
                                "rating": 5,
                                "text": "<script>alert('x')</script> snel!",
                            }
                        },
                    ),
                ],
                "bram": [
                    ("Products Searched", "11:00"),
                    ("Product Viewed", "11:10"),
                ],
                "cato": [
                    ("Product Viewed", "12:00"),
                    ("Order Completed", "12:30", {"properties": {"order_id": "C1"}}),
                    (
                        "Review Submitted",
                        "2026-03-09T10:00",
                        {"properties": {"order_id": "C1", "rating": 2}},
                    ),
                ],
            }
        )
    )
    yield handle
    handle.close()


def test_counts_per_phase(kr):
    journey_map = kr.journey_map()
    phases = {p.id: p for p in journey_map.phases}
    assert [p.id for p in journey_map.phases] == [
        "awareness",
        "orientation",
        "consideration",
        "purchase",
        "service",
        "evaluation",
    ]
    assert phases["awareness"].persons == 0
    assert phases["orientation"].persons == 2
    assert phases["consideration"].persons == 3
    assert phases["purchase"].persons == 2
    # orientation -> consideration: both searching journeys viewed a product
    assert phases["orientation"].conversion_to_next == 1.0
    # consideration -> purchase: 2 of 3 journeys
    assert phases["consideration"].conversion_to_next == pytest.approx(2 / 3, abs=1e-4)
    assert phases["evaluation"].conversion_to_next is None
    # anna: consideration 09:05 -> purchase 09:20 = 15 min; bram 0 (ends there); cato 30 min
    assert phases["consideration"].median_time_seconds == 15 * 60
    assert journey_map.totals["persons"] == 3
    assert journey_map.totals["converted"] == 2


def test_emotion_from_review_scores(kr):
    evaluation = kr.journey_map().phases[-1]
    assert evaluation.emotion["mean_rating"] == 3.5
    assert evaluation.emotion["value"] == pytest.approx(0.25)
    assert evaluation.emotion["n"] == 2


def test_period_cut(kr):
    journey_map = kr.journey_map(start="2026-03-03")
    phases = {p.id: p for p in journey_map.phases}
    assert phases["consideration"].persons == 0
    assert phases["evaluation"].persons == 2


def test_aida_map(kr):
    journey_map = kr.journey_map("aida")
    assert [p.id for p in journey_map.phases] == ["attention", "interest", "desire", "action"]


def test_arrow_pandas_polars(kr):
    journey_map = kr.journey_map()
    assert journey_map.to_arrow().num_rows == 6
    assert journey_map.to_pandas()["phase"].iloc[0] == "awareness"
    assert journey_map.to_polars().height == 6


def test_html_is_self_contained_and_escaped(kr):
    html = render(kr.journey_map())
    assert "<script" not in html.lower()
    # nothing is fetched: the only address is the SVG namespace, which is a name, not a link
    outside = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in outside and "https://" not in outside
    assert "Consideration" in html


def test_unknown_persona_cut_is_a_clear_error(kr):
    from klantreis.measure.filters import FilterError

    with pytest.raises(FilterError, match="personas"):
        kr.journey_map(persona="bargain hunters")


def _one_opportunity_map(*, placed: bool):
    """A one-phase map with one opportunity (−1.69 stars per order), in that phase or on the
    whole journey."""
    from klantreis.measure.journey_map import JourneyMap
    from klantreis.measure.journey_map.result import Opportunity, PhaseSummary

    opportunity = Opportunity(
        "Delivered on time", "expectation", "delivery_promise_kept", "review_score", -1.69
    )
    phase = PhaseSummary("purchase", "Purchase", 0, persons=10, journeys=10)
    if placed:
        phase.opportunities = [opportunity]
    return JourneyMap(
        definition="six-phase",
        definition_label="Six phases",
        language="en",
        cut={},
        totals={"persons": 10, "journeys": 10},
        phases=[phase],
        opportunities=[] if placed else [opportunity],
    )


def test_exported_map_writes_the_opportunity_effect_with_its_unit():
    from klantreis.present.export.journey_map_html import render

    journey_map = _one_opportunity_map(placed=False)
    html = render(journey_map)
    assert "−1.7 stars per order" in html
    assert "effect -1.69" not in html
    dutch = render(journey_map, language="nl")
    assert "−1,7 sterren per" in dutch and "stars" not in dutch


def test_the_map_scores_no_text_and_says_how_many_are_waiting(kr):
    """Scoring is `voice update`'s job (minutes at shop scale): the map reads stored scores,
    and a reader is told how many texts the emotion and topics do not hold yet."""
    from klantreis.measure.voice.stored import update_voice
    from klantreis.present.cli.commands.journey import journey_map_sentences

    journey_map = kr.journey_map()
    waiting = [n.texts for n in journey_map.notes if n.kind == "unscored_texts"]
    assert waiting == [1]  # anna's review; cato's has a rating but no words
    assert kr.sql("SELECT count(*) AS n FROM voice").to_pylist() == [{"n": 0}]
    assert "1 customer text is not scored yet" in render(journey_map)
    assert any("1 customer text is not scored yet" in s for s in journey_map_sentences(journey_map))

    assert update_voice(kr.store, kr.engine).scored == 1
    journey_map = kr.journey_map()
    assert not [n for n in journey_map.notes if n.kind == "unscored_texts"]
    assert journey_map.phases[-1].emotion["source"] == "voice"


def test_the_map_reads_the_ranked_opportunities_and_ranks_none_itself(kr):
    """Ranking is a regression over every order: the map shows what was last stored and says
    when nothing is ranked yet, or when the ranking predates the latest events."""
    journey_map = kr.journey_map()
    assert "opportunities_not_ranked" in [n.kind for n in journey_map.notes]
    # The table may exist (empty): a store creates every table a module registered before
    # it, and an earlier ranking in the same process registers `opportunity_results`.
    ranked = kr.engine.has_table("opportunity_results") and kr.engine.scalar(
        "SELECT count(*) FROM opportunity_results"
    )
    assert not ranked
    assert "Opportunities are not ranked yet" in render(journey_map)

    kr.opportunities()
    assert not {"opportunities_not_ranked", "opportunities_stale"} & {
        n.kind for n in kr.journey_map().notes
    }

    kr.store.append(story({"dirk": [("Product Viewed", "2026-03-10T09:00")]}))
    assert "opportunities_stale" in [n.kind for n in kr.journey_map().notes]


def test_the_waiting_texts_are_counted_without_reading_them_after_a_first_scoring(kr):
    from klantreis.measure.voice.stored import WORDLESS_META, unscored_texts, update_voice

    update_voice(kr.store, kr.engine)
    assert kr.store.get_meta(WORDLESS_META) == "1"  # cato's review: a rating, no words
    assert unscored_texts(kr.store, kr.engine) == 0
    review = {"properties": {"order_id": "C1", "rating": 1, "text": "Kapot aangekomen"}}
    kr.store.append(story({"cato": [("Review Submitted", "2026-03-11T10:00", review)]}))
    assert unscored_texts(kr.store, kr.engine) == 1
    assert [n.texts for n in kr.journey_map().notes if n.kind == "unscored_texts"] == [1]


def test_the_lanes_are_stored_per_model_and_recomputed_after_new_events(kr):
    first = kr.journey_map()
    stored = kr.sql("SELECT definition, lanes FROM journey_map_lanes").to_pylist()
    assert [r["definition"] for r in stored] == ["six-phase"]
    again = kr.journey_map()
    assert again.to_dict() == first.to_dict()
    assert kr.journey_map(language="nl").phases[2].label != first.phases[2].label
    assert kr.journey_map(start="2026-03-03").phases[2].persons == 0  # a cut: computed

    kr.store.append(story({"dirk": [("Product Viewed", "2026-03-10T09:00")]}))
    after = {p.id: p for p in kr.journey_map().phases}
    assert after["consideration"].persons == 4
    assert kr.journey_map().totals["persons"] == 4


def test_an_opportunitys_effect_is_wrapped_to_its_column_in_every_language():
    """A column is ~36 characters wide; the Danish effect ("anmeldelsesscore: −1,7 stjerner
    pr. ordre") is wider, and SVG text does not wrap by itself: it ran past the map's edge."""
    import re

    from klantreis.present.export.journey_map_html import render

    journey_map = _one_opportunity_map(placed=True)
    for language in ("en", "nl", "da"):
        html = render(journey_map, language=language)
        lines = re.findall(r'<text class="opp"[^>]*>([^<]*)</text>', html)
        assert any("1,7" in line or "1.7" in line for line in lines), (language, lines)
        assert max(len(line) for line in lines) <= 36, (language, lines)


def test_opportunities_the_lanes_do_not_place_are_placed_by_one_query_per_kind(kr):
    """An expectation without a pain point on the map goes where most of its breaches are,
    a touchpoint outside the map's lanes where most persons meet it: one query for all the
    expectations and one for all the touchpoints, not a scan of the events per opportunity."""
    from sqlglot import exp

    from klantreis.measure.expectations.cases import ensure_cases
    from klantreis.measure.journey_map.placement import place_opportunities
    from klantreis.measure.journey_map.result import PhaseSummary

    late = {"order_id": "D1", "promised_delivery_date": "2026-03-02"}
    kr.store.append(
        story(
            {
                "dora": [
                    ("Order Completed", "2026-03-01T09:00", {"properties": late}),
                    ("Order Delivered", "2026-03-06T10:00", {"properties": {"order_id": "D1"}}),
                ]
            }
        )
    )
    ensure_cases(kr)
    breached = kr.engine.rows(
        "SELECT expectation_id, phase, count(*) AS n FROM breaches GROUP BY ALL ORDER BY n DESC"
    )
    assert breached
    met = kr.engine.rows(
        "SELECT touchpoint, phase, count(DISTINCT person_id) AS n FROM journey_events "
        "WHERE touchpoint IS NOT NULL GROUP BY ALL ORDER BY n DESC, phase"
    )
    expectation, touchpoint = breached[0]["expectation_id"], met[0]["touchpoint"]
    phases = [
        PhaseSummary(id=p, label=p, index=i)
        for i, p in enumerate(r["phase_id"] for r in kr.engine.rows(_PHASE_IDS))
    ]
    items = [
        {"kind": "expectation", "driver": expectation, "title": "e"},
        {"kind": "touchpoint", "driver": touchpoint, "title": "t"},
        {"kind": "touchpoint", "driver": "no such touchpoint", "title": "n"},
        {"kind": "expectation", "driver": "no_such_rule", "title": "x"},
    ]
    queries: list[str] = []
    fetch = kr.engine.fetch

    def counted(query, /, **params):
        queries.append(str(query))
        return fetch(query, **params)

    kr.engine.fetch = counted  # every query of the engine (`rows`, `scalar`) goes through it
    try:
        unplaced = place_opportunities(kr, items, phases, {}, (exp.true(), exp.true()))
    finally:
        del kr.engine.fetch
    placed = {o.driver: p.id for p in phases for o in p.opportunities}
    assert placed == {expectation: breached[0]["phase"], touchpoint: met[0]["phase"]}
    assert sorted(o.driver for o in unplaced) == ["no such touchpoint", "no_such_rule"]
    assert len(queries) == 2


_PHASE_IDS = "SELECT DISTINCT phase AS phase_id FROM journey_events WHERE phase IS NOT NULL"
