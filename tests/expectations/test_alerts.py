"""Alerts delivered to a real HTTP receiver and a real SMTP server (aiosmtpd), both started here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from receivers import Mailbox, Receiver
from servers import free_port
from stories import story
from typer.testing import CliRunner

from klantreis.act.alerts import AlertError, check_alerts
from klantreis.present.cli.app import app


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _late_week(kr) -> None:
    """Ten orders promised for 6 March; three arrive late."""
    people = {}
    for i in range(10):
        oid = f"o{i}"
        people[f"p{i}"] = [
            (
                "Order Completed",
                "2026-03-02T09:00",
                {"properties": {"order_id": oid, "promised_delivery_date": "2026-03-06T00:00:00"}},
            ),
            (
                "Order Delivered",
                "2026-03-07T10:00" if i < 3 else "2026-03-05T10:00",
                {"properties": {"order_id": oid}},
            ),
        ]
    kr.store.append(story(people))


def _configure(tmp_path: Path, text: str) -> None:
    (tmp_path / "klantreis.toml").write_text(text)


def test_breach_rate_over_the_limit_posts_and_mails(kr, tmp_path, receiver, mailbox):
    box, port = mailbox
    _late_week(kr)
    _configure(
        tmp_path,
        f"""
[smtp]
host = "127.0.0.1"
port = {port}
sender = "klantreis@shop.example"

[[alerts]]
expectation = "delivery_promise_kept"
max_breach_rate = 0.2
period = "7d"
min_cases = 5
webhook = "{receiver.url}"
email = ["ops@shop.example", "cx@shop.example"]

[[alerts]]
expectation = "delivery_promise_kept"
max_breach_rate = 0.5
period = "7d"
min_cases = 5
webhook = "{receiver.url}"
""",
    )
    from klantreis.config import load_settings

    kr.settings = load_settings(kr.settings.store)
    first, second = check_alerts(kr)
    assert first.triggered and (first.cases, first.breached, first.breach_rate) == (10, 3, 0.3)
    assert first.errors == []
    assert not second.triggered and second.sent == []
    (payload,) = receiver.received
    assert payload["type"] == "klantreis.alert"
    assert payload["expectation"] == "delivery_promise_kept"
    assert payload["breach_rate"] == 0.3 and payload["max_breach_rate"] == 0.2
    assert payload["title"] == "Delivered by the promised date"
    assert sorted(rcpt for rcpts, _ in box.messages for rcpt in rcpts) == [
        "cx@shop.example",
        "ops@shop.example",
    ]
    message = box.messages[0][1]
    assert "Delivered by the promised date" in message["Subject"]
    assert "breached: 3" in message.get_payload()


def test_quiet_periods_and_too_few_cases_send_nothing(kr, tmp_path, receiver):
    _late_week(kr)
    _configure(
        tmp_path,
        f"""
[[alerts]]
expectation = "delivery_promise_kept"
max_breach_rate = 0.1
period = "1d"
webhook = "{receiver.url}"
""",
    )
    from datetime import datetime

    from klantreis.config import load_settings

    kr.settings = load_settings(kr.settings.store)
    (outcome,) = check_alerts(kr, now=datetime(2026, 3, 20))
    assert not outcome.triggered and outcome.cases == 0
    assert "fewer than 10" in outcome.reason
    assert receiver.received == []


def test_cli_check_reports_undeliverable_webhooks(kr, tmp_path):
    _late_week(kr)
    dead = f"http://127.0.0.1:{free_port()}/gone"
    _configure(
        tmp_path,
        f"""
[[alerts]]
expectation = "delivery_promise_kept"
max_breach_rate = 0.1
min_cases = 1
webhook = "{dead}"
""",
    )
    store = str(kr.settings.store)
    kr.close()
    result = CliRunner().invoke(app, ["alerts", "check", "--store", store, "--json"])
    assert result.exit_code == 1
    (outcome,) = json.loads(result.stdout)["alerts"]
    assert outcome["triggered"] and outcome["errors"] and dead in outcome["errors"][0]
    dry = CliRunner().invoke(app, ["alerts", "check", "--store", store, "--dry-run"])
    assert dry.exit_code == 0 and "ALERT" in dry.stdout


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'expectation = "nope"\nmax_breach_rate = 0.1\nwebhook = "http://x"',
            "#1: expectation: unknown expectation 'nope'",
        ),
        (
            'expectation = "site_fast"\nmax_breach_rate = 5\nwebhook = "http://x"',
            "#1: max_breach_rate: a number from 0 to 1",
        ),
        (
            'expectation = "site_fast"\nmax_breach_rate = 0.1\nperiod = "weekly"\n'
            'webhook = "http://x"',
            "#1: period: not a duration",
        ),
        ('expectation = "site_fast"\nmax_breach_rate = 0.1', "#1: needs a webhook, an email"),
        (
            'expectation = "site_fast"\nmax_breach_rate = 0.1\nwebhook = "ftp://x"',
            "#1: webhook: an http(s) URL",
        ),
        (
            'expectation = "site_fast"\nmax_breach_rate = 0.1\nemail = "ops@x.nl"',
            "with email need an [smtp] section",
        ),
        (
            'expectation = "site_fast"\nmax_breach_rate = 0.1\nwebhok = "http://x"',
            "#1: unknown field(s) webhok",
        ),
    ],
)
def test_bad_alert_rules_name_the_rule_and_field(kr, tmp_path, body, message):
    _late_week(kr)
    _configure(tmp_path, "[[alerts]]\n" + body + "\n")
    from klantreis.config import load_settings

    kr.settings = load_settings(kr.settings.store)
    with pytest.raises(AlertError) as caught:
        check_alerts(kr)
    assert message in str(caught.value)
    assert "klantreis.toml [[alerts]]" in str(caught.value) or "[smtp]" in message
