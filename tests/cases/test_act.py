"""The inbox and acting on a case: assign, resolve, notes; messages by e-mail through a real
local SMTP server and to a real local webhook receiver, each recorded as a journey event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from receivers import Mailbox, Receiver
from servers import free_port

from klantreis.act.cases import CaseError, open_cases
from klantreis.api import Klantreis
from klantreis.config import load_settings


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def opened(shop: Klantreis) -> Klantreis:
    open_cases(shop)
    return shop


def _configure(kr: Klantreis, tmp_path: Path, text: str) -> None:
    (tmp_path / "klantreis.toml").write_text(text)
    kr.settings = load_settings(kr.settings.store)


def _case(kr: Klantreis, kind: str) -> str:
    return str(kr.cases.list(kind=kind)[0]["case_id"])


def test_list_filters_and_sorts(opened: Klantreis) -> None:
    every = opened.cases.list()
    assert [c["due_at"] for c in every] == sorted(c["due_at"] for c in every)
    assert {c["kind"] for c in opened.cases.list(priority="high")} == {
        "breach",
        "at_risk",
        "unanswered",
    }
    assert [c["person_id"] for c in opened.cases.list(person="ben")] == ["ben"]
    with pytest.raises(CaseError, match="status: 'done' is not one of"):
        opened.cases.list(status="done")


def test_assign_then_resolve_with_a_note(opened: Klantreis) -> None:
    case_id = _case(opened, "detractor")
    (taken,) = opened.cases.assign([case_id], "anna", note="will call")
    assert (taken["owner"], taken["status"]) == ("anna", "in_progress")
    (done,) = opened.cases.resolve([case_id], note="called, sent a voucher code")
    assert done["status"] == "resolved" and done["closed_at"] is not None
    assert [n["text"] for n in done["notes"]] == [
        "assigned to anna",
        "will call",
        "resolved",
        "called, sent a voucher code",
    ]
    assert opened.cases.list(status="active", person="ben") == []
    with pytest.raises(CaseError, match="is already resolved"):
        opened.cases.resolve([case_id])
    with pytest.raises(CaseError, match="is closed"):
        opened.cases.assign([case_id], "bas")


def test_bulk_changes_all_or_none(opened: Klantreis) -> None:
    ids = [c["case_id"] for c in opened.cases.list()]
    opened.cases.resolve(ids[:1], outcome="no_action")
    with pytest.raises(CaseError, match="is already no_action"):
        opened.cases.resolve(ids)
    assert {c["status"] for c in opened.cases.list() if c["case_id"] in ids[1:]} == {"open"}
    assert len(opened.cases.assign(ids[1:], "bas")) == len(ids) - 1
    with pytest.raises(CaseError, match="no case 'nope'"):
        opened.cases.assign(["nope"], "bas")


def test_apology_by_email_in_the_customers_language(
    opened: Klantreis, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    _configure(
        opened,
        tmp_path,
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsender = "zorg@shop.example"\n'
        '[cases]\nshop_name = "Voorbeeldshop"\n',
    )
    case_id = _case(opened, "breach")
    after = opened.cases.send(case_id, via="email")
    ((to, message),) = box.messages
    assert to == ["ann@example.com"]
    assert message["Subject"] == "Over je bestelling O-ann"  # Ann reads Dutch
    body = message.get_payload(decode=True).decode()
    assert "Beste Ann" in body and "Voorbeeldshop" in body and "$" not in body
    assert after["messages_sent"] == 1 and after["status"] == "in_progress"
    assert after["notes"][-1]["text"] == "message apology sent by e-mail"
    (event,) = opened.sql(
        "SELECT user_id, properties FROM events WHERE event = 'Case Message Sent'"
    ).to_pylist()
    props = json.loads(event["properties"])
    assert event["user_id"] == "ann"
    assert props["case_id"] == case_id and props["via"] == "email"
    assert props["transactional"] is True and props["expectation_id"] == "delivery_promise_kept"


def test_delay_notice_to_the_helpdesk_by_webhook(
    opened: Klantreis, tmp_path: Path, receiver: Receiver
) -> None:
    _configure(opened, tmp_path, f'[cases]\nwebhook = "{receiver.url}"\n')
    case_id = _case(opened, "at_risk")
    opened.cases.send(case_id, via="webhook")
    (payload,) = receiver.received
    assert payload["event"] == "case.message"
    assert payload["case"]["case_id"] == case_id and payload["case"]["order_id"] == "O-eva"
    assert payload["message"]["template"] == "delay_notice"
    assert payload["message"]["subject"] == "Your order O-eva will be later than promised"
    assert payload["customer"]["email"] == "eva@example.com"
    assert opened.sql(
        "SELECT count(*) AS n FROM events WHERE event = 'Case Message Sent'"
    ).to_pylist() == [{"n": 1}]


def test_what_cannot_be_sent_is_refused_and_nothing_is_recorded(
    opened: Klantreis, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    case_id = _case(opened, "breach")
    with pytest.raises(CaseError, match=r"no \[smtp\] section"):
        opened.cases.send(case_id)
    _configure(opened, tmp_path, f'[smtp]\nhost = "127.0.0.1"\nport = {port}\n')
    with pytest.raises(CaseError, match="no webhook"):
        opened.cases.send(case_id, via="webhook")
    with pytest.raises(CaseError, match="no message 'coupon'"):
        opened.cases.send(case_id, template="coupon")
    # fay wrote a review but never told us her e-mail address
    with pytest.raises(CaseError, match="has no e-mail address"):
        opened.cases.send(_case(opened, "negative_text"))
    # the unanswered ticket's rule names no message
    with pytest.raises(CaseError, match="names no message"):
        opened.cases.send(_case(opened, "unanswered"))
    assert box.messages == []
    assert opened.sql(
        "SELECT count(*) AS n FROM events WHERE event = 'Case Message Sent'"
    ).to_pylist() == [{"n": 0}]


def test_a_customer_who_wants_no_service_mail_gets_none(
    kr: Klantreis, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    from stories import story

    box, port = mailbox
    kr.store.append(
        story(
            {
                "hal": [
                    (
                        "Identify",
                        "2026-03-02T08:00",
                        {
                            "type": "identify",
                            "traits": {"email": "hal@example.com", "transactional_email": False},
                        },
                    ),
                    (
                        "Survey Answered",
                        "2026-03-03T10:00",
                        {"properties": {"kind": "nps", "score": 0}},
                    ),
                ]
            }
        )
    )
    _configure(kr, tmp_path, f'[smtp]\nhost = "127.0.0.1"\nport = {port}\n')
    open_cases(kr)
    with pytest.raises(CaseError, match="asked for no service e-mail"):
        kr.cases.send(_case(kr, "detractor"))
    assert box.messages == []
