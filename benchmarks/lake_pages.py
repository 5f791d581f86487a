"""Dashboard pages of a lake shop (`klantreis serve --dashboard`) against the same shop's
DuckDB store (`klantreis serve`), taking turns in one run.

The lake is made from a DuckDB store with its model built: the scheduled jobs after the build
(`JOBS`) run on a copy of it, `klantreis lake load` writes its events into the lake, and its
derived tables are written as the scheduled jobs leave them
under `[engine] tables_path` (`<table>/v-<id>/` Parquet, `_current`, the fingerprints in
`_model.json`). Spark is not run here: its output is the same tables (tests/parity, tests/web/
test_lake_dashboard.py), and a Spark build at 1M events does not fit this shared machine. Both
servers run without the routine and without warm-up, so each page computes what is not stored
(on the lake: over the Parquet, in the dashboard's DuckDB) when first asked.

Per page and side: the seconds from the first request until the page shows its result (cold),
the median of `--runs` requests after it (warm), and the server process's CPU seconds over the
page's cold and warm requests (`/proc/<pid>/stat`). Rounds alternate the sides, each with a
fresh server.

    python benchmarks/lake_pages.py --store /work/stores/bench/main_job/store_1000000/shop.duckdb \
        --work /tmp/lake-pages --rounds 3 --memory-limit 2GB

`--compare-src OTHER/src` adds a third side, the lake served by the klantreis of another
checkout (its `src` first on `PYTHONPATH`), taking turns with the two others: a change to the
lake's dashboard against the code before it, in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

import duckdb
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servers import Server, cli

PAGES = ["/map", "/map?definition=aida", "/map?period=90d", "/expectations", "/voice", "/funnels"]
PROGRESS = re.compile(r'id="(map-progress|page-progress|map-stale)"')
JOBS = (
    ("expectations", "--json"),
    ("opportunities", "--json"),
    ("map", "--json"),
    ("map", "--definition", "aida", "--json"),
)
"""The scheduled jobs of docs/scale-out.md after the model build (the store has the model,
voice and personas)."""
STATE_TABLES = {
    "cases",
    "jobs",
    "journey_map_lanes",
    "events",
    "events_staged",
    "quarantine",
    "meta",
    "api_keys",
    "web_users",
    "web_sessions",
    "page_results",
    "persona_models",
    "voice_models",
}
"""Tables of the state file, not derived from events (left out of `tables_path`)."""


KEPT_META = ("expectations_judged", "customer_values_fit")
"""What the cases were judged on and how the customer values were fitted, which Spark keeps
in `_model.json` too."""


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.platform()} | Python {sys.version.split()[0]} | {os.cpu_count()} CPUs | "
        f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare(store: Path, work: Path, memory_limit: str) -> tuple[Path, Path, dict[str, str]]:
    """(the DuckDB copy, the lake's state, the lake's environment), made once in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    duck, state, lake = work / "shop.duckdb", work / "state.duckdb", work / "lake"
    cap = f'memory_limit = "{memory_limit}"\n'
    (work / "duck.toml").write_text(
        f'[store]\npath = "{duck}"\n[engine]\n{cap}[web]\nwarm = false\n'
        "[routine]\nenabled = false\n"
    )
    (work / "lake.toml").write_text(
        f'[store]\nkind = "lake"\npath = "{lake}"\nstate = "{state}"\n'
        f'[engine]\nname = "spark"\nevents_path = "{lake}"\ntables_path = "{lake / "tables"}"\n'
        f"[web]\nwarm = false\nlake_{cap}[routine]\nenabled = false\n"
    )
    env = {"KLANTREIS_CONFIG": str(work / "lake.toml")}
    duck_env = {"KLANTREIS_CONFIG": str(work / "duck.toml")}
    if not duck.exists():
        shutil.copy(store, duck)
        # the scheduled jobs, here on DuckDB: the tables they store are those Spark stores
        for job in JOBS:
            cli(*job, env=duck_env, check=True, timeout=3600)
    if not (lake / "events").exists():
        shutil.copy(duck, state)
        cli("lake", "load", "--drop", env=env, check=True, timeout=3600)
    if not (lake / "tables" / "_model.json").exists():
        _write_tables(duck, lake / "tables")
    for toml, path in ((work / "duck.toml", duck), (work / "lake.toml", state)):
        cli("users", "delete", "bench", env={"KLANTREIS_CONFIG": str(toml)})
        cli(
            "users", "create", "bench", "--password", "benchmark-pw",
            env={"KLANTREIS_CONFIG": str(toml)}, check=True,
        )  # fmt: skip
        assert path.exists()
    return duck, state, env


