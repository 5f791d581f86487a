"""The voice and expectations pages read what the server's routine stored: the first request
after a restart shows the figures at once, computes no analysis, and shows the same figures a
server without a routine computes for the page."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from servers import Server

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.voice.stored import update_voice
from klantreis.model import ensure_built
from klantreis.present.web import page_results
from klantreis.present.web.auth import create_user
from klantreis.present.web.board import Board, NotStored, results_fingerprint
from klantreis.privacy import erase_person
from klantreis.store import Store
from web.shop import login

pytestmark = pytest.mark.slow

PASSWORD = "stored-pages-2026"
PAGES = ("/voice", "/expectations")
LANGUAGES = ("en", "nl", "da")
ROUTINE = "[web]\nwarm = false\n[routine]\nretry = 1\nalerts = 0\nreview_requests = 0\n"
ONLY_DASHBOARD = (
    "[web]\nwarm = false\n[routine]\n"
    + "".join(
        f"{job} = 0\n"
        for job in ("model", "voice", "cases", "inbox", "value", "opportunities", "alerts")
    )
    + "review_requests = 0\ndashboard = 3600\n"
)
"""A routine that only serves the stored pages (its dashboard job finds them current)."""
NO_ROUTINE = "[web]\nwarm = false\n[routine]\nenabled = false\n"
REWRITTEN = "Rewritten after the routine stored the page"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("page-results") / "shop.duckdb"
    with klantreis.open(path) as kr:
        for batch in simulate(SimulatorConfig(persons=150, seed=11)).iter_batches(20_000):
            kr.store.append(batch)
        for lang in LANGUAGES:
            create_user(kr.store, f"reader-{lang}", PASSWORD, lang)
    return path


def _client(server: Server, lang: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=120)
    login(client, f"reader-{lang}", PASSWORD)  # type: ignore[arg-type]
    return client


def _main(html: str) -> str:
    """The page's content, without the line saying when the routine computed it."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r'<p class="muted small" id="page-age">.*?</p>', "", main, flags=re.S)


def _settled(client: httpx.Client, url: str, *markers: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while True:
        html = client.get(url).text
        if not any(f'id="{m}"' in html for m in ("page-progress", *markers)):
            return html
        assert time.monotonic() < deadline, f"{url} not settled after {timeout} s"
        time.sleep(0.3)


def test_pages_read_what_the_routine_stored(store: Path) -> None:
    # 1. A server whose routine stores the default pages.
    routine = Server(store, config=ROUTINE).start()
    try:
        shown = {}
        # the routine's first chain (model, voice, cases, ..., the pages): minutes on a loaded
        # two-core machine
        deadline = time.monotonic() + 900
        for lang in LANGUAGES:
            client = _client(routine, lang)
            for url in PAGES:
                # stored once `page-age` shows and nothing newer is waiting
                html = client.get(url).text
                while 'id="page-age"' not in html or 'id="page-stale"' in html:
                    assert time.monotonic() < deadline, f"{url} never stored"
                    time.sleep(0.5)
                    html = client.get(url).text
                shown[lang, url] = html
    finally:
        routine.stop()
    with Store(store, read_only=True) as opened:
        stored = {
            r[0] for r in opened.connection.execute("SELECT analysis FROM page_results").fetchall()
        }
    assert {"voice", "emotion_by_phase", "survey_scores"} <= stored
    assert {"expectations", "pain_points", "recovery"} <= stored
    quotes = re.findall(r'<p class="quote (?:negative|positive)">', shown["en", "/voice"])
    assert quotes, "the voice page shows no quotes"

    # 2. The same figures as a server without a routine computes for the page, in every
    # language (only the line saying when they were computed differs).
    computing = Server(store, config=NO_ROUTINE).start()
    try:
        for lang in LANGUAGES:
            client = _client(computing, lang)
            for url in PAGES:
                html = _settled(client, url)
                assert 'id="page-age"' not in html
                assert _main(html) == _main(shown[lang, url]), (lang, url)
    finally:
        computing.stop()

    # 3. What an analysis would find now differs from what was stored (the texts rewritten
    # under the same results fingerprint): a restarted server's first request shows the
    # stored figures at once, so it computed nothing.
    with Store(store) as opened:
        opened.connection.execute("UPDATE voice SET text = ?", [REWRITTEN])
    restarted = Server(store, config=ONLY_DASHBOARD).start()
    try:
        for lang in LANGUAGES:
            client = _client(restarted, lang)
            for url in PAGES:
                first = client.get(url).text
                assert 'id="page-progress"' not in first, (lang, url)
                assert 'id="page-age"' in first and 'id="page-stale"' not in first
                assert REWRITTEN not in first
                assert _main(first) == _main(shown[lang, url]), (lang, url)
    finally:
        restarted.stop()


def test_a_stored_result_is_stale_once_the_routine_stored_newer_results(tmp_path: Path) -> None:
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        for batch in simulate(SimulatorConfig(persons=40, seed=5)).iter_batches(20_000):
            kr.store.append(batch)
        ensure_built(kr)  # the routine's model and voice jobs, before its dashboard job
        update_voice(kr.store, kr.engine)
        writer = Board(kr.settings, kr.store, as_built=True, stored="write")
        computed = writer.run("emotion_by_phase")
        assert writer.written == 1 and computed.computed_at is None
        again = Board(kr.settings, kr.store, as_built=True, stored="write")
        assert again.run("emotion_by_phase").computed_at is not None  # current: read
        assert again.written == 0
        reader = Board(kr.settings, kr.store, as_built=True, stored="only")
        found = reader.run("emotion_by_phase")
        assert found.value == computed.value and not found.stale
        with pytest.raises(NotStored):
            reader.run("survey_scores", by="all")

        # the routine's results change (texts scored again): the stored one is stale, and
        # the routine's next run computes it again
        before = results_fingerprint(kr.store)
        kr.store.connection.execute(
            "DELETE FROM voice WHERE rowid IN (SELECT min(rowid) FROM voice)"
        )
        assert results_fingerprint(kr.store) != before
        assert (
            Board(kr.settings, kr.store, as_built=True, stored="only").run("emotion_by_phase").stale
        )
        fresh = Board(kr.settings, kr.store, as_built=True, stored="write")
        assert fresh.run("emotion_by_phase").computed_at is None and fresh.written == 1


def test_an_erasure_removes_the_stored_pages(tmp_path: Path) -> None:
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        for batch in simulate(SimulatorConfig(persons=40, seed=5)).iter_batches(20_000):
            kr.store.append(batch)
        Board(kr.settings, kr.store, as_built=True, stored="write").run("voice")
        person = kr.engine.scalar("SELECT person_id FROM persons LIMIT 1")
        assert page_results.read(kr.store, "voice", {}) is not None
        erase_person(kr.store, person)
        assert page_results.read(kr.store, "voice", {}) is None
