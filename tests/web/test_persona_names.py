"""A Dutch or Danish reader chooses among personas named in their language.

Discovery names its groups in English ("Quick deciders") and stores that name; the map's
persona choice and the exported map's subtitle show it in the reader's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.config import Settings
from klantreis.measure.personas.discovery import discover
from klantreis.model import ensure_built
from klantreis.present.api.app import create_app
from klantreis.present.web.auth import create_user
from klantreis.present.web.terms import persona
from web.shop import PASSWORD, login
from web.vocabulary_check import english_words, page_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("persona-names") / "shop.duckdb"
    with klantreis.open(path) as kr:
        for batch in simulate(SimulatorConfig(persons=200, seed=17)).iter_batches(20_000):
            kr.store.append(batch)
        ensure_built(kr)
        assert discover(kr).k >= 2
        for lang in ("en", "nl", "da"):
            create_user(kr.store, f"reader-{lang}", PASSWORD, lang)
    return path


@pytest.mark.parametrize("lang", ["nl", "da"])
def test_the_maps_persona_choice_is_in_the_readers_language(store: Path, lang: str) -> None:
    with klantreis.open(store, read_only=True) as kr:
        rows = kr.store.connection.execute("SELECT name FROM personas").fetchall()
    names = [str(name) for (name,) in rows]
    assert names
    app = create_app(Settings(store, sections={"web": {"warm": False}}))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert login(client, f"reader-{lang}").status_code == 303
        html = client.get("/map").text
    start = html.index('name="persona"')
    choice = html[start : html.index("</select>", start)]
    for name in names:
        assert persona(name, lang) in choice, (lang, name)
        assert persona(name, lang) != name, f"no {lang} name for the persona {name!r}"
        assert f">{name} (" not in choice
    assert not english_words(page_text(choice), lang)
