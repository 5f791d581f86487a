"""How the simulator writes its events: texts encoded once, a chunk read by Arrow in one pass,
and the shop of a seed kept event for event."""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, timedelta

import orjson

from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.collect.simulator.catalogue import Catalogue, make_catalogue, product_props
from klantreis.collect.simulator.context import LOCALE, TIMEZONE, USER_AGENTS, session_context
from klantreis.collect.simulator.emitter import Emitter
from klantreis.collect.simulator.shopping import SHOP, page_json
from klantreis.store.schema import EVENT_ARROW_SCHEMA

EPOCH = datetime(1970, 1, 1)
PINNED = SimulatorConfig(persons=60, seed=23, start=date(2026, 1, 1), days=90)
PINNED_EVENTS = 9372
PINNED_DIGEST = "d0276e9a93a2793258c39a4780df4594d15a0a24f3c3ebc9009d97c321d3bb01"
"""The events of `PINNED`, every column of every row: a change meant to make the simulator
cheaper must leave them as they are; a change of the shop itself sets this anew."""


def test_the_shop_of_a_seed_stays_the_same_events() -> None:
    shop = simulate(PINNED)
    digest = hashlib.sha256()
    for name in shop.events.column_names:
        for value in shop.events[name].to_pylist():
            digest.update(repr(value).encode())
    assert shop.events.num_rows == PINNED_EVENTS
    assert digest.hexdigest() == PINNED_DIGEST


def test_a_products_properties_are_encoded_once_as_its_events_describe_it() -> None:
    products = make_catalogue(random.Random("3:catalogue"))
    catalogue = Catalogue(products)
    assert len(catalogue.viewed_json) == len(products)
    for product in products:
        assert orjson.loads(catalogue.viewed_json[product.product_id]) == product_props(product)
        added = orjson.loads(catalogue.added_json[product.product_id])
        assert added == {**product_props(product), "quantity": 1}
        assert list(added) == [*product_props(product), "quantity"]  # key order kept


def test_a_pages_properties_and_a_sessions_context_are_the_texts_of_their_dicts() -> None:
    assert orjson.loads(page_json("Rain jacket", "/p/P00007")) == {
        "path": "/p/P00007",
        "url": SHOP + "/p/P00007",
        "title": "Rain jacket | Shop",
        "name": "Rain jacket",
    }
    campaign = (("source", "google"), ("medium", "cpc"), ("name", "spring-2026"))
    context = orjson.loads(session_context("app", "dk", campaign, "https://www.google.com/"))
    assert context == {
        "library": {"name": "analytics-kotlin"},
        "locale": LOCALE["dk"],
        "timezone": TIMEZONE["dk"],
        "userAgent": USER_AGENTS["app"],
        "device": {"type": "mobile"},
        "campaign": {"source": "google", "medium": "cpc", "name": "spring-2026"},
        "referrer": {"url": "https://www.google.com/"},
    }
    plain = orjson.loads(session_context("web", "nl", None, None))
    assert plain["device"] == {"type": "desktop"} and "campaign" not in plain


def test_a_chunk_becomes_the_rows_its_events_were_emitted_as() -> None:
    out = Emitter(5)
    out.begin_person(12)
    at = 1_767_225_600.123_456_7  # a time between two microseconds
    out.emit_in_session(
        at, "Product Viewed", None, "anon-1", '{"b":1,"a":"ø"}', "{}", "web", "track", None
    )
    out.emit(at + 0.5, "Order Shipped", user_id="cus_1", properties={"order_id": "O-1"}, delay=2.0)
    out.begin_person(3, visitor=True)
    out.emit(at, "Email Opened", user_id="cus_2", traits={"x": 1})
    table = out.table()
    assert table.schema == EVENT_ARROW_SCHEMA
    rows = table.to_pylist()
    assert [r["message_id"] for r in rows] == [
        "demo-5-0000012-00001",
        "demo-5-0000012-00002",
        "demo-5-v0000003-00001",
    ]
    # a session's properties arrive as JSON text and are kept as they are
    assert rows[0]["properties"] == '{"b":1,"a":"ø"}'
    assert rows[1]["properties"] == '{"order_id":"O-1"}'
    assert rows[2]["properties"] == "{}" and rows[2]["traits"] == '{"x":1}'
    # times in microseconds, truncated as int(seconds * 1e6) truncates
    for row, seconds, delay in zip(rows, (at, at + 0.5, at), (1.0, 2.0, 1.0), strict=True):
        assert row["timestamp"] == EPOCH + timedelta(microseconds=int(seconds * 1e6))
        assert row["received_at"] == EPOCH + timedelta(microseconds=int((seconds + delay) * 1e6))
    # a channel not given is the event's default channel
    assert [r["channel"] for r in rows] == ["web", "carrier", "e-mail"]
    assert {r["source"] for r in rows} == {"demo"}
