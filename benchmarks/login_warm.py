"""A sign-in right after a server's restart, with the server's routine running: how long the
login takes, the server's CPU in the seconds after it (what the sign-in started beside the
first pages) and the first map after it, for this checkout against another one's code on
copies of one store, taking turns, a fresh server each round.

The store is a DuckDB shop with its model, judged cases, customer values and stored map (as
`benchmarks/lake_pages.py` leaves its `shop.duckdb`), whose routine has not stored the pages'
views yet (a first start, or the routine's first run after a restart): the routine runs with
one job (the customer values, current), so its pages read what it stores and nothing else
runs beside the sign-in. Give it a copy: the servers write users and sessions into it.

    python benchmarks/login_warm.py --store COPY.duckdb --compare-src BEFORE/src --rounds 3
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from lake_pages import PROGRESS, cpu_seconds, machine
from servers import Server, cli

JOBS_OFF = ("model", "voice", "cases", "inbox", "opportunities", "alerts", "review_requests")
PASSWORD = "benchmark-pw"


def config(memory_limit: str) -> str:
    jobs = "".join(f"{job} = 0\n" for job in (*JOBS_OFF, "dashboard"))
    return (
        f'[engine]\nmemory_limit = "{memory_limit}"\n[web]\nwarm = false\n'
        f"[routine]\n{jobs}value = 86400\n"
    )


def signed_in(server: Server, after: float) -> tuple[float, float, float, float]:
    """(login seconds, the server's CPU seconds in `after` seconds from the login's start,
    seconds until the first /map shows its map, the server's CPU seconds for that /map)."""
    assert server.proc is not None
    client = httpx.Client(base_url=server.url, timeout=3600)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    cpu = cpu_seconds(server.proc.pid)
    started = time.perf_counter()
    answer = client.post(
        "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    login = time.perf_counter() - started
    assert answer.status_code in (200, 303), answer.text[:300]
    time.sleep(max(0.0, after - login))
    beside = cpu_seconds(server.proc.pid) - cpu
    cpu = cpu_seconds(server.proc.pid)
    started = time.perf_counter()
    while True:
        page = client.get("/map")
        assert page.status_code == 200, page.text[:300]
        if not PROGRESS.search(page.text):
            break
        time.sleep(0.1)
    first_map = time.perf_counter() - started
    return login, beside, first_map, cpu_seconds(server.proc.pid) - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True, help="a copy of a prepared store")
    parser.add_argument("--compare-src", type=Path, required=True, help="the other code's src")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--after", type=float, default=10.0, help="seconds of CPU after login")
    parser.add_argument("--memory-limit", default="2GB")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1] / "src"
    sides = {"before": args.compare_src.resolve(), "now": here}
    stores = {}
    for side in sides:  # each side its own copy: neither sees what the other stored
        stores[side] = args.store.with_name(f"{args.store.stem}-{side}.duckdb")
        shutil.copy(args.store, stores[side])
        cli("users", "delete", "bench", store=stores[side])
        cli("users", "create", "bench", "--password", PASSWORD, store=stores[side], check=True)
    results: dict[str, list[tuple[float, float, float, float]]] = {s: [] for s in sides}
    print(machine())
    for round_ in range(args.rounds):
        for side in list(sides) if round_ % 2 == 0 else list(reversed(sides)):
            # the store as it was before this round's start: no page stored by a run before
            fresh = stores[side].with_name(f"{stores[side].stem}-run.duckdb")
            shutil.copy(stores[side], fresh)
            env = {"PYTHONPATH": str(sides[side]), "KLANTREIS_STORE": str(fresh)}
            server = Server(fresh, config=config(args.memory_limit), env=env).start()
            try:
                results[side].append(signed_in(server, args.after))
            finally:
                server.stop()
                for leftover in fresh.parent.glob(f"{fresh.stem}*"):
                    if leftover.is_file():
                        os.remove(leftover)
            print(f"round {round_ + 1} {side}: {results[side][-1]}; {machine()}", flush=True)
    print(f"store: {args.store}; rounds: {args.rounds}; medians over rounds")
    print(f"{'side':7} {'login s':>8} {'CPU s next':>11} {'first /map s':>13} {'its CPU s':>10}")
    for side, found in results.items():
        medians = [statistics.median(r[i] for r in found) for i in range(4)]
        print(
            f"{side:7} {medians[0]:8.3f} {medians[1]:11.2f} {medians[2]:13.2f} {medians[3]:10.2f}"
        )
    for path in stores.values():
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
