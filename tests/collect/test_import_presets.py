"""Built-in import presets, each on a sample written from the platform's documented format.

Every preset: the sample imported into a real store file (names, ids, UTC times, properties),
the CLI command of the same name, an export missing a column the preset reads (error naming
it, exit 2), and a bad row quarantined while the rest is stored.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
import weakref
from datetime import datetime
from pathlib import Path

import pytest
from importing import events, quarantine
from typer.testing import CliRunner

from klantreis.collect.imports import ImportFailed, builtin_mappings, import_file
from klantreis.present.cli.app import app
from klantreis.store import Store

SAMPLES = Path(__file__).parent / "presets"
PRESETS = {
    # preset: (sample, a column it reads, the line quarantined, its column)
    "shopify-orders": ("shopify_orders.csv", "Lineitem sku", 8, "Lineitem price"),
    # (and line 10: an order without a usable time)
    "woocommerce-orders": ("woocommerce_orders.json", "date_created_gmt", 5, "total"),
    "trustpilot-reviews": ("trustpilot_reviews.json", "stars", 3, "stars"),
    "google-reviews": ("google_reviews.json", "starRating", 3, "starRating"),
    "zendesk-tickets": ("zendesk_tickets.json", "requester_id", 3, "created_at"),
    "freshdesk-tickets": ("freshdesk_tickets.csv", "Created time", 4, "Created time"),
    "dhl-tracking": ("dhl_tracking.json", "estimatedTimeOfDelivery", 3, "status"),
    "listening": ("listening.csv", "platform", 6, "time"),
}
runner = CliRunner()


def _sha(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _by_id(store: Store) -> dict[str, dict]:
    return {e["message_id"]: e for e in events(store)}


def test_every_preset_is_built_in_and_a_command():
    assert set(PRESETS) <= set(builtin_mappings())
    listed = runner.invoke(app, ["import", "--help"], terminal_width=200)
    assert listed.exit_code == 0
    assert all(name in listed.output for name in PRESETS)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_bad_row_is_quarantined_and_the_rest_stored(preset: str, store: Store):
    sample, _column, line, column = PRESETS[preset]
    file = SAMPLES / sample
    summary = import_file(store, file, preset)
    expected = 2 if preset == "shopify-orders" else 1
    assert summary.events_stored > 0
    assert summary.quarantined == expected
    bad = quarantine(store)[0]
    assert (bad["file"], bad["line"], bad["column_name"]) == (str(file.resolve()), line, column)
    again = import_file(store, file, preset)  # a re-import stores nothing twice
    assert again.events_stored == 0 and again.duplicates == summary.events
    assert len(quarantine(store)) == expected


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_export_without_a_column_names_it(preset: str, tmp_path: Path):
    sample, column, _line, _bad = PRESETS[preset]
    changed = tmp_path / sample
    _drop_column(SAMPLES / sample, changed, column)
    with (
        Store(tmp_path / "a.duckdb") as store,
        pytest.raises(ImportFailed, match=f"column '{column}' is not in"),
    ):
        import_file(store, changed, preset)
    result = runner.invoke(app, ["import", preset, str(changed), "--store", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert column in " ".join(result.output.split())


def _drop_column(source: Path, target: Path, column: str) -> None:
    if source.suffix == ".csv":
        with source.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        header = [c for c in rows[0] if c != column]
        with target.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, header, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return
    text = source.read_text()
    if text.lstrip().startswith(("[", "{\n", "{ ")) and not source.name.startswith("zendesk"):
        data = json.loads(text)
        records = data if isinstance(data, list) else next(v for v in data.values() if v)
        for record in records:
            record.pop(column, None)
        target.write_text(json.dumps(data))
        return
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    for record in lines:
        record.pop(column, None)
    target.write_text("\n".join(json.dumps(r) for r in lines) + "\n")


def test_cli_command_per_preset(tmp_path: Path):
    store = tmp_path / "s.duckdb"
    result = runner.invoke(
        app,
        [
            "import",
            "zendesk-tickets",
            str(SAMPLES / "zendesk_tickets.json"),
            "--store",
            str(store),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["events_by_name"] == {
        "Ticket Created": 2,
        "Ticket Replied": 1,
        "Ticket Resolved": 2,
    }
    assert summary["quarantined"] == 1


def test_shopify_groups_line_items_into_one_order(store: Store):
    import_file(store, SAMPLES / "shopify_orders.csv", "shopify-orders")
    by_id = _by_id(store)
    assert sorted(k for k in by_id if k.startswith("shopify:order:")) == [
        "shopify:order:#1001",
        "shopify:order:#1002",
        "shopify:order:#1003",
    ]  # #1004 has a bad line item, #1005 no time: both quarantined, not half-stored
    order = by_id["shopify:order:#1001"]
    assert order["event"] == "Order Completed"
    assert order["timestamp"] == datetime(2024, 3, 4, 9, 15, 23)  # +0100 stored as UTC
    assert order["user_id"] == _sha("Anna.deVries@example.org")
    assert order["channel"] == "web"
    props = order["properties"]
    assert props["order_id"] == "#1001"
    assert (props["total"], props["revenue"], props["shipping"]) == (64.85, 59.9, 4.95)
    assert (props["currency"], props["payment_method"], props["region"]) == ("EUR", "iDEAL", "NH")
    assert props["products"] == [
        {
            "product_id": "RJ-M",
            "sku": "RJ-M",
            "name": "Regenjas - M",
            "price": 49.95,
            "quantity": 1,
        },
        {
            "product_id": "PAR-S",
            "sku": "PAR-S",
            "name": "Paraplu klein",
            "price": 9.95,
            "quantity": 1,
        },
    ]
    assert len(by_id["shopify:order:#1003"]["properties"]["products"]) == 3
    # The same customer in another case and with a trailing space is the same person.
    assert by_id["shopify:order:#1003"]["user_id"] == order["user_id"]
    assert by_id["shopify:fulfilled:#1001"]["event"] == "Order Shipped"
    assert by_id["shopify:fulfilled:#1001"]["channel"] == "carrier"
    assert by_id["shopify:cancelled:#1002"]["timestamp"] == datetime(2024, 3, 7, 8, 30)
    assert by_id["shopify:cancelled:#1002"]["properties"]["refunded"] == 24.5
    assert by_id["shopify:paid:#1002"]["event"] == "Payment Captured"


def test_shopify_order_split_across_batches_stays_one_order(store: Store):
    import_file(store, SAMPLES / "shopify_orders.csv", "shopify-orders", batch_rows=2)
    by_id = _by_id(store)
    assert len(by_id["shopify:order:#1003"]["properties"]["products"]) == 3
    assert len(by_id["shopify:order:#1001"]["properties"]["products"]) == 2
    bad = [(q["line"], q["column_name"]) for q in quarantine(store)]
    assert bad == [(8, "Lineitem price"), (10, "Created at")]


def test_woocommerce_orders(store: Store):
    import_file(store, SAMPLES / "woocommerce_orders.json", "woocommerce-orders")
    by_id = _by_id(store)
    order = by_id["woocommerce:order:727"]
    assert order["timestamp"] == datetime(2024, 3, 4, 9, 15, 23)  # date_created_gmt
    assert (order["user_id"], order["anonymous_id"]) == ("26", _sha("anna.devries@example.org"))
    assert order["properties"]["total"] == 64.85
    assert order["properties"]["region"] == "NH"
    assert [p["sku"] for p in order["properties"]["products"]] == ["RJ-M", "PAR-S"]
    guest = by_id["woocommerce:order:728"]
    assert guest["user_id"] is None  # customer_id 0 is a guest, not a person "0"
    assert guest["anonymous_id"] == _sha("bram@example.net")
    assert by_id["woocommerce:completed:727"]["event"] == "Order Shipped"
    assert by_id["woocommerce:paid:727"]["timestamp"] == datetime(2024, 3, 4, 9, 15, 51)
    assert by_id["woocommerce:cancelled:729"]["event"] == "Order Cancelled"
    assert by_id["woocommerce:failed:730"]["event"] == "Payment Failed"
    assert "woocommerce:order:730" not in by_id  # a failed order was never placed


def test_trustpilot_reviews(store: Store):
    import_file(store, SAMPLES / "trustpilot_reviews.json", "trustpilot-reviews")
    by_id = _by_id(store)
    review = by_id["trustpilot:review:65e6d2c55fb06f0001790c62"]
    assert review["event"] == "Review Submitted"
    assert review["channel"] == "review site"
    assert review["anonymous_id"] == "5e3de1b45fb06f0001790b77"
    assert review["timestamp"] == datetime(2024, 3, 14, 18, 45, 10)  # +01:00 -> UTC
    assert review["properties"] == {
        "review_id": "65e6d2c55fb06f0001790c62",
        "order_id": "#1002",
        "rating": 1,
        "title": "Nog steeds geen pakket",
        "text": "Na een week nog niets ontvangen en de klantenservice reageert niet.",
        "language": "nl",
        "verified": True,
        "replied": None,
        "platform": "trustpilot",
    }
    assert by_id["trustpilot:review:65e5c1b45fb06f0001790b51"]["properties"]["replied"] == (
        "2024-03-06T10:00:00"
    )


def test_google_reviews(store: Store):
    import_file(store, SAMPLES / "google_reviews.json", "google-reviews")
    by_id = _by_id(store)
    first = by_id["google:review:AbFvOqn1"]
    assert first["properties"]["rating"] == 4  # "FOUR"
    assert first["properties"]["platform"] == "google"
    assert first["timestamp"] == datetime(2024, 3, 10, 14, 3, 11, 402000)
    assert first["anonymous_id"] == "google:reviewer:AbFvOqn1"
    assert "Dewi" not in json.dumps(first, default=str)  # the display name is not stored
    assert by_id["google:review:AbFvOqn2"]["properties"]["text"] is None
    [bad] = quarantine(store)
    assert "STAR_RATING_UNSPECIFIED" in bad["reason"]


def test_zendesk_tickets_read_nested_fields(store: Store):
    import_file(store, SAMPLES / "zendesk_tickets.json", "zendesk-tickets")
    by_id = _by_id(store)
    created = by_id["zendesk:812:created"]
    assert created["user_id"] == "zendesk:3651"
    assert created["channel"] == "e-mail"  # via.channel "email"
    assert created["properties"]["tags"] == ["levering", "bestelling"]
    assert created["properties"]["first_reply_minutes"] == 95
    assert by_id["zendesk:813:created"]["timestamp"] == datetime(2024, 3, 8, 13, 0)
    assert by_id["zendesk:813:created"]["channel"] == "web"
    reply = by_id["zendesk:812:first-reply"]  # created_at + 95 minutes
    assert (reply["event"], reply["timestamp"]) == ("Ticket Replied", datetime(2024, 3, 6, 10, 47))
    assert reply["properties"]["author"] == "agent"
    assert "zendesk:813:first-reply" not in by_id  # no reply yet
    solved = by_id["zendesk:812:solved"]
    assert solved["timestamp"] == datetime(2024, 3, 7, 9, 58)  # metric_set.solved_at
    assert solved["properties"]["satisfaction"] == "bad"
    assert by_id["zendesk:814:solved"]["channel"] == "chat"
    assert "zendesk:813:solved" not in by_id


def test_freshdesk_tickets(store: Store):
    import_file(store, SAMPLES / "freshdesk_tickets.csv", "freshdesk-tickets")
    by_id = _by_id(store)
    assert by_id["freshdesk:1201:created"]["timestamp"] == datetime(2024, 3, 6, 9, 12)
    assert by_id["freshdesk:1201:created"]["user_id"] == _sha("anna.devries@example.org")
    assert by_id["freshdesk:1201:created"]["channel"] == "e-mail"
    reply = by_id["freshdesk:1201:first-reply"]
    assert (reply["event"], reply["properties"]["author"]) == ("Ticket Replied", "agent")
    assert reply["timestamp"] == datetime(2024, 3, 6, 10, 2)
    assert by_id["freshdesk:1201:resolved"]["properties"]["resolution_hours"] == 6.47
    assert by_id["freshdesk:1202:created"]["channel"] == "web"  # Portal
    assert "freshdesk:1202:first-reply" not in by_id


def test_dhl_tracking_promised_and_actual_delivery(store: Store):
    import_file(store, SAMPLES / "dhl_tracking.json", "dhl-tracking")
    by_id = _by_id(store)
    delivered = by_id["dhl:JVGL0612345678901234:delivered"]
    assert delivered["event"] == "Order Delivered"
    assert delivered["channel"] == "carrier"
    assert delivered["timestamp"] == datetime(2024, 3, 6, 13, 2)  # actual, UTC
    assert delivered["properties"]["promised_delivery_date"] == "2024-03-06T17:00:00"
    assert delivered["properties"]["order_id"] == "#1001"
    shipped = by_id["dhl:JVGL0612345678901234:shipped"]
    assert shipped["timestamp"] == datetime(2024, 3, 5, 16, 30)  # the oldest scan
    failed = by_id["dhl:JVGL0698765432109876:failed"]
    assert (failed["event"], failed["properties"]["reason"]) == ("Delivery Failed", "Niemand thuis")


def test_listening_mentions_and_reviews(store: Store):
    import_file(store, SAMPLES / "listening.csv", "listening")
    stored = events(store)
    kinds = sorted((e["event"], e["properties"]["platform"], e["channel"]) for e in stored)
    assert kinds == [
        ("Review Submitted", "feedbackcompany", "review site"),
        ("Review Submitted", "kiyoh", "review site"),
        ("Social Mention", "instagram", "social"),
        ("Social Mention", "x", "social"),
    ]
    mention = next(e for e in stored if e["properties"]["platform"] == "x")
    assert mention["anonymous_id"] == "x:bram_u"
    assert mention["timestamp"] == datetime(2024, 3, 13, 21, 5)
    assert mention["properties"]["url"].startswith("https://x.com/")
    review = next(e for e in stored if e["properties"]["platform"] == "kiyoh")
    assert review["properties"]["rating"] == 4.0


def test_listening_reads_json_too(tmp_path: Path, store: Store):
    file = tmp_path / "mentions.json"
    file.write_text(
        json.dumps(
            [
                {
                    "author": "kim",
                    "platform": "tiktok",
                    "text": "Snel!",
                    "rating": None,
                    "url": "https://example.org/v/1",
                    "time": "2024-05-01T08:00:00Z",
                },
                {
                    "author": "lot",
                    "platform": "trustpilot",
                    "text": "Prima",
                    "rating": 4,
                    "url": "https://example.org/r/2",
                    "time": "2024-05-02T08:00:00Z",
                },
            ]
        )
    )
    import_file(store, file, "listening")
    assert sorted((e["event"], e["anonymous_id"]) for e in events(store)) == [
        ("Review Submitted", "trustpilot:lot"),
        ("Social Mention", "tiktok:kim"),
    ]


def test_an_import_holds_one_batch_of_events_at_a_time(store: Store, monkeypatch):
    """The reader keeps no batch of events it gave the store: by the time it reads the next
    rows of the file (and reports its progress), the store has let go of the last batch and
    so has the reader (an import of a file larger than memory holds one batch, not two)."""
    given: list[int] = []
    freed: list[int] = []
    alive_while_reading: list[int] = []
    append_many = store.append_many

    def counted(batches):
        def watched():
            for batch in batches:
                number = len(given)
                given.append(number)
                weakref.finalize(batch, freed.append, number)
                yield batch
                del batch

        return append_many(watched())

    def progress(_rows: int, _message: str) -> None:
        gc.collect()
        alive_while_reading.append(len(given) - len(freed))

    monkeypatch.setattr(store, "append_many", counted)
    summary = import_file(
        store,
        SAMPLES / "freshdesk_tickets.csv",
        "freshdesk-tickets",
        batch_rows=1,
        progress=progress,
    )
    assert summary.events_stored > 2 and len(alive_while_reading) > 2
    assert alive_while_reading == [0] * len(alive_while_reading)
