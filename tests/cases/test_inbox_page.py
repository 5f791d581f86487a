"""The inbox page behind the real app: signed-in users only, CSRF on every form, filters,
assign and resolve one case or many, escaped notes, the case on the customer timeline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web.shop import PASSWORD, csrf_of, login

from klantreis.act.cases import open_cases
from klantreis.api import Klantreis
from klantreis.config import Settings
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user


@pytest.fixture
def client(shop: Klantreis) -> Iterator[TestClient]:
    open_cases(shop)
    create_user(shop.store, "anna-admin", PASSWORD, "en")
    create_user(shop.store, "lotte", PASSWORD, "nl")
    path: Path = shop.settings.store
    shop.close()
    app = create_app(Settings(path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def _rows(html: str) -> list[str]:
    return re.findall(r'name="case_id" value="([^"]+)" form="bulk"', html)


def test_the_inbox_needs_a_login(client: TestClient) -> None:
    answer = client.get("/cases", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_filters_narrow_the_list(client: TestClient) -> None:
    login(client)
    every = _rows(client.get("/cases").text)
    assert len(every) == 6
    breaches = _rows(client.get("/cases?kind=breach").text)
    assert len(breaches) == 2 and all(i.split(":")[0].endswith("breach") for i in breaches)
    assert len(_rows(client.get("/cases?priority=high").text)) == 3
    assert _rows(client.get("/cases?status=resolved").text) == []
    page = client.get("/cases?kind=unanswered").text
    assert "no reply within 24 h on web" in page


def test_assign_and_bulk_resolve_with_csrf(client: TestClient) -> None:
    login(client)
    page = client.get("/cases?kind=breach")
    ids = _rows(page.text)
    refused = client.post(
        "/cases", data={"case_id": ids[0], "action": "assign", "owner": "x"}, follow_redirects=False
    )
    assert refused.status_code == 403
    token = csrf_of(page.text)
    done = client.post(
        "/cases?kind=breach",
        data={"csrf_token": token, "case_id": ids[0], "action": "assign", "owner": "bas",
              "note": "<script>alert(1)</script>"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/cases?kind=breach"
    page = client.get("/cases?kind=breach&owner=bas").text
    assert _rows(page) == [ids[0]]
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    client.post(
        "/cases",
        data={"csrf_token": token, "case_id": ids, "action": "resolve", "note": "sorted"},
    )
    assert _rows(client.get("/cases?kind=breach").text) == []  # active only, by default
    assert sorted(_rows(client.get("/cases?kind=breach&status=resolved").text)) == sorted(ids)
    again = client.post(
        "/cases", data={"csrf_token": token, "case_id": ids[0], "action": "resolve"}
    )
    assert again.status_code == 400 and "is already resolved" in again.text
    nothing = client.post("/cases", data={"csrf_token": token, "action": "resolve"})
    assert nothing.status_code == 400 and "tick at least one case" in nothing.text


def test_a_dutch_reader_and_the_timeline(client: TestClient) -> None:
    login(client, "lotte")
    page = client.get("/cases?kind=at_risk").text
    assert "Inbox" in page and "Bestelling in gevaar" in page and "Toewijzen" in page
    assert "niet verzonden, 11 u voor de beloofde levering" in page
    timeline = client.get("/timeline?person=eva").text
    assert "Casus" in timeline and "Bestelling in gevaar" in timeline


def test_the_inbox_answers_while_the_routine_writes(client: TestClient) -> None:
    """The routine's jobs hold the store's write lock while they write (judging the cases at
    10M events: minutes); reading the inbox takes no lock, so it answers meanwhile."""
    import threading

    from klantreis.present.web.context import store_of

    login(client)
    assert len(_rows(client.get("/cases").text)) == 6  # the table exists: nothing to create
    store = store_of(client.app)
    writing, done = threading.Event(), threading.Event()

    def routine_job() -> None:
        with store.write_lock:
            writing.set()
            done.wait(60)

    answers: list[int] = []
    writer = threading.Thread(target=routine_job)
    writer.start()
    try:
        assert writing.wait(10)
        reader = threading.Thread(
            target=lambda: answers.append(len(_rows(client.get("/cases").text)))
        )
        reader.start()
        reader.join(20)
        assert answers == [6], "the inbox waited for the routine's write lock"
    finally:
        done.set()
        writer.join()


@pytest.fixture
def crowded(shop: Klantreis) -> Iterator[TestClient]:
    """The shop's six cases and twenty copies of each (126 open): more than one page."""
    open_cases(shop)
    shop.store.connection.execute(
        "INSERT INTO cases SELECT cases.* REPLACE "
        "(case_id || ':copy' || CAST(i AS VARCHAR) AS case_id) FROM cases, range(20) AS copies(i)"
    )
    create_user(shop.store, "anna-admin", PASSWORD, "en")
    path: Path = shop.settings.store
    shop.close()
    app = create_app(Settings(path, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_inbox_shows_fifty_cases_a_page_with_the_counts_of_all(crowded: TestClient) -> None:
    login(crowded)
    first = crowded.get("/cases?sort=opened").text
    assert len(_rows(first)) == 50
    assert "Cases 1–50 of 126" in first and "Page 1 of 3" in first
    assert re.search(r"Open</span><b>126</b>", first)  # the header counts every case
    assert _link(first, "prev") is None
    second_url = _link(first, "next")
    assert second_url == "/cases?sort=opened&page=2"
    second = crowded.get(second_url).text
    assert "Cases 51–100 of 126" in second and _link(second, "prev") == "/cases?sort=opened&page=1"
    third = crowded.get(_link(second, "next") or "").text
    assert len(_rows(third)) == 26 and _link(third, "next") is None
    shown = _rows(first) + _rows(second) + _rows(third)
    assert len(set(shown)) == 126  # every case once, in the sort's order
    # a filter keeps its pages; a page past the last shows the last
    breaches = crowded.get("/cases?kind=breach").text
    assert len(_rows(breaches)) == 42 and "Cases 1–42 of 42" in breaches
    assert _link(breaches, "next") is None and "Page 1 of" not in breaches
    assert _rows(crowded.get("/cases?sort=opened&page=99").text) == _rows(third)
    assert len(_rows(crowded.get("/cases?page=x").text)) == 50


def test_an_action_on_a_later_page_comes_back_to_it(crowded: TestClient) -> None:
    login(crowded)
    page = crowded.get("/cases?kind=breach&sort=opened&page=1")
    ids = _rows(page.text)
    done = crowded.post(
        "/cases?kind=breach&sort=opened&page=1",
        data={"csrf_token": csrf_of(page.text), "case_id": ids[0], "action": "assign",
              "owner": "bas"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.headers["location"] == "/cases?kind=breach&sort=opened&page=1"
