"""The hosted survey page end to end: a real `klantreis serve`, a signed link, a form post."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from servers import Server, cli

from klantreis.store import Store

HOSTILE = "<script>alert('x')</script>"


@pytest.mark.slow
def test_survey_link_page_answer_and_scores(tmp_path) -> None:
    server = Server(tmp_path / "store.duckdb")
    read_key = server.create_key("analyst", read=True)
    made = cli(
        "surveys",
        "link",
        "--base-url",
        "http://127.0.0.1",
        "--kind",
        "nps",
        "--user",
        "anna",
        "--order",
        "o1",
        "--language",
        "nl",
        env=server.env,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().rsplit("/s/", 1)[1]
    server.start()
    try:
        page = httpx.get(f"{server.url}/s/{token}", timeout=30)
        assert page.status_code == 200
        assert "aanbeveelt aan een vriend" in page.text and 'value="10"' in page.text

        forged = httpx.get(f"{server.url}/s/{token[:-3]}abc", timeout=30)
        assert forged.status_code == 400 and forged.json()["field"] == "token"

        bad = httpx.post(
            f"{server.url}/s/{token}", data={"score": "11", "comment": HOSTILE}, timeout=30
        )
        assert bad.status_code == 400
        assert "score: must be between 0 and 10" in bad.text
        assert HOSTILE not in bad.text and "&lt;script&gt;" in bad.text

        done = httpx.post(
            f"{server.url}/s/{token}", data={"score": "9", "comment": HOSTILE}, timeout=30
        )
        assert done.status_code == 200 and "Bedankt" in done.text
        again = httpx.post(f"{server.url}/s/{token}", data={"score": "1"}, timeout=30)
        assert again.status_code == 200  # the same link answers once; the repeat is ignored

        auth = {"Authorization": f"Bearer {read_key}"}
        scores = httpx.get(
            f"{server.url}/api/surveys/scores", params={"by": "all"}, headers=auth, timeout=60
        ).json()
        assert scores == [{"kind": "nps", "group": "all", "answers": 1, "value": 100.0}]
        wrong = httpx.get(
            f"{server.url}/api/surveys/scores", params={"by": "week"}, headers=auth, timeout=30
        )
        assert wrong.status_code == 422 and wrong.json()["field"] == "by"
    finally:
        server.stop()
    with Store(server.store, read_only=True) as store:
        rows = store.connection.execute(
            "SELECT user_id, properties->>'$.comment', properties->>'$.score' FROM events "
            "WHERE event = 'Survey Answered'"
        ).fetchall()
    assert rows == [("anna", HOSTILE, "9")]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_bodies_are_capped_and_no_error_repeats_the_input(tmp_path) -> None:
    """A probe's 300 MB survey answer raised the server's memory by 1.2 GB and the 400 page
    sent all 300 MB back. Every body is capped now (the public form at 64 KiB, other routes
    but the collector's at 1 MiB), read no further than the cap, and never echoed."""
    from klantreis.collect.surveys import SurveyLink, make_token

    server = Server(tmp_path / "store.duckdb")
    with Store(server.store) as store:
        token = make_token(store, SurveyLink("nps", "anna", None, "o1", "en"))
    server.start()
    url = f"{server.url}/s/{token}"
    try:
        marker = "SECRET-INPUT-"
        too_long = marker + "x" * 6000  # over the 5000-character comment, under the body cap
        bad = httpx.post(url, data={"score": "7", "comment": too_long}, timeout=30)
        assert bad.status_code == 400 and "comment: longer than 5000" in bad.text
        assert marker not in bad.text

        before = _rss_mb(server.proc.pid)

        def chunks():  # 100 MB without a Content-Length, as a streaming client sends it
            yield b"score=7&comment=" + marker.encode()
            for _ in range(100):
                yield b"y" * 1_000_000

        huge = httpx.post(url, content=chunks(), timeout=60)
        assert huge.status_code == 413 and "too long" in huge.text
        assert marker not in huge.text and len(huge.content) < 10_000
        declared = httpx.post(url, content=b"score=7&comment=" + b"z" * 200_000, timeout=30)
        assert declared.status_code == 413 and len(declared.content) < 10_000
        assert _rss_mb(server.proc.pid) - before < 50

        # The same cap, at 1 MiB, for the dashboard and the read API; not for the collector.
        login = httpx.post(f"{server.url}/login", content=b"a" * 2_000_000, timeout=30)
        assert login.status_code == 413 and "larger than 1024 KiB" in login.json()["error"]
        links = httpx.post(
            f"{server.url}/api/surveys/links", content=b"{" + b" " * 2_000_000, timeout=30
        )
        assert links.status_code == 413

        fine = httpx.post(url, data={"score": "7", "comment": "prima"}, timeout=30)
        assert fine.status_code == 200
    finally:
        server.stop()
