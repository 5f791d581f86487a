"""Delight: met cases that clearly exceeded the promise, judged on stories at the margin's edges."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from stories import story
from typer.testing import CliRunner

from klantreis.measure.expectations import stats
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.rules import RuleError, parse_rules
from klantreis.measure.expectations.ruleset import default_rules
from klantreis.present.cli.app import app
from klantreis.store.schema import TABLES


def order(oid: str, at: str, promised: str | None = None) -> tuple:
    props = {"order_id": oid}
    if promised:
        props["promised_delivery_date"] = promised
    return ("Order Completed", at, {"properties": props})


def ev(name: str, at: str, **props) -> tuple:
    return (name, at, {"properties": props})


def outcomes(kr, rule_id: str) -> dict[str, tuple[str, bool | None]]:
    rows = kr.sql(
        "SELECT case_id, status, delighted FROM expectation_cases WHERE expectation_id = :r",
        r=rule_id,
    ).to_pylist()
    return {r["case_id"]: (r["status"], r["delighted"]) for r in rows}


PROMISED = "2026-03-06T00:00:00"


def deliveries() -> dict:
    """Orders promised for 6 March, delivered around the one-day-early margin."""
    return {
        "ann": [
            order("days-early", "2026-03-02T09:00", PROMISED),
            ev("Order Delivered", "2026-03-04T10:00", order_id="days-early"),
        ],
        "ben": [
            order("on-the-margin", "2026-03-02T09:00", PROMISED),
            ev("Order Delivered", "2026-03-05T00:00", order_id="on-the-margin"),
        ],
        "cas": [
            order("just-inside-promise", "2026-03-02T09:00", PROMISED),
            ev("Order Delivered", "2026-03-05T00:01", order_id="just-inside-promise"),
        ],
        "dio": [
            order("afternoon-before", "2026-03-02T09:00", PROMISED),
            ev("Order Delivered", "2026-03-05T14:00", order_id="afternoon-before"),
        ],
        "eva": [
            order("late", "2026-03-02T09:00", PROMISED),
            ev("Order Delivered", "2026-03-08T11:00", order_id="late"),
        ],
        "fay": [order("lost", "2026-03-02T09:00", PROMISED)],
    }


def test_delivered_a_day_early_is_delight_by_timestamp_and_by_day(kr):
    kr.store.append(story(deliveries()))
    ensure_cases(kr)
    got = outcomes(kr, "delivery_promise_kept")
    assert got["days-early"] == ("met", True)
    assert got["on-the-margin"] == ("met", True)  # exactly one day before: still delight
    assert got["just-inside-promise"] == ("met", False)  # a minute short of the margin
    assert got["afternoon-before"] == ("met", False)
    assert got["late"] == ("breached", False)
    assert got["lost"] == ("unresolved", None)  # undecided: no verdict either way

    # By calendar day "a day early" is any time on an earlier day than the promised one's eve.
    ensure_cases(kr, compare="day")
    by_day = outcomes(kr, "delivery_promise_kept")
    assert by_day["afternoon-before"] == ("met", True)
    assert by_day["just-inside-promise"] == ("met", True)
    assert by_day["days-early"] == ("met", True)
    assert by_day["late"] == ("breached", False)


def test_confirmation_within_a_minute_at_the_boundary(kr):
    kr.store.append(
        story(
            {
                "ann": [
                    order("o60", "2026-03-02T09:00:00"),
                    ev("Order Confirmation Sent", "2026-03-02T09:01:00", order_id="o60"),
                ],
                "ben": [
                    order("o61", "2026-03-02T09:00:00"),
                    ev("Order Confirmation Sent", "2026-03-02T09:01:01", order_id="o61"),
                ],
                "cas": [
                    order("o4m", "2026-03-02T09:00:00"),
                    ev("Order Confirmation Sent", "2026-03-02T09:04:00", order_id="o4m"),
                ],
                "dio": [
                    order("skewed", "2026-03-02T09:00:00"),
                    ev("Order Confirmation Sent", "2026-03-02T08:58:00", order_id="skewed"),
                ],
                "eva": [
                    order("slow", "2026-03-02T09:00:00"),
                    ev("Order Confirmation Sent", "2026-03-02T09:10:00", order_id="slow"),
                ],
            }
        )
    )
    ensure_cases(kr)
    assert outcomes(kr, "order_confirmed_fast") == {
        "o60": ("met", True),
        "o61": ("met", False),
        "o4m": ("met", False),
        "skewed": ("met", True),
        "slow": ("breached", False),
    }


def test_fast_page_loads_at_the_boundary(kr):
    kr.store.append(
        story(
            {"ann": [ev("Web Vitals Measured", i, lcp=v) for i, v in enumerate([1000, 1001, 2600])]}
        )
    )
    ensure_cases(kr)
    rows = kr.sql(
        "SELECT value, status, delighted FROM expectation_cases "
        "WHERE expectation_id = 'site_fast' ORDER BY value"
    ).to_pylist()
    assert [(r["value"], r["status"], r["delighted"]) for r in rows] == [
        (1000.0, "met", True),
        (1001.0, "met", False),
        (2600.0, "breached", False),
    ]


def test_rules_without_a_margin_report_no_delight_not_zero(kr):
    kr.store.append(
        story(
            {
                **deliveries(),
                "gus": [
                    ev("Payment Failed", "09:00", order_id="p1"),
                    ev("Payment Captured", "09:05", order_id="p1"),
                ],
            }
        )
    )
    card = kr.expectations()
    for rule_id in ("order_arrives", "payment_succeeds"):
        score = card.get(rule_id)
        assert score.cases > 0, rule_id
        assert score.delight_margin is None and score.delighted is None, rule_id
        assert score.delight_rate is None and score.delight_interval == {}, rule_id
        assert score.effects["delight"] is None, rule_id
        assert {d for _, d in outcomes(kr, rule_id).values()} == {None}, rule_id
    kept = card.get("delivery_promise_kept")
    assert kept.delight_margin == "early by 1d"
    assert (kept.cases, kept.met, kept.breached, kept.delighted) == (5, 4, 1, 2)
    assert kept.delight_rate == 0.4
    low, high = stats.wilson(2, 5)
    assert kept.delight_interval == {"low": round(low, 4), "high": round(high, 4)}
    assert card.get("site_fast").delight_margin == "at most 1000 ms"


def test_a_delight_margin_changes_no_met_or_breached_verdict(kr):
    kr.store.append(story(deliveries()))
    with_margin = next(r for r in default_rules() if r.id == "delivery_promise_kept")
    without = with_margin.model_copy(update={"delight": None})
    judged = {}
    for rule in (with_margin, without):
        ensure_cases(kr, rules=[rule])
        judged[rule.delight is None] = {
            k: s for k, (s, _) in outcomes(kr, "delivery_promise_kept").items()
        }
    assert judged[True] == judged[False]
    assert {d for _, d in outcomes(kr, "delivery_promise_kept").values()} == {None}


def test_delights_are_stored_per_person_journey_phase_and_erasable(kr):
    from klantreis.privacy import erase_person

    kr.store.append(story(deliveries()))
    ensure_cases(kr)
    rows = kr.sql(
        "SELECT * FROM delights WHERE expectation_id = 'delivery_promise_kept' ORDER BY person_id"
    ).to_pylist()
    assert [(r["person_id"], r["order_id"]) for r in rows] == [
        ("ann", "days-early"),
        ("ben", "on-the-margin"),
    ]
    ann = rows[0]
    assert ann["journey_id"] == "ann:j1" and ann["phase"] == "service"
    assert ann["delight_id"] == "delivery_promise_kept:days-early"
    assert ann["delighted_at"] == ann["ended_at"]
    assert ann["value"] == pytest.approx(-38.0)  # hours before the promised moment
    assert TABLES["delights"].person_id_columns == ("person_id",)
    erased = erase_person(kr.store, "ann")
    assert erased.get("delights") == 1
    left = kr.sql("SELECT person_id FROM delights").to_pylist()
    assert [r["person_id"] for r in left] == ["ben"]


def _rated_orders() -> dict:
    """Each person one order: three a day early rating 5, three just on time rating 3,
    two late rating 1; the early ones buy again."""
    people = {}
    for i, (delivered, rating) in enumerate(
        [("2026-03-03T12:00", 5)] * 3
        + [("2026-03-05T20:00", 3)] * 3
        + [("2026-03-08T09:00", 1)] * 2
    ):
        oid = f"o{i}"
        steps = [
            order(oid, "2026-03-02T09:00", PROMISED),
            ev("Order Delivered", delivered, order_id=oid),
            ev("Review Submitted", "2026-03-10T09:00", order_id=oid, rating=rating + i % 2),
        ]
        if rating == 5:
            steps.append(order(f"again{i}", "2026-04-02T09:00"))
        people[f"p{i}"] = steps
    return people


def test_effect_of_delight_over_a_plainly_kept_promise(kr):
    kr.store.append(story(_rated_orders()))
    score = kr.expectations().get("delivery_promise_kept")
    effects = score.effects
    assert effects["met"]["persons"] == 6 and effects["breached"]["persons"] == 2  # unchanged
    delight = effects["delight"]
    # ratings 5, 6, 5 (mean 16/3) against 4, 3, 4 (mean 11/3)
    assert delight["delighted"]["persons"] == 3 and delight["met_not_delighted"]["persons"] == 3
    assert delight["delighted"]["review_score"] == pytest.approx(16 / 3, abs=1e-3)
    assert delight["met_not_delighted"]["review_score"] == pytest.approx(11 / 3, abs=1e-3)
    diff = delight["review_score"]
    assert diff["difference"] == pytest.approx(5 / 3, abs=1e-4)
    assert diff["low"] < 5 / 3 < diff["high"]
    assert delight["delighted"]["repeat_purchase_rate"] == 1.0
    assert delight["repeat_purchase"]["difference"] == 1.0


def test_scorecard_json_is_additive(kr):
    kr.store.append(story(deliveries()))
    store = str(kr.settings.store)
    kr.close()
    result = CliRunner().invoke(app, ["expectations", "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    kept = next(e for e in data["expectations"] if e["id"] == "delivery_promise_kept")
    old_keys = {
        "id",
        "category",
        "phase",
        "kind",
        "title",
        "description",
        "target",
        "status",
        "no_data_reason",
        "cases",
        "met",
        "breached",
        "open",
        "unresolved",
        "persons",
        "breached_persons",
        "breach_rate",
        "interval",
        "percentile",
        "trend",
        "effects",
        "groups",
    }
    new_keys = {
        "delight_margin",
        "delighted",
        "delighted_persons",
        "delight_rate",
        "delight_interval",
        "overall",
        "value_at_risk",
    }
    assert set(kept) == old_keys | new_keys
    assert (kept["delight_margin"], kept["delighted"], kept["delighted_persons"]) == (
        "early by 1d",
        2,
        2,
    )
    assert kept["delight_rate"] == 0.4
    assert set(kept["delight_interval"]) == {"low", "high"}
    assert {"met", "breached", "review_score", "repeat_purchase", "nps", "delight"} == set(
        kept["effects"]
    )
    arrives = next(e for e in data["expectations"] if e["id"] == "order_arrives")
    assert arrives["delight_margin"] is None and arrives["delight_rate"] is None
    table = CliRunner().invoke(app, ["expectations", "--store", store])
    assert table.exit_code == 0 and "40.0%" in table.stdout  # the delight rate


RULE = """
expectations:
  - id: quick_reply
    kind: deadline
    category: service
    phase: service
    title: {en: Quick reply}
    start: {event: Ticket Created}
    end: {event: Ticket Replied}
    key: ticket_id
    within: 2h
    delight: {within: 15m}
  - id: fast
    kind: percentile
    category: speed
    phase: orientation
    title: {en: Fast}
    cases: {event: Web Vitals Measured}
    property: lcp
    limit: 2500
    delight: {at_most: 1200}
