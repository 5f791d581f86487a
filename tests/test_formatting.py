"""Percentages and durations in the CLI come from Babel, in the locale's own words."""

from __future__ import annotations

from klantreis.present.formatting import duration, percent


def test_durations_take_the_largest_unit_with_one_decimal():
    assert [duration(s) for s in (45, 720, 5400, 129_600)] == ["45s", "12m", "1.5h", "1.5d"]
    assert duration(None) == "–"
    assert duration(5400, locale="nl") == "1,5 u"


def test_percentages():
    assert percent(0.12345) == "12.3%"
    assert percent(0.5, digits=0) == "50%"
    assert percent(None) == "–"
    assert percent(0.12345, locale="da") == "12,3%"
