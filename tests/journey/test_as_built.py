"""A dashboard page reads the model and the results stored after it as they are: right after
new events it answers from them and refreshes, judges and computes nothing (the server's
routine does); outside a page the analyses bring them up to date as always."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.model import ensure_built
from klantreis.model.as_built import as_built
from klantreis.present.web.board import results_fingerprint

SHOP = {
    "anna": [
        ("Product Viewed", "09:05"),
        ("Order Completed", "09:25", {"properties": {"order_id": "A1"}}),
        ("Order Delivered", "2026-03-04T10:00", {"properties": {"order_id": "A1"}}),
    ],
    "bram": [("Product Viewed", "11:10")],
}
LATER = {"dirk": [("Product Viewed", "2026-03-10T09:00")]}


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    handle.store.append(story(SHOP))
    yield handle
    handle.close()


def test_after_new_events_a_page_reads_what_is_stored(kr) -> None:
    first_map = kr.journey_map()
    first_card = kr.expectations().to_dict()
    model = kr.store.get_meta("model_fingerprint")
    stamp = results_fingerprint(kr.store)
    kr.store.append(story(LATER))
    assert results_fingerprint(kr.store) == stamp  # new events alone: the page stays

    with as_built():
        assert not ensure_built(kr)
        assert kr.store.get_meta("model_fingerprint") == model
        assert not ensure_cases(kr).rebuilt
        assert kr.journey_map().totals["persons"] == first_map.totals["persons"] == 2
        assert kr.expectations().to_dict() == first_card

    assert ensure_built(kr)  # outside a page: brought up to date
    assert results_fingerprint(kr.store) != stamp
    assert kr.journey_map().totals["persons"] == 3
    with as_built():  # the lanes of the new model are stored now: read
        assert kr.journey_map().totals["persons"] == 3


def test_with_nothing_stored_a_page_computes(kr) -> None:
    with as_built():
        assert ensure_built(kr)  # no model yet: built
        assert ensure_cases(kr).rebuilt
        assert kr.journey_map().totals["persons"] == 2