"""


def test_delight_margins_parse():
    reply, fast = parse_rules(RULE, "x.yaml")
    assert reply.delight.within == timedelta(minutes=15) and reply.delight.early_by is None
    assert fast.delight.at_most == 1200
    (early,) = parse_rules(
        RULE.replace("within: 2h", "due: promised_delivery_date")
        .replace("{within: 15m}", "{early_by: 2d}")
        .split("  - id: fast")[0],
        "x.yaml",
    )
    assert early.delight.early_by == timedelta(days=2)
    (plain,) = parse_rules(
        RULE.split("  - id: fast")[0].replace("    delight: {within: 15m}\n", ""), "x.yaml"
    )
    assert plain.delight is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("{within: 15m}", "{within: 15m, early_by: 1h}"),
            "x.yaml:3: expectation quick_reply: delight: Value error, give exactly one of",
        ),
        (
            ("{within: 15m}", "{}"),
            "x.yaml:3: expectation quick_reply: delight: Value error, give exactly one of",
        ),
        (
            ("{within: 15m}", "{within: soon}"),
            "x.yaml:3: expectation quick_reply: delight.within: Value error, not a duration",
        ),
        (
            ("{within: 15m}", "{within: 2h}"),
            "expectation quick_reply: delight: Value error, within (2h) must be shorter than the "
            "deadline's within (2h)",
        ),
        (("{within: 15m}", "{early_by: 3h}"), "early_by (3h) must be shorter"),
        (("{within: 15m}", "{within: 0s}"), "the margin must be longer than zero"),
        (
            ("{within: 15m}", "{before: 1d}"),
            "expectation quick_reply: delight.before: Extra inputs are not permitted",
        ),
        (("{within: 15m}", "1d"), "expectation quick_reply: delight: Input should be"),
        (
            ("{at_most: 1200}", "{at_most: 3000}"),
            "x.yaml:13: expectation fast: delight: Value error, at_most (3000) must be below the "
            "limit (2500)",
        ),
        (("{at_most: 1200}", "{within: 1m}"), "expectation fast: delight.at_most: Field required"),
    ],
)
def test_bad_delight_names_rule_and_field(change, message):
    old, new = change
    with pytest.raises(RuleError) as caught:
        parse_rules(RULE.replace(old, new), "x.yaml")
    assert message in str(caught.value)


def test_delight_on_a_kind_without_margins_is_refused():
    rate = """
