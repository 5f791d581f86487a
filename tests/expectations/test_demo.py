"""The scorecard on the demo shop: every default expectation has data there, and the counts agree
with plain SQL over the raw `events` table (not through the model)."""

from __future__ import annotations

import pytest

from klantreis.measure.expectations.ruleset import default_rules
from klantreis.model import load_definition

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def card(demo_kr):
    return demo_kr.expectations()


def raw(kr, sql: str):
    return kr.store.connection.execute(sql).fetchall()


def test_every_default_expectation_has_data_on_the_demo(card):
    for rule in default_rules():
        score = card.get(rule.id)
        assert score.status != "no data", (rule.id, score.no_data_reason)
        assert score.cases > 0 and score.breach_rate is not None
        assert score.interval["low"] <= score.breach_rate <= score.interval["high"]
    for rule_id in (
        "delivery_promise_kept",
        "order_confirmed_fast",
        "payment_confirmed",
        "support_first_response",
        "return_processed",
        "consented_contact_only",
    ):
        assert card.get(rule_id).breached > 0, rule_id


def test_missing_confirmations_match_the_raw_events(demo_kr, card):
    ((expected,),) = raw(
        demo_kr,
        """
        SELECT count(DISTINCT o.properties ->> '$.order_id') FROM events AS o
        WHERE o.event = 'Order Completed' AND NOT EXISTS (
            SELECT 1 FROM events AS c WHERE c.event = 'Order Confirmation Sent'
              AND c.properties ->> '$.order_id' = o.properties ->> '$.order_id')
          AND o.timestamp + INTERVAL 5 MINUTE <= (SELECT max(timestamp) FROM events)""",
    )
    got = demo_kr.sql(
        "SELECT count(*) AS n FROM breaches WHERE expectation_id = "
        "'order_confirmed_fast' AND detail = 'missing'"
    ).to_pylist()[0]["n"]
    assert got == expected > 0


def test_slow_refunds_match_the_raw_events(demo_kr, card):
    ((cases, slow),) = raw(
        demo_kr,
        """
        WITH r AS (SELECT properties ->> '$.return_id' AS id, min(timestamp) AS at
                   FROM events WHERE event = 'Return Received' GROUP BY 1),
             f AS (SELECT properties ->> '$.return_id' AS id, min(timestamp) AS at
                   FROM events WHERE event = 'Order Refunded' GROUP BY 1)
        SELECT count(*), count(*) FILTER (WHERE f.at > r.at + INTERVAL 5 DAY)
        FROM r JOIN f USING (id)""",
    )
    score = card.get("return_processed")
    assert (score.cases, score.breached) == (cases, slow)


def test_payment_failures_and_page_speed_match_the_raw_events(demo_kr, card):
    ((failed, captured),) = raw(
        demo_kr,
        """
        SELECT count(*) FILTER (WHERE event = 'Payment Failed'),
               count(*) FILTER (WHERE event = 'Payment Captured') FROM events""",
    )
    score = card.get("payment_succeeds")
    assert (score.cases, score.breached) == (failed + captured, failed)
    ((p75,),) = raw(
        demo_kr,
        """
        SELECT quantile_cont(CAST(properties ->> '$.lcp' AS DOUBLE), 0.75)
        FROM events WHERE event = 'Web Vitals Measured'""",
    )
    assert card.get("site_fast").percentile["value"] == pytest.approx(p75, abs=0.1)


def test_breaches_sit_in_real_journeys_and_phases(demo_kr, card):
    phases = set(load_definition("six-phase").phase_ids)
    orphans = demo_kr.sql("""
        SELECT count(*) AS n FROM breaches AS b
        WHERE b.phase IS NULL OR b.person_id IS NULL
           OR b.journey_id NOT IN (SELECT journey_id FROM journeys)""").to_pylist()[0]["n"]
    assert orphans == 0
    used = {r["phase"] for r in demo_kr.sql("SELECT DISTINCT phase FROM breaches").to_pylist()}
    assert used <= phases and {"purchase", "service"} <= used


def test_pain_points_reach_the_journey_map(demo_kr, card):
    pains = demo_kr.pain_points().phases
    assert pains["service"][0].persons >= pains["service"][-1].persons
    journey_map = demo_kr.journey_map()
    service = next(p for p in journey_map.phases if p.id == "service")
    assert service.pain_points, "the journey map shows the service phase's pain points"
    assert {p.key for p in service.pain_points if p.kind == "expectation"} <= {
        p.expectation_id for p in pains["service"]
    }


def test_delight_matches_the_raw_events(demo_kr, card):
    ((fast,),) = raw(
        demo_kr,
        """
        WITH o AS (SELECT properties ->> '$.order_id' AS id, min(timestamp) AS at
                   FROM events WHERE event = 'Order Completed' GROUP BY 1),
             c AS (SELECT properties ->> '$.order_id' AS id, timestamp AS at
                   FROM events WHERE event = 'Order Confirmation Sent')
        SELECT count(*) FROM o
        WHERE (SELECT min(c.at) FROM c WHERE c.id = o.id AND c.at >= o.at - INTERVAL 5 MINUTE)
              <= o.at + INTERVAL 1 MINUTE""",
    )
    confirmed = card.get("order_confirmed_fast")
    assert confirmed.delighted == fast > 0
    ((quick,),) = raw(
        demo_kr,
        """
        WITH r AS (SELECT properties ->> '$.return_id' AS id, min(timestamp) AS at
                   FROM events WHERE event = 'Return Received' GROUP BY 1),
             f AS (SELECT properties ->> '$.return_id' AS id, min(timestamp) AS at
                   FROM events WHERE event = 'Order Refunded' GROUP BY 1)
        SELECT count(*) FILTER (WHERE f.at <= r.at + INTERVAL 1 DAY) FROM r JOIN f USING (id)""",
    )
    assert card.get("return_processed").delighted == quick > 0
    for rule in default_rules():
        score = card.get(rule.id)
        if getattr(rule, "delight", None) is None:
            assert score.delight_rate is None and score.delighted is None, rule.id
            continue
        assert 0 < score.delighted <= score.met, rule.id
        low, high = score.delight_interval["low"], score.delight_interval["high"]
        assert low <= score.delight_rate <= high, rule.id
