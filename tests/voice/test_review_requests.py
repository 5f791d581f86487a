"""Review requests through a real local SMTP server (aiosmtpd): consent, once per order."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from stories import story

from klantreis.act.notify import SmtpConfig
from klantreis.act.review_requests import send_review_requests
from klantreis.collect.surveys import answer_survey


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpConfig(host="127.0.0.1", port=port, sender="shop@example.com"), inbox
    controller.stop()


def identify(traits: dict) -> tuple:
    return ("Identify", "08:00", {"type": "identify", "traits": traits})


def shop_story():
    return story(
        {
            "anna": [
                identify(
                    {"email": "anna@example.com", "consent_marketing": True, "language": "nl"}
                ),
                ("Order Completed", "09:00", {"properties": {"order_id": "o1"}}),
                ("Order Delivered", "2026-03-04T12:00", {"properties": {"order_id": "o1"}}),
            ],
            "bo": [
                identify({"email": "bo@example.com"}),  # never consented
                ("Order Completed", "09:00", {"properties": {"order_id": "o2"}}),
                ("Order Delivered", "2026-03-04T12:00", {"properties": {"order_id": "o2"}}),
            ],
            "cato": [
                identify({"email": "cato@example.com", "consent_marketing": True}),
                ("Consent Updated", "08:30", {"properties": {"marketing": False}}),
                ("Order Completed", "09:00", {"properties": {"order_id": "o3"}}),
                ("Order Delivered", "2026-03-04T12:00", {"properties": {"order_id": "o3"}}),
            ],
            "dirk": [
                identify({"email": "dirk@example.com", "consent_marketing": True}),
                ("Order Completed", "09:00", {"properties": {"order_id": "o4"}}),
            ],  # not delivered
        }
    )


def test_invites_consenting_customers_once(kr, smtp) -> None:
    config, inbox = smtp
    kr.store.append(shop_story())
    first = send_review_requests(kr, config, base_url="https://shop.example/klantreis")
    assert first.sent == ["o1"] and not first.failed
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "anna@example.com"
    assert mail["Subject"] == "Hoe was je bestelling?"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    token = re.search(r"https://shop\.example/klantreis/s/(\S+)", body).group(1)  # type: ignore[union-attr]

    again = send_review_requests(kr, config, base_url="https://shop.example/klantreis")
    assert again.sent == [] and len(inbox.messages) == 1
    sent_events = kr.sql(
        "SELECT user_id, properties->>'$.order_id' AS order_id FROM events "
        "WHERE event = 'Review Request Sent'"
    ).to_pylist()
    assert sent_events == [{"user_id": "anna", "order_id": "o1"}]

    # the link in the e-mail answers the survey for anna and her order
    assert answer_survey(kr.store, token, 9, "Snel en netjes")
    answer = kr.sql("SELECT user_id, properties FROM events WHERE event = 'Survey Answered'")
    row = answer.to_pylist()[0]
    assert row["user_id"] == "anna" and '"order_id":"o1"' in row["properties"]


def test_unreachable_server_sends_nothing_and_remembers_nothing(kr) -> None:
    kr.store.append(shop_story())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    config = SmtpConfig(host="127.0.0.1", port=closed_port, timeout=2)
    run = send_review_requests(kr, config, base_url="http://localhost:8000")
    assert run.sent == [] and "o1" in run.failed
    assert kr.sql("SELECT count(*) AS n FROM voice_review_requests").to_pylist() == [{"n": 0}]


def test_base_url_must_be_http(kr, smtp) -> None:
    with pytest.raises(ValueError, match="base_url: must be http"):
        send_review_requests(kr, smtp[0], base_url="javascript:alert(1)")
