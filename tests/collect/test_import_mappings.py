"""The example mappings of docs/mappings/, each on a small export written like the real thing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from importing import EXAMPLES, events, quarantine

from klantreis.collect.imports import ImportFailed, MappingError, import_file, load_mapping

ORDERS_CSV = """\
order_number,created_at,customer_id,email_hash,financial_status,subtotal,shipping,total,currency,promised_delivery,shipping_region,payment_gateway,cancelled_at,cancel_reason
1041,2024-03-04T10:15:00+01:00,c-1001,9f2c,paid,59.90,4.95,64.85,EUR,2024-03-07,NH,ideal,,
1042,2024-03-04T11:02:31+01:00,c-1002,a1b7,paid,"1,299.00",0,1299.00,EUR,2024-03-08,UT,creditcard,,
1043,2024-03-05T08:40:12+01:00,c-1001,9f2c,pending,19.95,4.95,24.90,EUR,2024-03-08,NH,banktransfer,2024-03-06T09:00:00+01:00,customer
1044,2024-03-05T21:17:45+01:00,c-1003,77de,refunded,35.00,0,35.00,EUR,2024-03-07,ZH,paypal,2024-03-06T10:30:00+01:00,inventory
1045,yesterday,c-1004,0c3a,paid,12.50,4.95,17.45,EUR,2024-03-09,FR,ideal,,
"""


def test_order_export(tmp_path: Path, store):
    file = tmp_path / "orders.csv"
    file.write_text(ORDERS_CSV)
    summary = import_file(store, file, EXAMPLES / "orders.yaml")

    assert summary.rows_read == 5
    completed = {e["properties"]["order_id"]: e for e in events(store, "Order Completed")}
    # 1041 is paid; 1042's subtotal "1,299.00" is not a number; 1043 is pending (filtered out);
    # 1044 is refunded (an order nevertheless); 1045 has no usable timestamp.
    assert sorted(completed) == ["1041", "1044"]
    first = completed["1041"]
    assert first["message_id"] == "shop:order:1041"
    assert first["user_id"] == "c-1001"
    assert first["channel"] == "web"
    assert first["timestamp"] == datetime(2024, 3, 4, 9, 15)  # +01:00 stored as UTC
    assert first["properties"] == {
        "order_id": "1041",
        "total": 64.85,
        "revenue": 59.9,
        "shipping": 4.95,
        "currency": "EUR",
        "promised_delivery_date": "2024-03-07T00:00:00",
        "region": "NH",
        "payment_method": "ideal",
    }
    cancelled = events(store, "Order Cancelled")
    assert [(e["properties"]["order_id"], e["properties"]["reason"]) for e in cancelled] == [
        ("1043", "customer"),
        ("1044", "inventory"),
    ]
    bad = {(q["line"], q["column_name"]): q["reason"] for q in quarantine(store)}
    assert bad == {
        (3, "subtotal"): 'not a number: "1,299.00"',
        (6, "created_at"): 'not a timestamp: "yesterday"',
    }
    assert summary.quarantined == 2
    assert summary.events_stored == 4


def test_shipment_export_parquet(tmp_path: Path, store):
    file = tmp_path / "scans.parquet"
    scans = pa.table(
        {
            "shipment_id": ["S1", "S1", "S1", "S2", "S2"],
            "order_id": ["1041", "1041", "1041", "1042", "1042"],
            "customer_id": ["c-1001", "c-1001", "c-1001", "c-1002", "c-1002"],
            "carrier": ["PostNL", "PostNL", "PostNL", "DHL", "DHL"],
            "tracking_number": ["3SABC1", "3SABC1", "3SABC1", "JJD01", "JJD01"],
            "status": ["picked_up", "in_transit", "delivered", "picked_up", "returned_to_sender"],
            "scanned_at": pa.array(
                [
                    datetime(2024, 3, 4, 17, 0),
                    datetime(2024, 3, 5, 6, 12),
                    datetime(2024, 3, 6, 13, 45),
                    datetime(2024, 3, 4, 18, 30),
                    datetime(2024, 3, 9, 8, 0),
                ],
                pa.timestamp("us"),
            ),
            "promised_date": pa.array(
                [datetime(2024, 3, 7).date()] * 3 + [datetime(2024, 3, 8).date()] * 2,
                pa.date32(),
            ),
        }
    )
    pq.write_table(scans, file)
    summary = import_file(store, file, EXAMPLES / "shipments.yaml")

    names = [(e["event"], e["channel"]) for e in events(store)]
    assert sorted(names) == [
        ("Order Delivered", "carrier"),
        ("Order Shipped", "carrier"),
        ("Order Shipped", "carrier"),
        ("Shipment Updated", "carrier"),
    ]
    delivered = events(store, "Order Delivered")[0]
    assert delivered["timestamp"] == datetime(2024, 3, 6, 13, 45)
    assert delivered["properties"]["promised_delivery_date"] == "2024-03-07T00:00:00"
    assert delivered["properties"]["tracking_id"] == "3SABC1"
    (bad,) = quarantine(store)
    assert (bad["line"], bad["column_name"]) == (5, "status")
    assert bad["reason"] == 'no event name for value: "returned_to_sender"'
    assert summary.events_stored == 4


def test_ticket_export_jsonl(tmp_path: Path, store):
    tickets = [
        {
            "id": 812,
            "created_at": "2024-03-06T09:12:00Z",
            "requester_id": "c-1001",
            "order_id": "1041",
            "subject": "Waar blijft mijn pakket?",
            "description": "Besteld op maandag, nog niets ontvangen. <b>Graag snel</b>",
            "tags": ["delivery", "late"],
            "first_reply_at": "2024-03-06T11:40:00Z",
            "solved_at": "2024-03-07T08:05:00Z",
            "satisfaction": 4,
        },
        {
            "id": 813,
            "created_at": "2024-03-07T15:30:00Z",
            "requester_id": "c-1002",
            "order_id": None,
            "subject": "Retour",
            "description": "Hoe stuur ik iets terug?",
            "tags": [],
            "first_reply_at": None,
            "solved_at": None,
            "satisfaction": None,
        },
        {
            "id": 814,
            "created_at": "2024-03-08T10:00:00Z",
            "requester_id": None,
            "order_id": "1044",
            "subject": "Factuur",
            "description": "Graag een factuur",
            "tags": ["invoice"],
            "first_reply_at": None,
            "solved_at": None,
            "satisfaction": None,
        },
    ]
    file = tmp_path / "tickets.jsonl"
    file.write_text("".join(json.dumps(t) + "\n" for t in tickets))
    summary = import_file(store, file, EXAMPLES / "tickets.yaml")

    stored = {(e["event"], e["properties"]["ticket_id"]) for e in events(store)}
    assert stored == {
        ("Ticket Created", "812"),
        ("Ticket Replied", "812"),
        ("Ticket Resolved", "812"),
        ("Ticket Created", "813"),
    }
    created = next(e for e in events(store, "Ticket Created") if e["user_id"] == "c-1001")
    assert created["properties"]["tags"] == ["delivery", "late"]
    assert created["properties"]["text"].endswith("<b>Graag snel</b>")  # stored as given
    assert created["channel"] == "e-mail"
    resolved = events(store, "Ticket Resolved")[0]
    assert resolved["properties"]["satisfaction"] == 4
    (bad,) = quarantine(store)
    assert (bad["line"], bad["column_name"]) == (3, "requester_id")
    assert bad["reason"].startswith("missing user id")
    assert summary.rows_read == 3


def test_review_export_semicolons_epoch(tmp_path: Path, store):
    file = tmp_path / "reviews.csv"
    file.write_text(
        "review_id;created;order_ref;consumer_id;stars;title;text;language;verified\n"
        'r-9;1709893800;1041;c-1001;5;Top;Snel geleverd, "prima" verpakt;nl;true\n'
        'r-10;1709980200;1042;c-1002;2;Te laat;"Drie dagen te laat.\nGeen bericht gehad.";nl;yes\n'
        "r-11;1710066600;1044;c-1003;five;Mooi;Goed;nl;false\n"
        "r-12;1710153000;1045;c-1004;4;;;nl;maybe\n"
    )
    summary = import_file(store, file, EXAMPLES / "reviews.yaml")

    reviews = {e["properties"]["review_id"]: e for e in events(store, "Review Submitted")}
    assert sorted(reviews) == ["r-10", "r-9"]
    late = reviews["r-10"]
    assert late["timestamp"] == datetime(2024, 3, 9, 10, 30)
    assert late["properties"]["rating"] == 2
    assert late["properties"]["verified"] is True
    assert late["properties"]["text"] == "Drie dagen te laat.\nGeen bericht gehad."
    assert late["properties"]["platform"] == "trustpilot"
    assert late["channel"] == "review site"
    # r-10's text spans two lines, so r-11 starts on line 5 and r-12 on line 6.
    bad = {(q["line"], q["column_name"]): q["reason"] for q in quarantine(store)}
    assert bad == {
        (5, "stars"): 'not an integer: "five"',
        (6, "verified"): 'not a boolean (true/false): "maybe"',
    }
    assert summary.events_stored == 2


def test_reimport_stores_nothing_twice(tmp_path: Path, store):
    file = tmp_path / "orders.csv"
    file.write_text(ORDERS_CSV)
    first = import_file(store, file, EXAMPLES / "orders.yaml")
    second = import_file(store, file, EXAMPLES / "orders.yaml")
    assert second.events_stored == 0
    assert second.duplicates == first.events_stored
    count = store.connection.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    assert count == first.quarantined  # the same bad rows are not quarantined twice


def test_default_message_id_is_stable_and_values_stay_out_of_sql(tmp_path: Path, store):
    file = tmp_path / "odd.csv"
    file.write_text(
        '"we""ird col",ts,who\n'
        "'); DROP TABLE events; --,2024-01-01 10:00:00,u1\n"
        "plain,2024-01-01 11:00:00,u2\n"
    )
    mapping = {
        "name": "odd",
        "timestamp": "ts",
        "user_id": "who",
        "events": [
            {
                "event": "Custom Thing",
                "where": [{"column": 'we"ird col', "not_in": ["x'); DROP TABLE events; --"]}],
                "properties": {"v": 'we"ird col'},
            }
        ],
    }
    import_file(store, file, mapping)
    import_file(store, file, mapping)
    stored = events(store)
    assert [e["properties"]["v"] for e in stored if e["user_id"] == "u1"] == [
        "'); DROP TABLE events; --"
    ]
    assert len(stored) == 2
    assert all(e["message_id"].startswith("odd:") for e in stored)


def test_mapping_naming_an_absent_column(tmp_path: Path, store):
    file = tmp_path / "orders.csv"
    file.write_text(ORDERS_CSV)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "timestamp: created_at\nuser_id: customer_id\n"
        "events:\n  - event: Order Completed\n    properties:\n      total: total_price\n"
    )
    with pytest.raises(MappingError) as err:
        import_file(store, file, mapping)
    message = str(err.value)
    assert str(mapping) in message
    assert "events.0.properties.total" in message
    assert "'total_price'" in message
    assert "\n" not in message


def test_malformed_yaml_names_file_and_line(tmp_path: Path, store):
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("events:\n  - event: X\n    timestamp: [unclosed\n")
    with pytest.raises(MappingError, match=r"bad\.yaml: malformed YAML at line \d+"):
        import_file(store, tmp_path / "x.csv", mapping)


def test_unknown_key_and_type_are_named(tmp_path: Path, store):
    file = tmp_path / "x.csv"
    file.write_text("a,b\n1,2\n")
    with pytest.raises(MappingError, match=r"events\.0\.propertiez"):
        import_file(
            store,
            file,
            {"events": [{"event": "X", "timestamp": "a", "user_id": "b", "propertiez": {}}]},
        )
    with pytest.raises(MappingError, match=r"events\.0\.properties\.n\.type"):
        import_file(
            store,
            file,
            {
                "events": [
                    {
                        "event": "X",
                        "timestamp": "a",
                        "user_id": "b",
                        "properties": {"n": {"column": "a", "type": "decimal"}},
                    }
                ]
            },
        )


def test_unknown_format_and_missing_file(tmp_path: Path, store):
    mapping = {"timestamp": "a", "user_id": "b", "events": [{"event": "X"}]}
    odd = tmp_path / "export.xlsx"
    odd.write_bytes(b"PK\x03\x04")
    with pytest.raises(ImportFailed, match=r"export\.xlsx: unknown format '\.xlsx'"):
        import_file(store, odd, mapping)
    with pytest.raises(ImportFailed, match=r"missing\.csv: no such file"):
        import_file(store, tmp_path / "missing.csv", mapping)
    with pytest.raises(MappingError, match="format: Input should be 'csv', 'jsonl' or 'parquet'"):
        import_file(store, odd, {**mapping, "format": "excel"})


def test_malformed_json_line_is_quarantined_and_the_rest_stored(tmp_path: Path, store):
    file = tmp_path / "tickets.jsonl"
    good = {
        "id": 900,
        "created_at": "2024-03-06T09:12:00+01:00",
        "requester_id": "c-1",
        "order_id": "1",
        "subject": "Pakket",
        "description": "Waar?",
        "tags": [],
        "first_reply_at": None,
        "solved_at": None,
        "satisfaction": None,
    }
    file.write_text(
        json.dumps(good)
        + "\n\n"
        + '{"id": 901, "created_at": "2024-03-06T10:00:00Z", "requester_id": "c-2", "subj\n'
        + "[1, 2]\n"
        + json.dumps({**good, "id": 902, "satisfaction": "great"})
        + "\n"
    )
    summary = import_file(store, file, EXAMPLES / "tickets.yaml")
    assert [e["properties"]["ticket_id"] for e in events(store)] == ["900", "902"]
    assert events(store)[0]["timestamp"] == datetime(2024, 3, 6, 8, 12)
    bad = {(q["line"], q["column_name"]): q["reason"] for q in quarantine(store)}
    assert bad == {(3, None): "not a JSON object", (4, None): "not a JSON object"}
    assert summary.rows_read == 4


def test_identify_rows_carry_traits(tmp_path: Path, store):
    file = tmp_path / "customers.csv"
    file.write_text(
        "customer_id,signed_up,city,newsletter\n"
        "c-1001,2023-11-02 14:00:00,Utrecht,yes\n"
        "c-1002,2024-01-15 09:30:00,Gent,no\n"
    )
    mapping = {
        "name": "crm",
        "timestamp": "signed_up",
        "user_id": "customer_id",
        "events": [
            {
                "event": "Identify",
                "type": "identify",
                "message_id": "crm:{customer_id}:{signed_up}",
                "properties": {
                    "city": "city",
                    "newsletter": {"column": "newsletter", "type": "bool"},
                },
            }
        ],
    }
    import_file(store, file, mapping)
    rows = store.connection.execute(
        "SELECT type, event, user_id, traits, properties FROM events ORDER BY user_id"
    ).fetchall()
    assert [(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows] == [
        ("identify", "Identify", "c-1001", {"city": "Utrecht", "newsletter": True}, None),
        ("identify", "Identify", "c-1002", {"city": "Gent", "newsletter": False}, None),
    ]


def test_progress_reports_every_row(tmp_path: Path, store):
    file = tmp_path / "orders.csv"
    file.write_text(ORDERS_CSV)
    seen: list[tuple[int, str]] = []
    summary = import_file(
        store, file, EXAMPLES / "orders.yaml", progress=lambda n, what: seen.append((n, what))
    )
    assert sum(n for n, _ in seen) == summary.rows_read == 5
    assert all("orders.csv" in what for _, what in seen)


def test_json_array_file_is_read_element_by_element(tmp_path: Path, store):
    ticket = {
        "id": 77,
        "created_at": "2024-03-06T09:12:00Z",
        "requester_id": "c-9",
        "order_id": None,
        "subject": "Bon",
        "description": "Kassabon kwijt",
        "tags": ["invoice"],
        "first_reply_at": None,
        "solved_at": "2024-03-06T10:00:00Z",
        "satisfaction": 5,
    }
    file = tmp_path / "tickets.json"
    file.write_text(json.dumps([ticket, "not an object", {**ticket, "id": 78}], indent=2))
    summary = import_file(store, file, EXAMPLES / "tickets.yaml")
    assert sorted((e["event"], e["properties"]["ticket_id"]) for e in events(store)) == [
        ("Ticket Created", "77"),
        ("Ticket Created", "78"),
        ("Ticket Resolved", "77"),
        ("Ticket Resolved", "78"),
    ]
    assert [(q["line"], q["reason"]) for q in quarantine(store)] == [(2, "not a JSON object")]
    assert summary.rows_read == 3


def test_latin1_export_with_encoding(tmp_path: Path, store):
    file = tmp_path / "reviews-excel.csv"
    file.write_bytes(
        "review_id;created;order_ref;consumer_id;stars;title;text;language;verified\n"
        "r-1;1709893800;1041;c-1;4;Prima;Café geleverd, één dag te laat;nl;ja\n"
        "r-2;1709893900;1042;c-2;5;Goed;Iñigo was tevreden;nl;true\n".encode("latin-1")
    )
    mapping = load_mapping(EXAMPLES / "reviews.yaml")[0]
    mapping.csv.encoding = "latin-1"
    import_file(store, file, mapping)
    (review,) = events(store)
    assert review["properties"]["text"] == "Iñigo was tevreden"
    (bad,) = quarantine(store)  # "ja" is not a boolean the mapping knows
    assert (bad["line"], bad["column_name"]) == (2, "verified")
    assert "één dag te laat" in bad["raw"]


def test_undecodable_row_is_quarantined_with_its_line(tmp_path: Path, store):
    file = tmp_path / "excel.csv"
    file.write_bytes(
        b"a,b\n2024-01-01 10:00:00,u1\n" + "2024-01-01 11:00:00,Caf\u00e9\n".encode("latin-1")
    )
    mapping = {"timestamp": "a", "user_id": "b", "events": [{"event": "X"}]}
    summary = import_file(store, file, mapping)
    assert [e["user_id"] for e in events(store)] == ["u1"]
    (bad,) = quarantine(store)
    assert bad["line"] == 3
    assert "unicode" in bad["reason"].lower()
    assert summary.quarantined == 1


def test_a_message_id_template_must_name_a_column(tmp_path: Path, store):
    file = tmp_path / "x.csv"
    file.write_text("a,b\n2024-01-01,u\n")
    base = {"timestamp": "a", "user_id": "b"}
    with pytest.raises(MappingError, match=r"events\.0\.message_id: template 'shop' names no"):
        import_file(
            store, file, {**base, "events": [{"event": "X", "message_id": {"template": "shop"}}]}
        )
    with pytest.raises(MappingError, match=r"must name a column"):
        import_file(store, file, {**base, "events": [{"event": "X", "message_id": "id-{}"}]})