expectations:
  - id: search_finds
    kind: rate
    category: convenience
    phase: orientation
    title: {en: Search finds}
    cases: {event: Products Searched}
    breach_if: {event: Products Searched, where: {property: results, op: eq, value: 0}}
    delight: {within: 1m}
"""
    with pytest.raises(
        RuleError,
        match=r"x.yaml:3: expectation search_finds: delight: only "
        r"deadline and percentile rules .* not rate rules",
    ):
        parse_rules(rate, "x.yaml")


def test_breakdowns_carry_the_delight_rate_of_rules_with_a_margin(kr):
    people = deliveries()
    for name, steps in people.items():
        carrier = "DHL" if name in ("ann", "cas", "eva") else "PostNL"
        oid = steps[0][2]["properties"]["order_id"]
        steps.insert(1, ev("Order Shipped", "2026-03-03T08:00", order_id=oid, carrier=carrier))
    kr.store.append(story(people))
    card = kr.expectations(by="carrier")
    groups = {g["value"]: g for g in card.get("delivery_promise_kept").groups}
    # DHL: ann a day early, cas just short, eva late; PostNL: ben on the margin, dio not.
    assert (groups["DHL"]["cases"], groups["DHL"]["delighted"]) == (3, 1)
    assert (groups["PostNL"]["cases"], groups["PostNL"]["delighted"]) == (2, 1)
    assert groups["DHL"]["delight_rate"] == round(1 / 3, 4)
    low, high = stats.wilson(1, 2)
    assert (groups["PostNL"]["delight_low"], groups["PostNL"]["delight_high"]) == (
        round(low, 4),
        round(high, 4),
    )
    for g in card.get("order_arrives").groups:
        assert g["delight_cases"] == 0 and g["delight_rate"] is None
    phases = {p["value"]: p for p in kr.expectations(by="phase").phases}
    service = phases["service"]  # delivery cases with a margin, order_arrives cases without
    assert service["delight_cases"] == 5 and service["delighted"] == 2
    assert service["delight_rate"] == 0.4
