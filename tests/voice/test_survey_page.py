"""The hosted survey page end to end: a real `klantreis serve`, a signed link, a form post."""

from __future__ import annotations

import httpx
import pytest
from servers import Server, cli

from klantreis.store import Store

HOSTILE = "<script>alert('x')</script>"


@pytest.mark.slow
def test_survey_link_page_answer_and_scores(tmp_path) -> None:
    server = Server(tmp_path / "store.duckdb")
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
    read_key = server.create_key("analyst", read=True)
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
        assert wrong.status_code == 400 and wrong.json()["field"] == "by"
    finally:
        server.stop()
    with Store(server.store, read_only=True) as store:
        rows = store.connection.execute(
            "SELECT user_id, properties->>'$.comment', properties->>'$.score' FROM events "
            "WHERE event = 'Survey Answered'"
        ).fetchall()
    assert rows == [("anna", HOSTILE, "9")]
