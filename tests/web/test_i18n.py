"""Every text the dashboard shows has a Dutch and a Danish translation; locales format numbers."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from klantreis.present.web.i18n import Lang, catalogue, negotiate

WEB = resources.files("klantreis.present.web")
# `_("text")`, `_('text')` and Python's implicit concatenation `gettext("a " "b")`.
_CALL = re.compile(r"""(?<![A-Za-z0-9])(?:_|gettext)\(\s*((?:"[^"]*"\s*)+|'[^']*')""")
# A piece ends at its own quote: an apostrophe inside "…" belongs to the text.
_PIECE = re.compile(r""""([^"]*)"|'([^']*)'""")


def used_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("templates", "routes", "."):
        for item in (WEB / folder).iterdir():
            if item.name.endswith((".html", ".svg", ".py")):
                found.update(
                    "".join(a + b for a, b in _PIECE.findall(m.group(1)))
                    for m in _CALL.finditer(item.read_text("utf-8"))
                )
    # Words looked up from constants (map lanes, outcomes, analysis statuses).
    from klantreis.present.web.mapview import OUTCOMES, RECOVERY_NOTE
    from klantreis.present.web.routes.cases import (
        KIND_WORDS,
        MESSAGE_WORDS,
        PRIORITY_WORDS,
        REASON_WORDS,
        SORT_WORDS,
        STATUS_WORDS,
    )
    from klantreis.present.web.routes.cases import NOTE_WORDS as CASE_NOTE_WORDS
    from klantreis.present.web.routes.journey_map import LANE_LABELS
    from klantreis.present.web.routes.pages import ANALYSIS_WORDS
    from klantreis.present.web.routes.products import (
        DRIVER_WORDS,
        NOTE_WORDS,
        OUTCOME_WORDS,
        PART_WORDS,
    )
    from klantreis.present.web.routes.returns import RETURN_OUTCOME_WORDS, TIME_WORDS
    from klantreis.present.web.routes.value import CHURN_WORDS

    found.update(
        LANE_LABELS.values(), OUTCOMES.values(), ANALYSIS_WORDS, REASON_WORDS, [RECOVERY_NOTE]
    )
    for words in (
        OUTCOME_WORDS,
        DRIVER_WORDS,
        PART_WORDS,
        NOTE_WORDS,
        RETURN_OUTCOME_WORDS,
        TIME_WORDS,
        CHURN_WORDS,
        KIND_WORDS,
        STATUS_WORDS,
        PRIORITY_WORDS,
        MESSAGE_WORDS,
        CASE_NOTE_WORDS,
        SORT_WORDS,
    ):
        found.update(words.values())
    return found


@pytest.mark.parametrize("lang", ["nl", "da"])
def test_every_message_is_translated(lang: str) -> None:
    missing = sorted(used_messages() - set(catalogue(lang)))
    assert not missing, f"{lang} lacks: {missing}"


def test_messages_are_found() -> None:
    # The extractor itself must see the texts, or the test above proves nothing.
    assert {"Journey map", "Log in", "Pain points", "Wrong user name or password."} <= (
        used_messages()
    )


def test_accept_language_negotiation() -> None:
    assert negotiate("da-DK,da;q=0.9,en;q=0.5") == "da"
    assert negotiate("fr-FR, nl;q=0.4, en;q=0.8") == "en"
    assert negotiate("de") == "en"
    assert negotiate(None) == "en"
    assert negotiate("nl-BE;q=0.9, da;q=0.2") == "nl"


def test_numbers_and_dates_follow_the_locale() -> None:
    from datetime import date

    assert Lang("nl").num(12345.5, 1) == "12.345,5"
    assert Lang("en").num(12345.5, 1) == "12,345.5"
    assert Lang("da").pct(0.123, 1) == "12,3\xa0%" or Lang("da").pct(0.123, 1) == "12,3%"
    assert Lang("nl").date(date(2026, 3, 4)) == "4 mrt 2026"
    assert Lang("en").duration(3 * 86400) == "3 days"
    assert Lang("nl").gettext("late: promised {date}", date="4 mrt") == "te laat: beloofd 4 mrt"


def test_one_customer_is_said_in_the_singular() -> None:
    """The expectations page's customers hit by a breach (value at risk): "1 klant"."""
    assert Lang("nl").customers(1) == "1 klant"
    assert Lang("da").customers(1) == "1 kunde"
    assert Lang("en").customers(1) == "1 customer"
    assert Lang("nl").customers(1439) == "1.439 klanten"
    assert Lang("en").customers(2) == "2 customers"
