"""Each rule kind judged on events written as a story, against what the story says."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from sqlglot import exp
from stories import story

from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.compile import Context, case_query
from klantreis.measure.expectations.ruleset import default_rules
from klantreis.store.schema import TABLES


def order(oid: str, at: str, promised: str | None = None, **extra) -> tuple:
    props = {"order_id": oid, **extra}
    if promised:
        props["promised_delivery_date"] = promised
    return ("Order Completed", at, {"properties": props})


def ev(name: str, at: str, **props) -> tuple:
    return (name, at, {"properties": props})


def statuses(kr, rule_id: str) -> dict[str, tuple[str, str | None]]:
    rows = kr.sql(
        "SELECT case_id, status, detail FROM expectation_cases WHERE expectation_id = :r",
        r=rule_id,
    ).to_pylist()
    return {r["case_id"]: (r["status"], r["detail"]) for r in rows}


def test_delivery_promise_by_timestamp_and_by_day(kr):
    kr.store.append(
        story(
            {
                "ann": [
                    order("early", "2026-03-02T09:00", "2026-03-06T00:00:00"),
                    ev("Order Delivered", "2026-03-05T10:00", order_id="early"),
                ],
                "ben": [
                    order("same-day", "2026-03-02T09:00", "2026-03-06T00:00:00"),
                    ev("Order Delivered", "2026-03-06T14:00", order_id="same-day"),
                ],
                "cas": [
                    order("late", "2026-03-02T09:00", "2026-03-06T00:00:00"),
                    ev("Order Delivered", "2026-03-08T11:00", order_id="late"),
                ],
                "dio": [order("lost", "2026-03-02T09:00", "2026-03-06T00:00:00")],
                "eva": [
                    order("cancelled", "2026-03-02T09:00", "2026-03-06T00:00:00"),
                    ev("Order Cancelled", "2026-03-02T10:00", order_id="cancelled"),
                ],
                "fay": [
                    order("pending", "2026-03-30T09:00", "2026-04-09T00:00:00"),
                    ev("Page Viewed", "2026-04-01T09:00"),
                ],
            }
        )
    )
    ensure_cases(kr)
    kept = statuses(kr, "delivery_promise_kept")
    assert kept["early"] == ("met", None)
    assert kept["same-day"] == ("breached", "late")
    assert kept["late"] == ("breached", "late")
    assert kept["lost"][0] == "unresolved"  # never delivered: order_arrives counts it
    assert kept["pending"][0] == "open"
    arrives = statuses(kr, "order_arrives")
    assert arrives["lost"] == ("breached", "missing")
    assert "cancelled" not in arrives
    assert arrives["late"] == ("met", None)  # within the week of grace

    ensure_cases(kr, compare="day")
    assert statuses(kr, "delivery_promise_kept")["same-day"] == ("met", None)
    assert statuses(kr, "delivery_promise_kept")["late"][0] == "breached"


def test_comparing_by_day_leaves_duration_rules_on_the_clock(kr):
    """`compare = "day"` is about promised dates: a confirmation 3 hours late on the same day is
    still late, unless the rule itself asks for calendar days."""
    kr.store.append(
        story(
            {
                "ann": [
                    order("o1", "2026-03-02T09:00"),
                    ev("Order Confirmation Sent", "2026-03-02T12:00", order_id="o1"),
                ],
            }
        )
    )
    ensure_cases(kr, compare="day")
    assert statuses(kr, "order_confirmed_fast")["o1"] == ("breached", "late")


def test_confirmation_within_five_minutes_tolerates_clock_skew(kr):
    kr.store.append(
        story(
            {
                "ann": [
                    order("o1", "2026-03-02T09:00"),
                    ev("Order Confirmation Sent", "2026-03-02T08:58", order_id="o1"),
                ],
                "ben": [
                    order("o2", "2026-03-02T09:00"),
                    ev("Order Confirmation Sent", "2026-03-02T09:10", order_id="o2"),
                ],
                "cas": [order("o3", "2026-03-02T09:00"), ev("Page Viewed", "2026-03-02T12:00")],
                "dio": [
                    order("o4", "2026-03-02T09:00"),
                    ev("Order Confirmation Sent", "2026-03-02T08:40", order_id="o4"),
                ],
            }
        )
    )
    ensure_cases(kr)
    got = statuses(kr, "order_confirmed_fast")
    assert got == {
        "o1": ("met", None),
        "o2": ("breached", "late"),
        "o3": ("breached", "missing"),
        "o4": ("breached", "missing"),
    }


def test_payment_captured_without_confirmation(kr):
    kr.store.append(
        story(
            {
                "ann": [
                    ev("Order Confirmation Sent", "2026-03-02T09:00", order_id="o1"),
                    ev("Payment Captured", "2026-03-02T09:01", order_id="o1"),
                ],
                "ben": [ev("Payment Captured", "2026-03-02T09:00", order_id="o2")],
                "cas": [
                    ev("Payment Captured", "2026-03-02T11:50", order_id="o3"),
                    ev("Page Viewed", "2026-03-02T12:00"),
                ],
            }
        )
    )
    ensure_cases(kr)
    assert statuses(kr, "payment_confirmed") == {
        "o1": ("met", None),
        "o2": ("breached", "missing"),
        "o3": ("open", None),
    }


def test_rate_counts_zero_result_searches(kr):
    kr.store.append(
        story(
            {
                "ann": [
                    ev("Products Searched", "09:00", query="fiets", results=0),
                    ev("Products Searched", "09:01", query="fietsbel", results=12),
                    ev("Products Searched", "09:02", query="bel", results="3"),
                ],
            }
        )
    )
    ensure_cases(kr)
    rows = kr.sql(
        "SELECT status FROM expectation_cases WHERE expectation_id = 'search_finds'"
        " ORDER BY started_at"
    ).to_pylist()
    assert [r["status"] for r in rows] == ["breached", "met", "met"]


def test_percentile_matches_numpy(kr):
    values = [900, 1200, 1800, 2100, 2400, 2600, 3100, 4000, 5200, 800, 1500]
    kr.store.append(
        story(
            {"ann": [ev("Web Vitals Measured", i, lcp=v, path="/") for i, v in enumerate(values)]}
        )
    )
    card = kr.expectations()
    site = card.get("site_fast")
    assert site.percentile["value"] == pytest.approx(np.percentile(values, 75), abs=0.1)
    assert site.breached == sum(v > 2500 for v in values)
    assert site.status == ("kept" if np.percentile(values, 75) <= 2500 else "breached")


def test_repeat_of_the_same_topic_within_two_weeks(kr):
    kr.store.append(
        story(
            {
                "ann": [
                    ev("Ticket Created", "2026-03-02T09:00", ticket_id="t1", topic="delivery"),
                    ev("Ticket Created", "2026-03-09T09:00", ticket_id="t2", topic="delivery"),
                    ev("Ticket Created", "2026-03-10T09:00", ticket_id="t3", topic="payment"),
                ],
                "ben": [
                    ev("Ticket Created", "2026-03-02T09:00", ticket_id="t4", topic="delivery"),
                    ev("Ticket Created", "2026-03-20T09:00", ticket_id="t5", topic="delivery"),
                    ev("Page Viewed", "2026-03-30T09:00"),
                ],
            }
        )
    )
    ensure_cases(kr)
    rows = kr.sql(
        "SELECT properties ->> '$.ticket_id' AS t, c.status FROM expectation_cases AS c "
        "JOIN journey_events AS j ON j.message_id = c.case_id "
        "WHERE expectation_id = 'support_no_repeat'"
    ).to_pylist()
    got = {r["t"]: r["status"] for r in rows}
    assert got == {"t1": "breached", "t2": "met", "t3": "met", "t4": "met", "t5": "open"}


def test_marketing_only_with_consent_at_the_time(kr):
    def mail(at):
        return ev("Email Delivered", at, kind="marketing", email_id=at)

    kr.store.append(
        story(
            {
                "ann": [
                    (
                        "Identify",
                        "2026-03-01T09:00",
                        {"type": "identify", "traits": {"consent_marketing": True}},
                    ),
                    mail("2026-03-02T09:00"),
                    ev("Consent Updated", "2026-03-03T09:00", marketing=False),
                    mail("2026-03-04T09:00"),
                ],
                "ben": [
                    mail("2026-03-02T09:00"),
                    (
                        "Identify",
                        "2026-03-03T09:00",
                        {"type": "identify", "traits": {"consent_marketing": True}},
                    ),
                    ev("Email Delivered", "2026-03-04T09:00", kind="transactional"),
                ],
            }
        )
    )
    ensure_cases(kr)
    rows = kr.sql(
        "SELECT person_id, started_at, status, detail FROM expectation_cases "
        "WHERE expectation_id = 'consented_contact_only' ORDER BY person_id, started_at"
    ).to_pylist()
    assert [(r["person_id"], r["status"], r["detail"]) for r in rows] == [
        ("ann", "met", None),
        ("ann", "breached", "no consent"),
        ("ben", "breached", "no consent known"),
    ]


def test_absent_events_mean_no_data_never_zero_or_hundred(kr):
    kr.store.append(
        story(
            {
                "ann": [
                    order("o1", "2026-03-02T09:00"),
                    ev("Payment Captured", "2026-03-02T09:01", order_id="o1"),
                ],
            }
        )
    )
    card = kr.expectations()
    for rule_id in (
        "order_confirmed_fast",
        "payment_confirmed",
        "payment_succeeds",
        "support_first_response",
        "site_fast",
        "consented_contact_only",
    ):
        score = card.get(rule_id)
        assert score.status == "no data", rule_id
        assert score.breach_rate is None and score.cases == 0
        assert score.no_data_reason
    assert "Payment Failed" in card.get("payment_succeeds").no_data_reason


def test_breaches_are_attached_to_person_journey_phase_and_erasable(kr):
    kr.store.append(
        story(
            {
                "cas": [
                    ev("Product Viewed", "2026-03-02T08:50", product_id="p1"),
                    order("late", "2026-03-02T09:00", "2026-03-06T00:00:00"),
                    ev("Order Delivered", "2026-03-08T11:00", order_id="late"),
                ],
            }
        )
    )
    ensure_cases(kr)
    (row,) = kr.breaches(expectation="delivery_promise_kept").to_pylist()
    assert row["person_id"] == "cas" and row["journey_id"] == "cas:j1"
    assert row["phase"] == "service" and row["order_id"] == "late"
    assert row["breached_at"] == datetime(2026, 3, 6)
    assert row["value"] == pytest.approx(59.0)  # hours late
    assert kr.breaches(person_id="nobody").to_pylist() == []
    assert TABLES["breaches"].person_id_columns == ("person_id",)
    assert TABLES["expectation_cases"].person_id_columns == ("person_id",)
    pains = kr.pain_points().phases
    assert [p.expectation_id for p in pains["service"]] == ["delivery_promise_kept"]


def test_every_default_rule_generates_spark_sql():
    ctx = Context(as_of=datetime(2026, 3, 1), phases=("purchase", "service"))
    for rule in default_rules():
        sql = case_query(rule, ctx).sql("spark")
        assert "->>" not in sql, rule.id
        assert not list(case_query(rule, ctx).tree.find_all(exp.Placeholder)), rule.id


def test_erasing_a_person_removes_their_breaches_and_cases(kr):
    from klantreis.privacy import erase_person, export_person

    kr.store.append(
        story(
            {
                "cas": [
                    order("late", "2026-03-02T09:00", "2026-03-06T00:00:00"),
                    ev("Order Delivered", "2026-03-08T11:00", order_id="late"),
                ],
                "dio": [
                    order("fine", "2026-03-02T09:00", "2026-03-06T00:00:00"),
                    ev("Order Delivered", "2026-03-05T11:00", order_id="fine"),
                ],
            }
        )
    )
    ensure_cases(kr)
    exported = export_person(kr.store, "cas")["tables"]
    assert exported["breaches"][0]["order_id"] == "late"
    erased = erase_person(kr.store, "cas")
    assert erased.get("breaches") == 1 and erased.get("expectation_cases", 0) >= 2
    assert (
        kr.sql("SELECT count(*) AS n FROM breaches WHERE person_id = 'cas'").to_pylist()[0]["n"]
        == 0
    )
    kept = kr.sql("SELECT count(*) AS n FROM expectation_cases WHERE person_id = 'dio'")
    assert kept.to_pylist()[0]["n"] >= 2
