"""Mapping keys for nested and grouped exports: path, json.records, values, null_if, hash,
group_by with items."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from importing import events, quarantine

from klantreis.collect.imports import ImportFailed, MappingError, import_file, load_mapping
from klantreis.store import Store

LINES = """\
order,customer,email,created,sku,price
A1,c1,Ann@Example.org,2024-01-01T10:00:00Z,S1,10.00
A1,,,,S2,2.50
,c2,bo@example.org,2024-01-02T10:00:00Z,S3,1.00
B2,0,bo@example.org,2024-01-03T10:00:00Z,S4,x
C3,c3,cy@example.org,2024-01-04T10:00:00Z,,
"""
GROUPED = {
    "name": "t",
    "user_id": {"column": "customer", "null_if": ["0"]},
    "anonymous_id": {"column": "email", "hash": "sha256"},
    "events": [
        {
            "event": "Order Completed",
            "group_by": "order",
            "timestamp": "created",
            "message_id": "t:{order}",
            "properties": {
                "order_id": "order",
                "products": {
                    "items": {"sku": "sku", "price": {"column": "price", "type": "number"}}
                },
            },
        }
    ],
}


def test_group_by_makes_one_event_per_group(tmp_path: Path, store: Store):
    file = tmp_path / "lines.csv"
    file.write_text(LINES)
    summary = import_file(store, file, GROUPED)
    stored = {e["message_id"]: e for e in events(store)}
    assert sorted(stored) == ["t:A1", "t:C3"]
    assert stored["t:A1"]["properties"]["products"] == [
        {"sku": "S1", "price": 10.0},
        {"sku": "S2", "price": 2.5},
    ]
    assert stored["t:C3"]["properties"]["products"] == []  # no line item columns filled
    assert stored["t:A1"]["anonymous_id"] == hashlib.sha256(b"ann@example.org").hexdigest()
    bad = [(q["line"], q["column_name"], q["reason"]) for q in quarantine(store)]
    assert bad == [
        (4, "order", "missing order (group_by)"),  # an empty key is a group of its own
        (5, "price", 'not a number: "x"'),
    ]
    assert summary.quarantined == 2


def test_null_if_and_values_and_path(tmp_path: Path, store: Store):
    file = tmp_path / "r.jsonl"
    rows = [
        {"id": 1, "who": "0", "at": "2024-01-01T00:00:00Z", "s": "FIVE", "meta": {"ch": "mail"}},
        {"id": 2, "who": "u2", "at": "2024-01-02T00:00:00Z", "s": "TWO", "meta": {"ch": None}},
        {"id": 3, "who": "u3", "at": "2024-01-03T00:00:00Z", "s": "MANY", "meta": {}},
        {"id": 4, "who": "u4", "at": "2024-01-04T00:00:00Z", "s": "TWO", "meta": {"ch": "fax"}},
    ]
    file.write_text("\n".join(json.dumps(r) for r in rows))
    mapping = {
        "events": [
            {
                "event": "Review Submitted",
                "timestamp": "at",
                "message_id": "r:{id}",
                "user_id": {"column": "who", "null_if": ["0"]},
                "anonymous_id": {"template": "anon:{id}"},
                "channel": {"column": "meta", "path": "ch", "values": {"mail": "e-mail"}},
                "where": [{"column": "meta", "path": "ch", "not_in": ["fax"]}],
                "properties": {
                    "rating": {"column": "s", "type": "int", "values": {"FIVE": 5, "TWO": 2}}
                },
            }
        ]
    }
    import_file(store, file, mapping)
    stored = {e["message_id"]: e for e in events(store)}
    assert stored["r:1"]["user_id"] is None
    assert stored["r:1"]["channel"] == "e-mail"
    assert stored["r:1"]["properties"]["rating"] == 5
    assert stored["r:2"]["channel"] == "review site"  # no channel: the vocabulary's
    assert "r:4" not in stored  # left out by the filter on the nested key
    [bad] = quarantine(store)
    assert (bad["line"], bad["column_name"], bad["reason"]) == (3, "s", 'not an integer: "MANY"')


def test_records_names_the_list(tmp_path: Path, store: Store):
    file = tmp_path / "answer.json"
    file.write_text(json.dumps({"data": {"items": [{"id": "a", "t": "2024-01-01T00:00:00Z"}]}}))
    mapping = {
        "json": {"records": "data.items"},
        "events": [{"event": "X", "timestamp": "t", "user_id": "id", "message_id": "x:{id}"}],
    }
    assert import_file(store, file, mapping).events_stored == 1
    with pytest.raises(ImportFailed, match="no list of objects under the key 'items'"):
        import_file(store, file, {**mapping, "json": {"records": "items"}})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"path": "a..b"}, "bad path"),
        ({"items": {"x": "y"}}, "exactly one of"),
        ({"hash": "sha256", "type": "int"}, "`hash` makes text"),
        ({"hash": "md5"}, "properties.p.hash"),
    ],
)
def test_bad_value_keys_are_named(change: dict, message: str):
    event = {"event": "X", "timestamp": "t", "user_id": "u", "properties": {"p": {"column": "c"}}}
    event["properties"]["p"].update(change)
    with pytest.raises(MappingError, match=message):
        load_mapping({"events": [event]})


def test_items_need_group_by():
    event = {"event": "X", "timestamp": "t", "user_id": "u", "properties": {"p": {"items": {}}}}
    with pytest.raises(MappingError, match="`items` needs `group_by`"):
        load_mapping({"events": [event]})
