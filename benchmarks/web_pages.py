"""Dashboard pages on the demo shop: time to a rendered page, warm, and the cold baseline.

Starts the real `klantreis serve` over a demo store (made here with `klantreis demo` unless
`--store` names one), logs in through the form, and times every page over HTTP: the median of
`--runs` requests once the background cache holds the result (what a user waits for), and, as
the baseline measured in the same run, how long the same analyses take cold (from the first
request until the page stops showing progress).

    python benchmarks/web_pages.py                  # demo with 2,000 persons
    python benchmarks/web_pages.py --persons 600 --runs 3
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from web.server import Server, cli

PAGES = [
    "/map",
    "/map?period=90d",
    "/map?definition=aida",
    "/expectations",
    "/funnels",
    "/voice",
    "/timeline",
    "/settings",
    "/map.svg",
]
PROGRESS = re.compile(r'id="(map-progress|page-progress|map-stale)"')


def machine() -> str:
    return (
        f"{platform.platform()} | Python {sys.version.split()[0]} | "
        f"{os.cpu_count()} CPUs | {platform.processor() or platform.machine()}"
    )


def settle(client: httpx.Client, url: str) -> float:
    """Seconds from the first request until the page shows its result (the cold baseline)."""
    started = time.perf_counter()
    while PROGRESS.search(client.get(url).text):
        time.sleep(0.1)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="klantreis-web-bench-"))
    store = args.store or folder / "demo.duckdb"
    if args.store is None:
        cli(
            "demo",
            "--no-browser",
            "--out",
            str(folder),
            "--store",
            str(store),
            "--persons",
            str(args.persons),
            store=store,
        )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "klantreis.present.cli.app",
            "users",
            "delete",
            "bench",
            "--store",
            str(store),
        ],
        capture_output=True,
        check=False,
    )
    cli("users", "create", "bench", "--password", "benchmark-pw", store=store)
    server = Server(store).start()
    try:
        client = httpx.Client(base_url=server.url, timeout=600)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        client.post(
            "/login",
            data={
                "username": "bench",
                "password": "benchmark-pw",
                "csrf_token": token.group(1) if token else "",
            },
        )
        print(machine())
        print(f"store: {store} ({store.stat().st_size / 1e6:.0f} MB); runs per page: {args.runs}")
        print(f"{'page':28} {'cold (s)':>9} {'warm median (s)':>16} {'max (s)':>8}")
        for url in PAGES:
            cold = settle(client, url) if not url.endswith(".svg") else float("nan")
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, (url, response.status_code)
            print(f"{url:28} {cold:9.2f} {statistics.median(times):16.3f} {max(times):8.3f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
