"""Service recovery on the simulated shop: the figures equal an independent pandas computation
on the same rows, and the customers the simulator apologised to measurably review better."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

import klantreis
from klantreis.act.cases import open_cases
from klantreis.api import Klantreis

HORIZON, ACT = 90, 14


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Klantreis]:
    from klantreis.collect.simulator import SimulatorConfig, simulate

    path: Path = tmp_path_factory.mktemp("recovery") / "demo.duckdb"
    kr = klantreis.open(path)
    for batch in simulate(SimulatorConfig(persons=3000, seed=11)).iter_batches(50_000):
        kr.store.append(batch)
    open_cases(kr, max_age_days=60)
    # the shop resolves some delivery cases by phone, without a message
    for case in kr.cases.list(kind="breach", limit=10_000)[:15]:
        if case["expectation_id"] == "delivery_promise_kept":
            kr.cases.resolve([case["case_id"]], note="phoned")
    yield kr
    kr.close()


def _by_pandas(kr: Klantreis) -> pd.DataFrame:
    """Per comparable breached person: acted or not, first review, first NPS, bought again."""
    breaches = kr.sql("SELECT expectation_id, person_id, breached_at FROM breaches").to_pandas()
    first = breaches.dropna().groupby(["expectation_id", "person_id"], as_index=False).min()
    events = kr.sql(
        "SELECT person_id, event, timestamp, properties FROM journey_events WHERE event IN "
        "('Review Submitted', 'Survey Answered', 'Order Completed', 'Case Message Sent')"
    ).to_pandas()
    props = events["properties"].map(json.loads)
    events["rating"] = props.map(lambda p: p.get("rating"))
    events["nps"] = props.map(lambda p: p.get("score") if p.get("kind") == "nps" else None)
    events["about"] = props.map(lambda p: p.get("expectation_id"))
    resolved = kr.sql(
        "SELECT DISTINCT expectation_id, person_id FROM cases WHERE status = 'resolved'"
    ).to_pandas()
    resolved_keys = set(zip(resolved.expectation_id, resolved.person_id, strict=True))
    latest = kr.sql("SELECT max(timestamp) AS t FROM journey_events").to_pylist()[0]["t"]
    sent = events[events.event == "Case Message Sent"]
    if not sent.about.isna().any():  # an expectation nobody acted on has no figures
        first = first[first.expectation_id.isin(set(sent.about) | set(resolved.expectation_id))]
    by_person = {p: g.sort_values("timestamp") for p, g in events.groupby("person_id")}
    rows = []
    for b in first.itertuples():
        mine = by_person.get(b.person_id, events.iloc[0:0])
        later = mine[
            (mine.timestamp > b.breached_at)
            & (mine.timestamp <= b.breached_at + timedelta(days=HORIZON))
        ]
        messages = later[
            (later.event == "Case Message Sent")
            & (later.timestamp <= b.breached_at + timedelta(days=ACT))
            & (later.about.isna() | (later.about == b.expectation_id))
        ]
        reviews = later[(later.event == "Review Submitted") & later.rating.notna()]
        answers = later[later.nps.notna()]
        rows.append(
            {
                "expectation_id": b.expectation_id,
                "breached_at": b.breached_at,
                "acted": len(messages) > 0 or (b.expectation_id, b.person_id) in resolved_keys,
                "review": float(reviews.rating.iloc[0]) if len(reviews) else None,
                "nps": float(answers.nps.iloc[0]) if len(answers) else None,
                "repeat": bool((later.event == "Order Completed").any()),
            }
        )
    frame = pd.DataFrame(rows)
    since = frame[frame.acted].groupby("expectation_id").breached_at.min()
    frame = frame[frame.expectation_id.isin(since.index)]
    frame = frame[frame.breached_at >= frame.expectation_id.map(since)]
    return frame[frame.breached_at + timedelta(days=HORIZON) <= latest]


def test_recovery_equals_an_independent_computation_and_shows_the_lift(demo: Klantreis) -> None:
    found = {e["expectation_id"]: e for e in demo.recovery().as_json()["expectations"]}
    frame = _by_pandas(demo)
    assert set(found) == set(frame.expectation_id) and "delivery_promise_kept" in found
    for expectation_id, rows in frame.groupby("expectation_id"):
        figures = found[expectation_id]
        for name, group in (("acted", rows[rows.acted]), ("left_alone", rows[~rows.acted])):
            mine = figures["groups"][name]
            assert mine["persons"] == len(group) == figures[name]
            assert mine["reviews"] == group.review.notna().sum()
            if mine["reviews"]:
                assert mine["review"] == pytest.approx(group.review.mean(), abs=1e-4)
            answers = group.nps.dropna()
            assert mine["nps_answers"] == len(answers)
            if len(answers):
                nps = 100 * ((answers >= 9).mean() - (answers <= 6).mean())
                assert mine["nps"] == pytest.approx(nps)
            assert mine["repeat_purchase"] == pytest.approx(group.repeat.mean(), abs=1e-4)
    # the customers the simulator apologised to review measurably better
    delivery = found["delivery_promise_kept"]
    assert delivery["acted"] >= 40 and delivery["left_alone"] >= 100
    review = delivery["review"]
    assert review["difference"] > 0.3 and review["low"] > 0, review


def test_recovery_of_an_unknown_expectation_is_an_error(shop: Klantreis) -> None:
    from klantreis.errors import UnknownName

    with pytest.raises(UnknownName, match="did you mean 'delivery_promise_kept'"):
        shop.recovery(expectation="delivery_promise_kep")


def test_nobody_acted_on_gives_no_figures(shop: Klantreis) -> None:
    open_cases(shop)
    assert shop.recovery().expectations == []