def _write_tables(store: Path, tables: Path) -> None:
    """The store's derived tables as the scheduled jobs leave them under `tables_path`."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        names = [r[0] for r in con.sql("SHOW TABLES").fetchall() if r[0] not in STATE_TABLES]
        for name in names:
            version = tables / name / f"v-{uuid.uuid4().hex}"
            version.mkdir(parents=True)
            target = str(version / "part-00000.parquet").replace("'", "''")
            con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{target}' (FORMAT parquet)")
            (tables / name / "_current").write_text(version.name)
        meta = dict(con.sql("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()
    state = {k: v for k, v in meta.items() if k.endswith("fingerprint") or k in KEPT_META}
    (tables / "_model.json").write_bytes(orjson.dumps(state))


def pages(server: Server, runs: int) -> dict[str, tuple[float, float, float]]:
    """Per page: (cold seconds, warm median seconds, server CPU seconds)."""
    assert server.proc is not None
    client = httpx.Client(base_url=server.url, timeout=3600)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    client.post(
        "/login",
        data={"username": "bench", "password": "benchmark-pw", "csrf_token": token.group(1)},  # type: ignore[union-attr]
    )
    found = {}
    for url in PAGES:
        cpu = cpu_seconds(server.proc.pid)
        started = time.perf_counter()
        while True:
            page = client.get(url)
            assert page.status_code == 200, (url, page.status_code, page.text[:300])
            if not PROGRESS.search(page.text):
                break
            time.sleep(0.1)
        cold = time.perf_counter() - started
        assert "The analysis failed" not in page.text, (url, page.text[-2000:])
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - started)
        found[url] = (cold, statistics.median(times), cpu_seconds(server.proc.pid) - cpu)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True, help="a DuckDB store, model built")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument(
        "--compare-src", type=Path, help="another checkout's src: its lake side as `lake-cmp`"
    )
    args = parser.parse_args()
    duck, state, env = prepare(args.store, args.work, args.memory_limit)
    duck_env = {"KLANTREIS_CONFIG": str(args.work / "duck.toml")}
    sides = {
        "duckdb": lambda: Server(duck, config=None, env=duck_env),
        "lake": lambda: Server(state, config=None, env=env, args=["--dashboard"]),
    }
    if args.compare_src is not None:
        other = {**env, "PYTHONPATH": str(args.compare_src.resolve())}
        sides["lake-cmp"] = lambda: Server(state, config=None, env=other, args=["--dashboard"])
    results: dict[str, list[dict[str, tuple[float, float, float]]]] = {s: [] for s in sides}
    print(machine())
    for round_ in range(args.rounds):
        order = list(sides)
        for side in order[round_ % len(order) :] + order[: round_ % len(order)]:
            server = sides[side]().start()
            try:
                results[side].append(pages(server, args.runs))
            finally:
                server.stop()
            print(f"round {round_ + 1} {side} done; {machine()}", flush=True)
    print(f"store: {args.store}; rounds: {args.rounds}; medians over rounds")
    print(f"{'page':26} {'side':8} {'cold s':>8} {'warm s':>8} {'CPU s':>7} {'CPU vs duckdb':>14}")
    for url in PAGES:
        base = statistics.median(r[url][2] for r in results["duckdb"])
        for side in sides:
            cold, warm, cpu = (
                statistics.median(r[url][i] for r in results[side]) for i in range(3)
            )
            ratio = cpu / base if base else float("nan")
            print(f"{url:26} {side:8} {cold:8.2f} {warm:8.3f} {cpu:7.2f} {ratio:13.2f}x")


if __name__ == "__main__":
    main()
