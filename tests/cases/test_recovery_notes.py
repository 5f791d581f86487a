"""The recovery figure as a note on the map's pain point, in the reader's language."""

from __future__ import annotations

from klantreis.present.web.i18n import Lang
from klantreis.present.web.mapview import MapView, Named, PhaseColumn, recovery_lines

FIGURE = {
    "expectation_id": "delivery_promise_kept",
    "acted": 65,
    "left_alone": 198,
    "review": {"difference": 0.7304, "low": 0.2301, "high": 1.2307},
}


def _view(*pains: Named) -> MapView:
    column = PhaseColumn(id="service", label="Service", persons=10, pains=list(pains))
    return MapView(definition="six-phase", phases=[column], recovery=[FIGURE])


def test_a_pain_point_acted_on_gets_its_recovery_note() -> None:
    view = _view(Named("Delivery promise kept", 40, expectation="delivery_promise_kept"))
    (line,) = recovery_lines(view, Lang("en"))
    assert "review score +0.73 (+0.23 … +1.23)" in line and "65 acted on" in line
    (dutch,) = recovery_lines(view, Lang("nl"))
    assert "+0,73" in dutch and "65 met actie" in dutch


def test_no_note_for_an_expectation_that_is_not_on_the_map() -> None:
    view = _view(Named("Search finds", 12, expectation="search_finds"))
    assert recovery_lines(view, Lang("en")) == []


def test_the_inboxs_own_notes_read_in_the_readers_language() -> None:
    from klantreis.present.web.routes.cases import note_text

    dutch = Lang("nl")
    assert note_text("message apology sent by e-mail", dutch).startswith("bericht “Excuses”")
    assert note_text("message delay_notice sent by webhook", Lang("da")) == (
        "besked “Besked om forsinkelse” sendt via webhook"
    )
    assert note_text("assigned to anna", dutch) == "toegewezen aan anna"
    assert note_text("resolved", dutch) == "opgelost"
    assert note_text("called her, all fine", dutch) == "called her, all fine"
