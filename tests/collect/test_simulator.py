"""The demo shop simulator: determinism, the canonical schema, and the story it tells."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klantreis.collect.simulator import SimulatedShop, SimulatorConfig, simulate
from klantreis.collect.simulator.personas import PERSONAS
from klantreis.collect.vocabulary import EVENTS, TYPE_EVENT_NAMES
from klantreis.store import schema
from klantreis.store.store import Store

SMALL = SimulatorConfig(persons=300, seed=11, start=date(2026, 1, 1), days=120)


@pytest.fixture(scope="module")
def small() -> SimulatedShop:
    return simulate(SMALL)


def _sql(shop: SimulatedShop, sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.register("e", shop.events)
    con.register("truth", shop.truth)
    return con.execute(sql).fetchall()


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_same_seed_gives_byte_identical_events(small: SimulatedShop) -> None:
    again = simulate(SMALL)
    assert _ipc(again.events) == _ipc(small.events)
    assert again.truth.equals(small.truth)


def test_other_seed_gives_other_events(small: SimulatedShop) -> None:
    other = simulate(SimulatorConfig(persons=300, seed=12, days=120))
    assert not other.events.equals(small.events)
    assert set(other.events["message_id"].to_pylist()).isdisjoint(
        small.events["message_id"].to_pylist()
    )


def test_more_persons_leave_the_first_ones_unchanged() -> None:
    fewer = simulate(SimulatorConfig(persons=40, seed=5, days=60))
    more = simulate(SimulatorConfig(persons=70, seed=5, days=60))

    def kept(shop: SimulatedShop) -> pa.Table:
        """Events of the first 40 persons and of the first 600 visitors (15 per person)."""
        numbers = [m.split("-")[2] for m in shop.events["message_id"].to_pylist()]
        keep = [int(x[1:]) < 600 if x.startswith("v") else int(x) < 40 for x in numbers]
        return shop.events.filter(pa.array(keep))

    assert kept(more).equals(fewer.events)
    assert more.truth.slice(0, 40).equals(fewer.truth.slice(0, 40))
    visitors = more.truth.filter(pc.equal(more.truth["persona"], "visitor"))
    assert visitors.slice(0, 600).drop(["person"]).equals(fewer.truth.slice(40).drop(["person"]))


def test_schema_is_the_canonical_event_schema(small: SimulatedShop) -> None:
    assert small.events.schema == schema.EVENT_ARROW_SCHEMA
    assert small.events.column_names == [name for name, _ in schema.EVENT_COLUMNS]


def test_message_ids_are_unique_and_source_is_demo(small: SimulatedShop) -> None:
    ids = small.events["message_id"]
    assert len(set(ids.to_pylist())) == small.events.num_rows
    assert set(small.events["source"].to_pylist()) == {"demo"}


def test_events_are_in_time_order_and_json_columns_parse(small: SimulatedShop) -> None:
    stamps = small.events["timestamp"].to_pylist()
    assert stamps == sorted(stamps)
    for column in ("properties", "traits", "context"):
        for text in small.events[column].to_pylist()[:5000]:
            if text is not None:
                assert isinstance(orjson.loads(text), dict)
    received = _sql(small, "SELECT count(*) FROM e WHERE received_at < timestamp")
    assert received == [(0,)]


def test_every_event_name_is_in_the_vocabulary(small: SimulatedShop) -> None:
    names = set(small.events["event"].to_pylist())
    known = set(EVENTS) | set(TYPE_EVENT_NAMES.values())
    assert names <= known, names - known


def test_every_event_has_a_person_id(small: SimulatedShop) -> None:
    missing = _sql(small, "SELECT count(*) FROM e WHERE user_id IS NULL AND anonymous_id IS NULL")
    assert missing == [(0,)]


def test_every_persona_is_present(small: SimulatedShop) -> None:
    assert set(small.truth["persona"].to_pylist()) == set(PERSONAS) | {"visitor"}
    visitors = round(SMALL.persons * SMALL.visitors_per_person)
    assert small.truth.num_rows == SMALL.persons + visitors
    assert small.truth["persona"].to_pylist()[SMALL.persons :] == ["visitor"] * visitors


def test_visitors_browse_but_never_identify_nor_buy(small: SimulatedShop) -> None:
    ((events, identified, bought, viewers, visitors, _),) = _sql(
        small,
        """
        WITH v AS (SELECT unnest(anonymous_ids) AS id FROM truth WHERE persona = 'visitor')
        SELECT count(*), count(*) FILTER (WHERE user_id IS NOT NULL OR type <> 'track'
                                          AND type <> 'page'),
               count(*) FILTER (WHERE event IN ('Order Completed', 'Checkout Started')),
               count(DISTINCT anonymous_id) FILTER (WHERE event = 'Product Viewed'),
               (SELECT count(*) FROM v),
               count(DISTINCT anonymous_id) FILTER (WHERE event = 'Products Searched')
        FROM e JOIN v ON e.anonymous_id = v.id""",
    )
    assert identified == 0 and bought == 0
    # Nearly every visitor views a product; the few who never do left right after searching.
    assert events > 3 * visitors and 0.9 * visitors < viewers < visitors
    ((searched_only,),) = _sql(
        small,
        """
        WITH v AS (SELECT unnest(anonymous_ids) AS id FROM truth WHERE persona = 'visitor'),
        seen AS (
            SELECT e.anonymous_id, bool_or(e.event = 'Product Viewed') AS viewed,
                   bool_or(e.event = 'Products Searched') AS searched
            FROM e JOIN v ON e.anonymous_id = v.id GROUP BY 1)
        SELECT count(*) FILTER (WHERE NOT viewed AND searched) = count(*) FILTER (WHERE NOT viewed)
        FROM seen""",
    )
    assert searched_only


def test_every_customer_has_an_address_of_their_own() -> None:
    """Households share an address only where the simulator means it (family_email_share).

    Without anonymous visitors: they never identify, so the customers and their addresses are
    the same (2,107 and 2,039 of 2,107 either way), for a quarter of the CPU."""
    apart = simulate(
        SimulatorConfig(
            persons=3000, seed=3, days=30, family_email_share=0.0, visitors_per_person=0
        )
    )
    sql = """
        SELECT count(DISTINCT traits->>'email'), count(DISTINCT user_id) FROM e
        WHERE type = 'identify' AND traits IS NOT NULL"""
    addresses, users = _sql(apart, sql)[0]
    assert addresses == users > 1000
    family = simulate(
        SimulatorConfig(
            persons=3000, seed=3, days=30, family_email_share=0.1, visitors_per_person=0
        )
    )
    addresses, users = _sql(family, sql)[0]
    assert 0.85 * users < addresses < users


def test_truth_is_never_written_into_events(small: SimulatedShop) -> None:
    leaked = _sql(
        small,
        """
        SELECT count(*) FROM e
        WHERE properties ILIKE '%persona%' OR traits ILIKE '%persona%'
           OR context ILIKE '%persona%' OR properties ILIKE '%comparer%'""",
    )
    assert leaked == [(0,)]


FAMILIES = {
    "awareness": (
        "Email Delivered",
        "Email Opened",
        "Email Link Clicked",
        "Promotion Viewed",
        "Promotion Clicked",
    ),
    "orientation": (
        "Page Viewed",
        "Products Searched",
        "Product List Filtered",
        "Product List Viewed",
    ),
    "consideration": ("Product Viewed", "Product Added", "Cart Viewed"),
    "purchase": (
        "Checkout Started",
        "Payment Info Entered",
        "Payment Failed",
        "Order Completed",
        "Order Confirmation Sent",
        "Payment Captured",
        "Coupon Applied",
    ),
    "delivery": (
        "Order Shipped",
        "Shipping Update Sent",
        "Shipment Updated",
        "Order Delivered",
        "Delivery Failed",
    ),
    "returns": ("Return Requested", "Return Received", "Order Refunded"),
    "support": (
        "Ticket Created",
        "Ticket Replied",
        "Ticket Resolved",
        "Live Chat Conversation Started",
        "Live Chat Message Sent",
        "Live Chat Message Received",
        "Live Chat Conversation Ended",
    ),
    "evaluation": ("Review Submitted", "Survey Answered", "Review Request Sent"),
    "identity": ("Identify", "Alias", "Group", "Consent Updated"),
    "site": ("Web Vitals Measured", "Application Opened", "Screen Viewed"),
}


def test_all_event_families_are_present(small: SimulatedShop) -> None:
    names = set(small.events["event"].to_pylist())
    for family, events in FAMILIES.items():
        missing = set(events) - names
        assert not missing, f"{family}: {sorted(missing)}"


def test_identify_links_anonymous_ids_to_user_ids(small: SimulatedShop) -> None:
    links = _sql(
        small,
        """
        SELECT DISTINCT user_id, coalesce(anonymous_id, previous_id) FROM e
        WHERE type IN ('identify', 'alias')""",
    )
    truth = {
        row["user_id"]: set(row["anonymous_ids"])
        for row in small.truth.to_pylist()
        if row["user_id"] is not None
    }
    assert links and {user for user, _ in links} == set(truth)
    for user_id, anonymous_id in links:
        assert anonymous_id in truth[user_id]
    # Anonymous browsing comes first: each identified person has events before identifying.
    anonymous_first = _sql(
        small,
        """
        WITH first_identify AS (
            SELECT user_id, min(timestamp) AS at FROM e WHERE type = 'identify' GROUP BY 1)
        SELECT count(*) FILTER (WHERE early > 0), count(*) FROM (
            SELECT f.user_id, count(e.message_id) AS early
            FROM first_identify f
            JOIN e ON e.anonymous_id IN (
                SELECT unnest(anonymous_ids) FROM truth WHERE truth.user_id = f.user_id)
              AND e.user_id IS NULL AND e.timestamp < f.at
            GROUP BY 1)""",
    )
    assert anonymous_first[0][0] == anonymous_first[0][1] > 0


def test_identify_traits_look_like_customers(small: SimulatedShop) -> None:
    traits = [
        orjson.loads(t)
        for t in _sql(small, "SELECT traits FROM e WHERE type = 'identify'")
        for t in t
    ]
    assert {t["country"] for t in traits} == {"nl", "dk", "gb"}
    assert {t["language"] for t in traits} == {"nl", "da", "en"}
    assert {t["consent_marketing"] for t in traits} == {True, False}
    assert all("@" in t["email"] and t["name"] and t["birthday"] for t in traits)
    assert any("company" in t for t in traits)


def test_events_load_into_a_real_store(small: SimulatedShop, tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        result = store.append(small.events)
        assert result.stored == small.events.num_rows
        assert store.connection.execute("SELECT count(*) FROM events").fetchall() == [
            (small.events.num_rows,)
        ]
        assert store.append(small.events).stored == 0


def test_iter_batches_covers_all_events_in_order(small: SimulatedShop) -> None:
    batches = list(small.iter_batches(1000))
    assert sum(b.num_rows for b in batches) == small.events.num_rows
    assert pa.concat_tables(batches).equals(small.events)
    with pytest.raises(ValueError, match="size"):
        next(small.iter_batches(0))


def test_progress_reports_every_person() -> None:
    seen: list[tuple[int, int]] = []
    simulate(
        SimulatorConfig(persons=250, seed=3, days=30), progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (250 + 3750, 250 + 3750)  # persons, then 15 visitors per person
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("persons", {"persons": 0}),
        ("days", {"days": 0}),
        ("persona_shares", {"persona_shares": {"robot": 1.0}}),
        ("country_shares", {"country_shares": {"de": 1.0}}),
        ("country_shares", {"country_shares": {"nl": -1.0, "dk": 2.0}}),
        ("persona_shares", {"persona_shares": {"loyal_regular": 0.0}}),
        ("company_share", {"company_share": 1.5}),
        ("html_text_share", {"html_text_share": -0.1}),
        ("visitors_per_person", {"visitors_per_person": -1.0}),
        ("family_email_share", {"family_email_share": 2.0}),
    ],
)
def test_bad_config_names_the_field(field: str, kwargs: dict) -> None:
    with pytest.raises(ValueError, match=field):
        SimulatorConfig(**kwargs)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    persons=st.integers(1, 25),
    seed=st.integers(0, 2**31),
    days=st.integers(1, 60),
    persona=st.sampled_from(sorted(PERSONAS)),
    country=st.sampled_from(["nl", "dk", "gb"]),
)
def test_any_small_shop_is_valid(
    persons: int, seed: int, days: int, persona: str, country: str
) -> None:
    shop = simulate(
        SimulatorConfig(
            persons=persons,
            seed=seed,
            days=days,
            persona_shares={persona: 1.0},
            country_shares={country: 1.0},
        )
    )
    events = shop.events
    assert events.schema == schema.EVENT_ARROW_SCHEMA
    assert len(set(events["message_id"].to_pylist())) == events.num_rows
    assert set(shop.truth["persona"].to_pylist()) <= {persona, "visitor"}
    assert shop.truth["persona"].to_pylist()[:persons] == [persona] * persons
    if events.num_rows:
        assert _sql(
            shop, "SELECT count(*) FROM e WHERE coalesce(user_id, anonymous_id) IS NULL"
        ) == [(0,)]


ORDER_STORY = (
    "Order Completed",
    "Order Shipped",
    "Order Delivered",
    "Return Requested",
    "Return Received",
)


def test_each_order_happens_in_story_order(small: SimulatedShop) -> None:
    steps = ", ".join(f"'{name}'" for name in ORDER_STORY)
    rows = _sql(
        small,
        f"""
        SELECT properties->>'order_id' AS order_id, event, min(timestamp) AS at
        FROM e WHERE event IN ({steps}) GROUP BY 1, 2""",
    )
    by_order: dict[str, dict[str, object]] = {}
    for order_id, event, at in rows:
        by_order.setdefault(order_id, {})[event] = at
    assert len(by_order) > 100
    for order_id, times in by_order.items():
        seen = [times[name] for name in ORDER_STORY if name in times]
        assert seen == sorted(seen), order_id
    shipment = _sql(
        small,
        """
        SELECT count(*) FROM e AS u JOIN e AS d
          ON u.properties->>'order_id' = d.properties->>'order_id'
        WHERE u.event = 'Shipment Updated' AND d.event = 'Order Delivered'
          AND u.timestamp > d.timestamp""",
    )
    assert shipment == [(0,)]


def test_tickets_are_answered_before_they_are_resolved(small: SimulatedShop) -> None:
    late = _sql(
        small,
        """
        WITH t AS (
            SELECT properties->>'ticket_id' AS id,
                   min(timestamp) FILTER (WHERE event = 'Ticket Created') AS created,
                   min(timestamp) FILTER (WHERE event = 'Ticket Replied') AS replied,
                   max(timestamp) FILTER (WHERE event = 'Ticket Replied') AS last_reply,
                   min(timestamp) FILTER (WHERE event = 'Ticket Resolved') AS resolved
            FROM e WHERE event LIKE 'Ticket %' GROUP BY 1)
        SELECT count(*) FILTER (WHERE NOT (created < replied AND last_reply < resolved)),
               count(*)
        FROM t""",
    )
    assert late[0][0] == 0 and late[0][1] > 20
