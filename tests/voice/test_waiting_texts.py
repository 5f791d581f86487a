"""The voice analysis says how many customer texts its rows leave out because they are not
scored yet: what the voice page tells its reader while the server's routine has not scored
them (docs/web.md)."""

from __future__ import annotations

from pathlib import Path

from stories import story
from web.shop import shop_story

import klantreis
from klantreis.measure.voice.stored import unscored_texts, update_voice
from klantreis.model.as_built import as_built
from klantreis.present.web.i18n import Lang
from klantreis.present.web.routes.pages import unscored_note


def test_voice_counts_the_texts_it_leaves_out(tmp_path: Path) -> None:
    with klantreis.open(tmp_path / "shop.duckdb") as kr:
        kr.store.append(story(shop_story()))
        waiting = unscored_texts(kr.store, kr.engine)
        assert waiting == 3  # a ticket and two reviews
        with as_built():  # a page's read: it scores nothing
            read = kr.voice()
        assert read.meta["unscored_texts"] == waiting
        assert read.to_pylist() == []
        update_voice(kr.store, kr.engine)
        with as_built():
            scored = kr.voice()
        assert scored.meta["unscored_texts"] == 0
        assert scored.to_pylist()
        # a read outside a page scores the texts first: none is left out
        kr.store.append(story({"dirk": [("Review Submitted", "12:00", _review("r9"))]}))
        assert kr.voice().meta["unscored_texts"] == 0


def test_a_read_only_store_keeps_no_count(tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    with klantreis.open(path) as kr:
        kr.store.append(story(shop_story()))
    with klantreis.open(path, read_only=True) as kr, as_built():
        assert kr.voice().meta["unscored_texts"] is None


def _review(review_id: str) -> dict[str, object]:
    return {
        "channel": "review site",
        "properties": {"review_id": review_id, "rating": 2, "text": "Te laat en kapot"},
    }


def test_the_note_says_what_scores_the_texts() -> None:
    en, nl, da = Lang("en"), Lang("nl"), Lang("da")
    assert unscored_note(en, 0, 300) == []
    routine = " ".join(unscored_note(en, 1234, 300))
    assert routine.startswith("1,234 customer texts are waiting to be scored")
    assert "every 5 min and right after each model refresh" in routine
    assert "`klantreis voice update` scores them now" in routine
    off = " ".join(unscored_note(en, 1, None))
    assert off.startswith("1 customer text is waiting") and "leave it out" in off
    assert "its voice job is off" in off
    assert " ".join(unscored_note(nl, 1234, 300)).startswith("1.234 klantteksten wachten")
    assert "elke 5 min" in " ".join(unscored_note(nl, 1234, 300))
    assert " ".join(unscored_note(da, 1234, None)).startswith("1.234 kundetekster venter")
