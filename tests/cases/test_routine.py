"""The server's routine opens cases by itself, after the expectations, and only once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from case_story import SHOP
from servers import Server, cli, forwarded
from stories import story

import klantreis

ROUTINE = (
    "[web]\nwarm = false\n[routine]\nretry = 1\nmodel = 1\nvoice = 1\ncases = 1\ninbox = 1\n"
    "opportunities = 0\nalerts = 0\nreview_requests = 0\ndashboard = 0\n"
)


def test_the_routine_opens_cases_once(tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    with klantreis.open(path) as kr:
        kr.store.append(story(SHOP))
    server = Server(path, config=ROUTINE).start()
    try:
        deadline = time.monotonic() + 240
        jobs: dict[str, dict] = {}
        while time.monotonic() < deadline:
            status = forwarded("status", "--json", server=server)
            jobs = {row["name"]: row for row in json.loads(status.stdout or "[]")}
            if jobs.get("inbox", {}).get("runs", 0) >= 3 and jobs["voice"]["runs"] >= 2:
                break
            time.sleep(1)
        assert jobs["inbox"]["failures"] == 0, jobs["inbox"]
        listed = cli("cases", "list", "--json", store=path, env=server.env, check=True)
        cases = json.loads(listed.stdout)
    finally:
        server.stop()
    assert {c["rule_id"] for c in cases} >= {"delivery_breach", "order_at_risk", "nps_detractor"}
    assert len({c["case_id"] for c in cases}) == len(cases)
    with klantreis.open(path) as kr:
        assert kr.sql("SELECT count(*) AS n FROM cases").to_pylist()[0]["n"] == len(cases)
