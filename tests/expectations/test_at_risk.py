"""Orders at risk of breaking their delivery promise, on a story with known answers."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from stories import story
from typer.testing import CliRunner

from klantreis.config import load_settings
from klantreis.measure.expectations.at_risk import AtRiskError
from klantreis.present.cli.app import app


def _shop(kr) -> None:
    def placed(oid: str, promised: str) -> tuple:
        return (
            "Order Completed",
            "2026-03-02T09:00",
            {"properties": {"order_id": oid, "promised_delivery_date": promised}},
        )

    kr.store.append(
        story(
            {
                "ann": [placed("unshipped-soon", "2026-03-05T12:00:00")],
                "ben": [placed("unshipped-later", "2026-03-09T12:00:00")],
                "cas": [
                    placed("shipped-soon", "2026-03-04T20:00:00"),
                    (
                        "Order Shipped",
                        "2026-03-03T09:00",
                        {"properties": {"order_id": "shipped-soon", "carrier": "DHL"}},
                    ),
                ],
                "dio": [
                    placed("delivered", "2026-03-04T20:00:00"),
                    (
                        "Order Delivered",
                        "2026-03-03T15:00",
                        {"properties": {"order_id": "delivered"}},
                    ),
                ],
                "eva": [
                    placed("cancelled", "2026-03-04T20:00:00"),
                    (
                        "Order Cancelled",
                        "2026-03-02T10:00",
                        {"properties": {"order_id": "cancelled"}},
                    ),
                ],
                "fay": [placed("overdue", "2026-03-03T12:00:00")],
                "gus": [("Page Viewed", "2026-03-09T09:00")],
            }
        )
    )


NOW = datetime(2026, 3, 4, 0, 0)


def test_who_to_warn(kr):
    _shop(kr)
    rows = kr.at_risk(now=NOW).to_pylist()
    assert [(r["order_id"], r["stage"], r["hours_left"]) for r in rows] == [
        ("shipped-soon", "not delivered", 20.0),
        ("unshipped-soon", "not shipped", 36.0),
    ]
    assert rows[0]["carrier"] == "DHL" and rows[0]["person_id"] == "cas"
    overdue = {r["order_id"] for r in kr.at_risk(now=NOW, overdue=True).to_pylist()}
    assert overdue == {"shipped-soon", "unshipped-soon", "overdue"}
    wider = {r["order_id"] for r in kr.at_risk(now=NOW, unshipped_hours=200).to_pylist()}
    assert "unshipped-later" in wider
    # A replay sees only what was known then: at noon on 3 March the parcel had not arrived.
    earlier = kr.at_risk(now=datetime(2026, 3, 3, 12)).to_pylist()
    assert [(r["order_id"], r["hours_left"]) for r in earlier] == [
        ("overdue", 0.0),
        ("delivered", 32.0),
    ]


def test_thresholds_from_settings_and_their_errors(kr, tmp_path):
    _shop(kr)
    config = tmp_path / "klantreis.toml"
    config.write_text("[at_risk]\nunshipped_hours = 12\nundelivered_hours = 48\n")
    kr.settings = load_settings(kr.settings.store)
    assert [r["order_id"] for r in kr.at_risk(now=NOW).to_pylist()] == ["shipped-soon"]
    config.write_text('[at_risk]\nunshipped_hours = "two days"\n')
    kr.settings = load_settings(kr.settings.store)
    with pytest.raises(AtRiskError, match=r"\[at_risk\] unshipped_hours: a number of hours"):
        kr.at_risk(now=NOW)
    config.write_text("[at_risk]\nunshipped = 3\n")
    kr.settings = load_settings(kr.settings.store)
    with pytest.raises(AtRiskError, match="unknown setting 'unshipped'"):
        kr.at_risk(now=NOW)


def test_cli(kr):
    _shop(kr)
    store = str(kr.settings.store)
    kr.close()
    runner = CliRunner()
    result = runner.invoke(
        app, ["at-risk", "--store", store, "--now", "2026-03-04T00:00", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["now"] == "2026-03-04T00:00:00"
    assert [o["order_id"] for o in data["orders"]] == ["shipped-soon", "unshipped-soon"]
    table = runner.invoke(app, ["at-risk", "--store", store, "--now", "2026-03-04T00:00"])
    assert table.exit_code == 0 and "2 order(s) at risk" in table.stdout
    bad = runner.invoke(app, ["at-risk", "--store", store, "--now", "tomorrow"])
    assert bad.exit_code == 2 and "now: not an ISO timestamp: 'tomorrow'" in bad.output
