"""`import_olist` on the real 15k-order Olist sample, checked against pandas reads of the CSVs."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from importing import events, quarantine

from klantreis.collect.imports import ImportFailed, import_olist
from klantreis.store import Store

ORDERS = "olist_orders_dataset.csv"
ITEMS = "olist_order_items_dataset.csv"
PAYMENTS = "olist_order_payments_dataset.csv"
REVIEWS = "olist_order_reviews_dataset.csv"
CUSTOMERS = "olist_customers_dataset.csv"


@pytest.fixture(scope="module")
def imported(olist_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    store = Store(tmp_path_factory.mktemp("olist") / "store.duckdb")
    first = import_olist(store, olist_dir)
    second = import_olist(store, olist_dir)
    yield store, first, second
    store.close()


def _read(olist_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(olist_dir / name, dtype=str, keep_default_na=False, na_values=[""])


def test_event_counts_match_an_independent_read(imported, olist_dir: Path):
    store, first, _ = imported
    orders = _read(olist_dir, ORDERS)
    payments = _read(olist_dir, PAYMENTS)
    reviews = _read(olist_dir, REVIEWS)
    expected = {
        "Order Completed": orders["order_id"].nunique(),
        "Payment Info Entered": len(payments[payments["order_id"].isin(orders["order_id"])]),
        "Order Approved": int(orders["order_approved_at"].notna().sum()),
        "Order Shipped": int(orders["order_delivered_carrier_date"].notna().sum()),
        "Order Delivered": int(orders["order_delivered_customer_date"].notna().sum()),
        "Order Cancelled": int(orders["order_status"].isin(["canceled", "unavailable"]).sum()),
        "Review Submitted": len(reviews[reviews["order_id"].isin(orders["order_id"])]),
    }
    assert dict(first.events_by_name) == expected
    stored = dict(
        store.connection.execute(
            "SELECT event, count(*) FROM events WHERE source = 'import:olist' GROUP BY event"
        ).fetchall()
    )
    assert stored == expected
    assert first.events_stored == sum(expected.values())
    assert first.quarantined == 0
    assert first.rows_read == sum(
        len(_read(olist_dir, name)) for name in (ORDERS, ITEMS, PAYMENTS, REVIEWS, CUSTOMERS)
    ) + len(_read(olist_dir, "olist_products_dataset.csv")) + len(
        _read(olist_dir, "product_category_name_translation.csv")
    )


def test_reimport_stores_nothing(imported):
    _, first, second = imported
    assert second.events_stored == 0
    assert second.duplicates == first.events == second.events


def test_order_completed_properties_match_pandas(imported, olist_dir: Path):
    store, _, _ = imported
    orders = _read(olist_dir, ORDERS)
    customers = _read(olist_dir, CUSTOMERS)
    items = pd.read_csv(olist_dir / ITEMS, dtype={"order_id": str})
    payments = pd.read_csv(olist_dir / PAYMENTS, dtype={"order_id": str})
    totals = items.groupby("order_id").agg(
        revenue=("price", "sum"), shipping=("freight_value", "sum"), n=("price", "size")
    )
    first_payment = (
        payments.sort_values("payment_sequential").groupby("order_id")["payment_type"].first()
    )
    expected = (
        orders.merge(customers, on="customer_id", how="left")
        .merge(totals, left_on="order_id", right_index=True, how="left")
        .merge(first_payment, left_on="order_id", right_index=True, how="left")
        .set_index("order_id")
        .sort_index()
    )

    stored = events(store, "Order Completed")
    got = (
        pd.DataFrame(
            [
                {
                    "order_id": e["properties"]["order_id"],
                    "message_id": e["message_id"],
                    "user_id": e["user_id"],
                    "anonymous_id": e["anonymous_id"],
                    "channel": e["channel"],
                    "timestamp": str(e["timestamp"]),
                    "products": len(e["properties"]["products"]),
                    **{k: v for k, v in e["properties"].items() if k != "products"},
                }
                for e in stored
            ]
        )
        .set_index("order_id")
        .sort_index()
    )

    assert list(got.index) == list(expected.index)
    assert (got["message_id"] == "olist:order:" + got.index).all()
    assert (got["anonymous_id"] == expected["customer_id"]).all()
    assert (got["user_id"] == expected["customer_unique_id"]).all()
    assert (got["channel"] == "marketplace").all() and (got["currency"] == "BRL").all()
    assert (got["timestamp"] == expected["order_purchase_timestamp"]).all()
    assert (got["status"] == expected["order_status"]).all()
    assert (got["region"] == expected["customer_state"]).all()
    assert (got["city"] == expected["customer_city"]).all()
    promised = expected["order_estimated_delivery_date"].str.replace(" ", "T")
    assert (got["promised_delivery_date"] == promised).all()
    has_items = expected["n"].notna()
    assert (got.loc[has_items, "revenue"] - expected.loc[has_items, "revenue"]).abs().max() < 0.005
    assert (
        got.loc[has_items, "shipping"] - expected.loc[has_items, "shipping"]
    ).abs().max() < 0.005
    total = expected["revenue"] + expected["shipping"]
    assert (got.loc[has_items, "total"] - total[has_items]).abs().max() < 0.01
    assert (got["items"] == expected["n"].fillna(0)).all()
    assert (got["products"] == got["items"]).all()
    paid = expected["payment_type"].notna()
    assert (got.loc[paid, "payment_method"] == expected.loc[paid, "payment_type"]).all()


def test_products_carry_english_category(imported, olist_dir: Path):
    store, _, _ = imported
    translation = dict(csv.reader((olist_dir / "product_category_name_translation.csv").open()))
    categories = {
        p["category"] for e in events(store, "Order Completed") for p in e["properties"]["products"]
    }
    english = set(translation.values())
    portuguese_only = {c for c in categories if c and c not in english}
    # Categories without a translation (two in Olist) stay in Portuguese; all others are English.
    assert portuguese_only <= set(
        pd.read_csv(olist_dir / "olist_products_dataset.csv")["product_category_name"].dropna()
    ) - set(translation)
    assert len(categories & english) > 50


def test_reviews_keep_text_as_given(imported, olist_dir: Path):
    store, _, _ = imported
    reviews = _read(olist_dir, REVIEWS).set_index(["review_id", "order_id"])
    stored = events(store, "Review Submitted")
    with_text = [e for e in stored if e["properties"]["text"]]
    assert len(with_text) == reviews["review_comment_message"].notna().sum()
    for event in stored[:500]:
        props = event["properties"]
        row = reviews.loc[(props["review_id"], props["order_id"])]
        assert props["rating"] == int(row["review_score"])
        assert props["text"] == (
            None if pd.isna(row["review_comment_message"]) else row["review_comment_message"]
        )
        assert props["language"] == "pt" and props["platform"] == "olist"
        assert event["channel"] == "review site"
        assert str(event["timestamp"]) == row["review_answer_timestamp"]


def _file_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(start line, row) of every data row, by the csv module (an independent line count)."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows, start = [], reader.line_num + 1
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    return [(1, header), *rows]


def _break(path: Path, row_index: int, column: str, value: str) -> tuple[int, list[str]]:
    """Rewrite `path` with one cell of data row `row_index` replaced; its line and old row."""
    rows = [row for _, row in _file_lines(path)]
    header = rows[0]
    original = list(rows[row_index + 1])
    rows[row_index + 1][header.index(column)] = value
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    line = _file_lines(path)[row_index + 1][0]
    return line, original


@pytest.mark.slow
def test_broken_rows_are_quarantined_and_the_rest_stored(olist_dir: Path, tmp_path: Path):
    copy = tmp_path / "olist"
    shutil.copytree(olist_dir, copy, ignore=shutil.ignore_patterns("full_reference", "*geo*"))
    orders = _read(olist_dir, ORDERS)
    # A review whose message spans lines comes before the broken review, so line numbers
    # must count physical lines, not rows.
    reviews = _read(olist_dir, REVIEWS)
    multiline = reviews.index[reviews["review_comment_message"].fillna("").str.contains("\n")]
    review_row = int(multiline[3]) + 5

    order_line, order_row = _break(
        copy / ORDERS, 100, "order_purchase_timestamp", "2018-13-45 99:00"
    )
    item_line, item_row = _break(copy / ITEMS, 200, "price", "12,90 BRL")
    review_line, _ = _break(copy / REVIEWS, review_row, "review_id", "")
    assert review_line > review_row + 2  # rows before it span several lines
    payment_line, _ = _break(copy / PAYMENTS, 300, "payment_installments", "three")

    store = Store(tmp_path / "store.duckdb")
    summary = import_olist(store, copy)
    bad = {(Path(q["file"]).name, q["line"]): q for q in quarantine(store)}

    broken_order = order_row[0]
    assert bad[(ORDERS, order_line)]["column_name"] == "order_purchase_timestamp"
    assert bad[(ORDERS, order_line)]["reason"] == 'not a timestamp: "2018-13-45 99:00"'
    assert bad[(ORDERS, order_line)]["message_id"] == f"olist:order:{broken_order}"
    assert broken_order in bad[(ORDERS, order_line)]["raw"]
    assert bad[(ITEMS, item_line)]["column_name"] == "price"
    assert bad[(ITEMS, item_line)]["reason"] == 'not a number: "12,90 BRL"'
    assert bad[(REVIEWS, review_line)]["column_name"] == "review_id"
    assert bad[(REVIEWS, review_line)]["reason"] == "missing review_id"
    assert bad[(PAYMENTS, payment_line)]["column_name"] == "payment_installments"
    assert bad[(PAYMENTS, payment_line)]["reason"] == 'not an integer: "three"'

    # The broken order's own payments and review are quarantined with it, not lost.
    dependents = [q for q in bad.values() if q["reason"].startswith("its order is quarantined")]
    payments = _read(olist_dir, PAYMENTS)
    assert (
        len(dependents)
        == (payments["order_id"] == broken_order).sum()
        + (reviews["order_id"] == broken_order).sum()
    )

    counts = summary.events_by_name
    assert counts["Order Completed"] == len(orders) - 1
    assert (
        counts["Review Submitted"] == len(reviews) - 1 - (reviews["order_id"] == broken_order).sum()
    )
    stored_ids = {e["properties"]["order_id"] for e in events(store, "Order Completed")}
    assert broken_order not in stored_ids
    # The order with the broken item is still stored, without that item.
    items = _read(olist_dir, ITEMS)
    with_item = next(
        e for e in events(store, "Order Completed") if e["properties"]["order_id"] == item_row[0]
    )
    assert with_item["properties"]["items"] == (items["order_id"] == item_row[0]).sum() - 1
    assert summary.quarantined == len(bad)
    store.close()


def test_missing_file_and_column_stop_the_import(olist_dir: Path, tmp_path: Path, store):
    copy = tmp_path / "olist"
    shutil.copytree(olist_dir, copy, ignore=shutil.ignore_patterns("full_reference", "*geo*"))
    (copy / PAYMENTS).unlink()
    with pytest.raises(ImportFailed, match=r"olist_order_payments_dataset\.csv: no such file"):
        import_olist(store, copy)
    shutil.copy(olist_dir / PAYMENTS, copy / PAYMENTS)
    text = (copy / ORDERS).read_text().replace("order_status", "status", 1)
    (copy / ORDERS).write_text(text)
    with pytest.raises(ImportFailed, match=r"olist_orders_dataset\.csv: column 'order_status'"):
        import_olist(store, copy)
    with pytest.raises(ImportFailed, match="no such directory"):
        import_olist(store, tmp_path / "nowhere")
    assert store.connection.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_a_cancelled_order_is_no_return(imported, olist_dir: Path):
    """Olist's cancelled and unavailable orders are an order status, not the returns touchpoint."""
    from klantreis.model import build

    store, _, _ = imported
    build(store.engine, "six-phase")
    rows = store.engine.rows(
        "SELECT touchpoint, count(*) AS n FROM journey_events "
        "WHERE event = 'Order Cancelled' GROUP BY touchpoint"
    )
    orders = _read(olist_dir, ORDERS)
    cancelled = int(orders["order_status"].isin(["canceled", "unavailable"]).sum())
    assert {r["touchpoint"]: r["n"] for r in rows} == {"order status": cancelled}
