"""The inbox's note before any case was opened: what opens them, in the reader's language."""

from __future__ import annotations

from pathlib import Path

from stories import story
from web.shop import shop_story

import klantreis
from klantreis.act.cases.opening import ever_opened
from klantreis.present.web.i18n import Lang
from klantreis.present.web.routes.cases import unopened_note


def test_the_note_says_what_opens_cases() -> None:
    routine = unopened_note(Lang("en"), 300)
    assert routine.startswith("No case has been opened yet")
    assert "every 5 min and right after each model refresh" in routine
    assert "`klantreis cases open` opens them now" in routine
    off = unopened_note(Lang("en"), None)
    assert "Run `klantreis cases open` to open them" in off and "inbox job is off" in off
    assert unopened_note(Lang("nl"), 300).startswith("Er is nog geen casus geopend")
    assert "elke 5 min" in unopened_note(Lang("nl"), 300)
    assert unopened_note(Lang("da"), None).startswith("Der er endnu ikke åbnet nogen sag")


def test_a_store_knows_whether_cases_were_ever_opened(tmp_path: Path) -> None:
    with klantreis.open(tmp_path / "shop.duckdb") as kr:
        kr.store.append(story(shop_story()))
        assert not ever_opened(kr)
        kr.cases.open()
        assert ever_opened(kr)
