"""Every page over a small real store: what it shows, what it escapes, what it says is missing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from stories import story

from klantreis.measure import registry
from klantreis.measure.registry import analyses
from web.shop import XSS_IMG, XSS_LINK, XSS_SCRIPT, csrf_of, login, settled

PAGES = (
    "/map",
    "/map?definition=aida&period=30d",
    "/expectations",
    "/funnels",
    "/voice",
    "/timeline",
    "/timeline?person=anna",
    "/settings",
)


@pytest.fixture
def user(client: TestClient) -> TestClient:
    assert login(client).status_code == 303
    return client


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_with_a_strict_content_security_policy(user: TestClient, url: str) -> None:
    settled(user, url)
    response = user.get(url)
    assert response.status_code == 200, response.text[:500]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text  # no inline script at all


def test_journey_map_shows_every_phase_with_numbers(user: TestClient) -> None:
    html = settled(user, "/map")
    for label in ("Awareness", "Orientation", "Consideration", "Purchase", "Evaluation"):
        assert label in html
    svg = html[html.index("<svg") : html.index("</svg>") + 6]
    ET.fromstring(svg)  # well-formed: the same SVG is the download
    assert "Order Completed" in svg and "What customers do" in svg


MISSABLE = [("/expectations", "expectations"), ("/voice", "voice"), ("/funnels", "funnel")]


@pytest.mark.parametrize(("url", "name"), MISSABLE)
def test_missing_analyses_are_named_not_faked(
    user: TestClient, monkeypatch: pytest.MonkeyPatch, url: str, name: str
) -> None:
    analyses()  # every analysis registered, so that the removal below is what the page sees
    monkeypatch.delitem(registry._ANALYSES, name)
    assert f'data-missing="{name}"' in settled(user, url)


@pytest.mark.parametrize(("url", "name"), MISSABLE)
def test_installed_analyses_are_not_named_missing(user: TestClient, url: str, name: str) -> None:
    assert f'data-missing="{name}"' not in settled(user, url)


def test_customer_text_is_escaped_in_the_svg_export(user: TestClient) -> None:
    response = user.get("/map.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "attachment" in response.headers["content-disposition"]
    body = response.text
    ET.fromstring(body.split("\n", 1)[1])
    assert not re.search(r"<(script|img|a|foreignObject|iframe)\b", body, re.I)
    assert "&lt;script&gt;window" in body  # a custom event name, shown as text
    assert "&lt;img src=x onerror" in body  # a custom channel name


def test_timeline_shows_every_channel_in_order_with_escaped_text(user: TestClient) -> None:
    html = user.get("/timeline?person=anna").text
    items = re.findall(r'<span class="what">([^<]+)</span>', html)
    assert items[0] == "Products Searched" and "Order Delivered" in items
    assert items.index("Order Completed") < items.index("Order Delivered")
    assert "late: promised Mar 4, 2026" in html
    for raw in (XSS_SCRIPT, XSS_IMG, XSS_LINK):
        assert raw not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;Slow delivery" in html
    assert "carrier" in html and "review site" in html and "e-mail" in html


def test_unknown_person_is_said_plainly(user: TestClient) -> None:
    assert "Nobody with the id" in user.get("/timeline?person=nobody-here").text


def test_share_link_is_read_only_and_tamper_proof(user: TestClient) -> None:
    page = user.get("/map")
    shared = user.post(
        "/map/share",
        data={
            "csrf_token": csrf_of(page.text),
            "period": "all",
            "definition": "aida",
            "persona": "",
        },
    )
    url = re.search(
        r'id="share-url" value="(http[^"]+)"|value="(http[^"]+)" id="share-url"', shared.text
    )
    assert url, shared.text[:2000]
    link = (url.group(1) or url.group(2)).replace("http://127.0.0.1", "")
    user.cookies.clear()
    view = settled(user, link)
    assert "Attention" in view  # AIDA, as shared
    assert 'action="/logout"' not in view and 'action="/map/share"' not in view
    assert user.get(link + "/map.svg").status_code == 200
    assert user.get(link[:-3] + "xyz").status_code == 403
    assert user.get("/map", follow_redirects=False).status_code == 303


def test_funnel_steps_come_from_the_page(user: TestClient) -> None:
    html = user.get("/funnels?step=Product+Viewed&step=Order+Completed").text
    steps = html[html.index('id="funnel-steps"') :]  # the funnel's own form: its steps
    steps = steps[: steps.index("</form>")]
    selected = re.findall(r'<option value="([^"]+)" selected>', steps)
    assert selected == ["Product Viewed", "Order Completed"]


def test_settings_create_and_revoke_a_read_key(user: TestClient) -> None:
    page = user.get("/settings")
    created = user.post(
        "/settings/keys",
        data={"csrf_token": csrf_of(page.text), "name": "<b>dash</b>", "kind": "read"},
    )
    key = re.search(r'value="(krr_[^"]+)"', created.text)
    assert key and "&lt;b&gt;dash&lt;/b&gt;" in created.text
    api = user.get("/api/stats", headers={"Authorization": f"Bearer {key.group(1)}"})
    assert api.status_code in (200, 404)
    key_id = re.search(r'name="key_id" value="([^"]+)"', created.text).group(1)
    user.post("/settings/keys/revoke", data={"csrf_token": csrf_of(created.text), "key_id": key_id})
    assert "revoked" in user.get("/settings").text


def test_the_read_api_accepts_a_dashboard_login(user: TestClient, client: TestClient) -> None:
    assert user.get("/api/stats").status_code == 200
    user.cookies.clear()
    assert client.get("/api/stats").status_code == 401


def test_a_slow_map_shows_progress_then_the_map(user: TestClient) -> None:
    first = user.get("/map?period=90d").text
    assert 'id="map-progress"' in first or "<svg" in first
    if 'id="map-progress"' in first:
        assert '<meta http-equiv="refresh"' in first and "<progress>" in first
    assert "<svg" in settled(user, "/map?period=90d")


def test_timeline_can_show_only_the_moments_service_needs(user: TestClient) -> None:
    html = user.get("/timeline?person=anna&focus=true").text
    items = re.findall(r'<span class="what">([^<]+)</span>', html)
    assert "Products Searched" not in items and "Product Viewed" not in items
    assert {"Order Completed", "Order Delivered", "Ticket Created", "Review Submitted"} <= set(
        items
    )


def test_timeline_and_read_api_show_a_promise_clearly_exceeded(user: TestClient) -> None:
    promised = {"order_id": "d1", "promised_delivery_date": "2026-03-09"}
    user.app.state.store.append(
        story(
            {
                "dora": [
                    ("Order Completed", "2026-03-02T09:00", {"properties": promised}),
                    (
                        "Order Delivered",
                        "2026-03-04T10:00",
                        {"channel": "carrier", "properties": promised},
                    ),
                ]
            }
        )
    )
    # pages read what the server's routine stores: run its model and cases jobs now, as it
    # does after new events (cases, breaches, delights), instead of waiting for its schedule
    routine = user.app.state.routine
    for job in routine.jobs:
        if job.name in ("model", "cases"):
            assert routine.run_once(job)
    settled(user, "/expectations")
    html = user.get("/timeline?person=dora").text
    assert re.search(
        r'<li class="delight">.*?<span class="what">Delivered by the promised date</span>',
        html,
        re.S,
    )
    assert "Delivered by the promised date" in user.get("/timeline?person=dora&focus=true").text
    delights = user.get("/api/delights", params={"person_id": "dora"}).json()["delights"]
    assert [(d["expectation_id"], d["order_id"]) for d in delights] == [
        ("delivery_promise_kept", "d1")
    ]
    assert user.get("/api/delights", params={"person_id": "anna"}).json()["delights"] == []


def test_scorecard_shows_the_delight_rate_next_to_the_breach_rate(user: TestClient) -> None:
    html = settled(user, "/expectations")
    table = html[
        html.index('id="scorecard"') : html.index("</table>", html.index('id="scorecard"'))
    ]
    assert "<th>Delighted</th>" in table
    rows = {r.split('href="/expectations/')[1].split('"')[0]: r for r in table.split("<tr")[2:]}
    delivery = rows["delivery_promise_kept"]
    # bram's parcel came 12 hours early: on time, not a day early; anna's was late.
    assert re.search(r'<td class="delight">0\.0%<br>.*1 day early', delivery, re.S)
    assert "No delight margin for this expectation" in rows["order_arrives"]


def test_settings_list_the_delight_margins(user: TestClient) -> None:
    html = user.get("/settings").text
    assert "by promised_delivery_date, delight 1 day early" in html
    assert "within 1 day, delight within 1 hour" in html
    assert "p75 lcp ≤ 2,500 ms, delight ≤ 1,000 ms" in html


def test_a_long_timeline_is_grouped_by_journey_and_session_and_opens_collapsed(
    user: TestClient,
) -> None:
    events: list[tuple[object, ...]] = []
    for n, day in enumerate(("2026-03-10", "2026-04-10", "2026-05-10")):
        promised = {"order_id": f"e{n}", "promised_delivery_date": f"{day[:8]}12"}
        for session in range(3):  # three visits, hours apart, before each order
            for minute in range(8):
                events.append(("Product Viewed", f"{day}T{9 + 3 * session:02d}:{minute:02d}"))
        events.append(("Order Completed", f"{day}T16:00", {"properties": promised}))
        delivered = f"{day[:8]}{14 if n == 1 else 11}T10:00"  # the second order comes late
        events.append(
            ("Order Delivered", delivered, {"channel": "carrier", "properties": promised})
        )
    user.app.state.store.append(story({"emma": events}))
    settled(user, "/expectations")  # judges the expectations: breaches, delights
    html = user.get("/timeline?person=emma").text
    journeys = re.findall(r'<section class="journey[^"]*" id="journey-\d+">', html)
    assert len(journeys) == 3
    assert " open>" not in html and '<details class="session">' in html  # all collapsed
    # per journey: three visits, the order an hour later, the delivery days later
    assert html.count('<details class="session">') == 3 * 5
    assert "order e1" in html and "Consideration → Purchase" in html
    # The late order's journey is marked, its breach listed outside the collapsed events.
    second = html[html.index('id="journey-2"') : html.index('id="journey-3"')]
    assert "has-breach" in html[html.index('id="journey-2"') - 40 : html.index('id="journey-2"')]
    moments = second[second.index('<ul class="moments">') :]
    assert "Delivered by the promised date" in moments and 'class="breach"' in moments


def test_voice_quotes_are_labelled_like_their_sentiment(user: TestClient) -> None:
    html = settled(user, "/voice")
    quotes = re.findall(
        r'<p class="quote (negative|positive)"><b class="quote-label">([^<]+):</b>', html
    )
    assert quotes, "the voice page shows no quotes"
    for label, shown in quotes:
        assert shown == label.capitalize()
