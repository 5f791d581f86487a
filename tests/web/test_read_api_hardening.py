"""The read API and the dashboard answer bad requests without opening files or naming insides."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from klantreis.config import Settings
from klantreis.present.errors import INTERNAL
from klantreis.present.web.board import Board
from klantreis.store import Store
from web.shop import login

VALID_DEFINITION = (
    Path(__file__).parents[2] / "src/klantreis/model/definitions/aida.yaml"
).read_text()


def test_the_map_opens_no_file_a_request_names(client: TestClient, tmp_path: Path) -> None:
    """`/api/map?definition=<path>` read any file the server could (a probe had it parse
    /etc/shadow and read /dev/zero until memory ran out). Now a request names a shipped or
    configured definition; every path gets the same 400, so it tells nothing about the file."""
    assert login(client).status_code == 303
    planted = tmp_path / "planted.yaml"
    planted.write_text(VALID_DEFINITION.replace("name: aida", "name: planted"))
    answers = [
        client.get("/api/map", params={"definition": path})
        for path in (str(planted), str(tmp_path / "missing.yaml"), "/etc/passwd", "/dev/zero")
    ]
    assert [a.status_code for a in answers] == [400] * 4
    assert len({a.json()["error"] for a in answers}) == 1
    assert "six-phase" in answers[0].json()["error"]
    assert client.get("/api/map", params={"definition": "aida"}).status_code == 200


def test_the_configured_definition_file_is_named_by_its_name(store_path: Path, tmp_path: Path):
    from klantreis.present.api.app import create_app

    own = tmp_path / "own.yaml"
    own.write_text(VALID_DEFINITION.replace("name: aida", "name: our-shop"))
    sections = {"web": {"warm": False}, "journey": {"definition": str(own)}}
    app = create_app(Settings(store_path, sections=sections))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert login(client).status_code == 303
        answer = client.get("/api/map", params={"definition": "our-shop"})
        assert answer.status_code == 200, answer.text
        refused = client.get("/api/map", params={"definition": "nope"})
        assert refused.status_code == 400
        assert "our-shop" in refused.json()["error"]
        assert str(own) not in refused.json()["error"]


def test_a_missing_breakdown_column_does_not_list_the_table(client: TestClient) -> None:
    """The answer named every column of the table asked for, of any table with a person id."""
    assert login(client).status_code == 303
    base = [("step", "Product Viewed"), ("step", "Order Completed")]
    answer = client.get(
        "/api/funnel", params=[*base, ("breakdown", "nope"), ("breakdown_table", "persons")]
    )
    assert answer.status_code == 400
    assert "nope" in answer.json()["error"]
    for column in ("consent_marketing", "traits", "first_seen"):
        assert column not in answer.text
    answer = client.get(
        "/api/funnel", params=[*base, ("breakdown", "locale"), ("breakdown_table", "web_users")]
    )
    assert answer.status_code == 400
    assert "password_hash" not in answer.text


def test_an_engine_error_on_a_page_names_no_table_or_column(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page showed `BinderException: Referenced column ... Candidate bindings: ...` as is."""
    from klantreis.measure import registry

    def failing(kr, **_: object) -> object:
        return kr.engine.connection.execute("SELECT no_such_column FROM journey_events").fetchall()

    monkeypatch.setitem(registry._ANALYSES, "failing_query", failing)
    with Store(store_path) as store:
        board = Board(Settings(store_path), store)
        board.kr.journey_map()  # builds journey_events
        outcome = board.run("failing_query")
        own = board.run("journey_map", persona="nobody-group")
    assert outcome.error == INTERNAL
    assert "journey_events" not in outcome.error and "person_id" not in outcome.error
    assert own.error is not None and "personas" in own.error  # our own errors still say what
