"""Collector throughput on loopback: durable events/s against a no-op on the same stack.

Starts one server process (uvicorn + the klantreis app + a temporary store) with three extra
benchmark-only routes: a no-op that reads the body and answers 200 (the baseline: HTTP, ASGI
and the app's middleware, no parsing, no validation, no commit), the collector's read,
authorise and validate steps without storing (so the gap to the collector is what durability
costs), and the same batch handler
mounted as a plain Starlette route (no FastAPI request handling), to choose the framework by
measurement. A separate load process posts batches of 100 events (unique messageIds) over
several keep-alive connections for a bounded time and records per-request latency.

    python benchmarks/collector.py                 # 10 s per target, 8 connections
    python benchmarks/collector.py --seconds 5 --connections 4
    python benchmarks/collector.py --workers 1,2 --rounds 3   # `klantreis serve --workers N`

Prints the machine, inputs, events/s, p50/p99 latency and the server's peak RSS per target,
and how many events each commit carried (group commit). Afterwards it checks that the store
holds exactly the acknowledged events.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson
from fastapi import Request, Response

TARGETS = {
    "no-op (baseline)": "/bench/noop",
    "validate, no store": "/bench/validate",
    "collector, FastAPI route": "/v1/batch",
    "collector, Starlette route": "/bench/starlette-batch",
}

STORING = ("collector, FastAPI route", "collector, Starlette route")


# -- the server process ----------------------------------------------------------------------
def serve(store: str, port: int) -> None:
    from starlette.routing import Route

    from klantreis.config import load_settings
    from klantreis.present.api.app import create_app
    from klantreis.present.api.routes.collector import collect_batch
    from klantreis.present.api.server import run

    settings = load_settings(store)
    app = create_app(settings)

    app.add_api_route("/bench/noop", noop, methods=["POST"], include_in_schema=False)
    app.add_api_route("/bench/validate", validate_only, methods=["POST"], include_in_schema=False)
    app.router.routes.insert(0, Route("/bench/starlette-batch", collect_batch, methods=["POST"]))
    # As `klantreis serve` runs it: with the guards against slow clients.
    run(app, settings, host="127.0.0.1", port=port, access_log=False, log_level="warning")


async def noop(request: Request) -> Response:
    """The baseline endpoint: read the body, answer like the collector, do nothing else."""
    await request.body()
    return Response(b'{"success":true}', media_type="application/json")


async def validate_only(request: Request) -> Response:
    """The collector without storing: read, authorise, validate; the gap to the collector is
    what durability (Arrow, staging commit, merge) costs."""
    from klantreis.present.api.routes.collector import validated_batch

    batch = await validated_batch(request)
    return Response(orjson.dumps({"success": True, "stored": len(batch.rows)}))


# -- the load process ------------------------------------------------------------------------
def batch_template(size: int) -> bytes:
    """A batch body with a placeholder the sender replaces to make every messageId unique."""
    messages = [
        {
            "type": "track",
            "event": "Product Viewed" if i % 3 else "Product Added",
            "userId": f"user-{i % 37}",
            "anonymousId": f"anon-{i % 41}",
            "messageId": f"@@RUN@@-{i}",
            "timestamp": "2026-11-20T10:00:00.000Z",
            "properties": {"product_id": f"p-{i}", "price": 19.95, "currency": "EUR"},
            "context": {
                "library": {"name": "analytics-python", "version": "2.4.0"},
                "ip": "203.0.113.7",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/150.0",
            },
        }
        for i in range(size)
    ]
    return orjson.dumps({"batch": messages})


def load(
    port: int, path: str, key: str, connections: int, seconds: float, size: int, out: mp.Queue
) -> None:
    template = batch_template(size)
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    stop_at = time.perf_counter() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    acked: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        codes: dict[int, int] = {}
        runs: list[str] = []
        while time.perf_counter() < stop_at:
            run = uuid.uuid4().hex
            body = template.replace(b"@@RUN@@", run.encode())
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            codes[response.status] = codes.get(response.status, 0) + 1
            if response.status == 200:
                runs.append(run)
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n
            acked.extend(runs)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((time.perf_counter() - started, latencies, statuses, acked))


# -- orchestration ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int, *, with_children: bool = True) -> float:
    """User + system CPU the server process and its child processes (the HTTP workers of
    `serve --workers N`) have used so far (all their threads)."""
    total = 0.0
    for process in [pid, *(children(pid) if with_children else [])]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def get_json(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    return json.loads(conn.getresponse().read())


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            get_json(port, "/v1/health")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def measure(port: int, pid: int, path: str, key: str, args: argparse.Namespace) -> dict:
    out: mp.Queue = mp.Queue()
    warm = mp.Process(target=load, args=(port, path, key, args.connections, 1.0, args.size, out))
    warm.start()
    warm_result = out.get()
    warm.join()
    proc = mp.Process(
        target=load, args=(port, path, key, args.connections, args.seconds, args.size, out)
    )
    cpu_before = cpu_seconds(pid)
    own_before = cpu_seconds(pid, with_children=False)
    proc.start()
    elapsed, latencies, statuses, acked = out.get()
    proc.join()
    cpu = cpu_seconds(pid) - cpu_before
    own = cpu_seconds(pid, with_children=False) - own_before
    latencies.sort()
    return {
        "events_per_s": len(acked) * args.size / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "requests": len(latencies),
        "cpu_us_per_event": cpu / max(len(acked) * args.size, 1) * 1e6,
        "main_cpu_us_per_event": own / max(len(acked) * args.size, 1) * 1e6,
        "statuses": statuses,
        "acked_runs": acked + warm_result[3],
    }


def merge_lag(port: int, timeout: float = 30.0) -> float:
    """Seconds from now until every committed event is merged into `events` (queryable)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        health = get_json(port, "/v1/health")
        if health["events_merged"] + health["repeats_dropped"] >= health["events_committed"]:
            break
        time.sleep(0.01)
    return time.perf_counter() - started


def parse_cost(size: int) -> str:
    body = batch_template(size)
    n = 2000
    timings = {}
    for name, loads in (("orjson", orjson.loads), ("json", json.loads)):
        started = time.perf_counter()
        for _ in range(n):
            loads(body)
        timings[name] = (time.perf_counter() - started) / n * 1e6
    return ", ".join(f"{name} {us:.0f} µs" for name, us in timings.items())


def stage_costs(size: int, rounds: int = 25, per_commit: int = 4) -> str:
    """CPU per event of each step of the durable path, in this process, one step at a time."""
    from klantreis.collect.events import canonical_event, now_utc
    from klantreis.collect.ingest import event_table
    from klantreis.store import Store

    bodies = [batch_template(size).replace(b"@@RUN@@", f"s{i}".encode()) for i in range(rounds)]
    received = now_utc()
    events = rounds * size
    costs: dict[str, float] = {}

    started = time.process_time()
    parsed = [orjson.loads(body)["batch"] for body in bodies]
    costs["parse (orjson)"] = time.process_time() - started
    started = time.process_time()
    rows = [canonical_event(m, received_at=received, source="http") for b in parsed for m in b]
    costs["validate (canonical_event)"] = time.process_time() - started
    chunk = size * per_commit
    event_table(rows[:10])  # first use of Arrow's timestamp conversion is a one-off cost
    started = time.process_time()
    tables = [event_table(rows[i : i + chunk]) for i in range(0, len(rows), chunk)]
    costs["Arrow table"] = time.process_time() - started
    with Store(Path(tempfile.mkdtemp(prefix="klantreis-stage-")) / "s.duckdb") as store:
        started = time.process_time()
        wall = time.perf_counter()
        for table in tables:
            store.connection.begin()
            store.stage(table)
            store.connection.commit()
        costs[f"stage + commit ({chunk} per commit)"] = time.process_time() - started
        wall = time.perf_counter() - wall
        started = time.process_time()
        store.merge_staged()
        costs["merge into events (all at once)"] = time.process_time() - started
    parts = [f"{name} {cpu / events * 1e6:.1f}" for name, cpu in costs.items()]
    return (
        "CPU µs per event by step: "
        + ", ".join(parts)
        + f" (commit wall time {wall / len(tables) * 1000:.1f} ms)"
    )


def compare_workers(args: argparse.Namespace) -> None:
    """`klantreis serve --workers N` for each N in `args.workers`, in alternating order over
    `args.rounds` rounds (a fresh store and server each time): durable events/s on
    /v1/batch, medians and the ratio to the first N, measured in the same run."""
    counts = [int(n) for n in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="klantreis-bench-"))
    config = tmp / "klantreis.toml"
    config.write_text("[web]\nwarm = false\n[routine]\nenabled = false\n")
    cli = [sys.executable, "-m", "klantreis.present.cli.app"]
    runs: dict[int, list[dict]] = {n: [] for n in counts}
    for round_ in range(args.rounds):
        order = counts if round_ % 2 == 0 else counts[::-1]
        for n in order:
            store = str(tmp / f"workers{n}-round{round_}.duckdb")
            env = {**os.environ, "KLANTREIS_STORE": store, "KLANTREIS_CONFIG": str(config)}
            key = subprocess.run(
                [*cli, "keys", "create", "--name", "bench"], env=env, capture_output=True,
                text=True, check=True,
            ).stdout.strip()  # fmt: skip
            port = free_port()
            server = subprocess.Popen(
                [*cli, "serve", "--port", str(port), "--workers", str(n)],
                env=env,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_ready(port, server)
                result = measure(port, server.pid, "/v1/batch", key, args)
            finally:
                server.terminate()
                server.wait(60)
            import duckdb

            con = duckdb.connect(store, read_only=True)
            result["stored"] = con.execute("SELECT count(*) FROM events").fetchone()[0]
            con.close()
            result["acknowledged"] = len(result["acked_runs"]) * args.size
            runs[n].append(result)
            print(
                f"round {round_ + 1}, --workers {n}: {result['events_per_s']:,.0f} events/s, "
                f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                f"{result['cpu_us_per_event']:.1f} µs CPU/event, {result['statuses']}, "
                f"stored {result['stored']:,} of {result['acknowledged']:,} acknowledged",
                flush=True,
            )
    print()
    print(
        f"{'serve':<14} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU µs/event':>13} "
        f"{'of it writer':>13}  ratio"
    )
    base = statistics.median(r["events_per_s"] for r in runs[counts[0]])
    for n in counts:
        eps = statistics.median(r["events_per_s"] for r in runs[n])
        print(
            f"--workers {n:<4} {eps:>10,.0f} "
            f"{statistics.median(r['p50_ms'] for r in runs[n]):>8.1f} "
            f"{statistics.median(r['p99_ms'] for r in runs[n]):>8.1f} "
            f"{statistics.median(r['cpu_us_per_event'] for r in runs[n]):>13.1f} "
            f"{statistics.median(r['main_cpu_us_per_event'] for r in runs[n]):>13.1f}  "
            f"{eps / base:.2f}x"
        )
    lost = sum(r["stored"] != r["acknowledged"] for rs in runs.values() for r in rs)
    print(f"durability check: stored == acknowledged in {args.rounds * len(counts) - lost} of "
          f"{args.rounds * len(counts)} runs")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per target")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--size", type=int, default=100, help="events per batch")
    parser.add_argument(
        "--workers", help="compare `klantreis serve --workers N` for these N (e.g. 1,2)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the --workers runs")
    args = parser.parse_args()

    print(
        f"machine: {platform.platform()} | Python {sys.version.split()[0]} | "
        f"{os.cpu_count()} CPUs | load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"inputs: batches of {args.size} events (~{len(batch_template(args.size)) // 1024} KB),"
        f" {args.connections} connections, {args.seconds:g} s per target after 1 s warm-up"
    )
    if args.workers:
        compare_workers(args)
        return
    print(f"parsing one batch body: {parse_cost(args.size)}")
    print(stage_costs(args.size))

    tmp = Path(tempfile.mkdtemp(prefix="klantreis-bench-"))
    store = str(tmp / "bench.duckdb")
    # The dashboard warms its pages in the background at start-up; that is not the collector's
    # work, so the benchmark turns it off (`[web] warm = false`).
    config = tmp / "klantreis.toml"
    config.write_text("[web]\nwarm = false\n")
    env = {**os.environ, "KLANTREIS_STORE": store, "KLANTREIS_CONFIG": str(config)}
    cli = [sys.executable, "-m", "klantreis.present.cli.app"]
    key = subprocess.run(
        [*cli, "keys", "create", "--name", "bench"], env=env, capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", store, str(port)], env=env)
    results: dict[str, dict] = {}
    try:
        wait_ready(port, server)
        for name, path in TARGETS.items():
            results[name] = measure(port, server.pid, path, key, args)
        lag = merge_lag(port)
        health = get_json(port, "/v1/health")
        rss = peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(60)

    print()
    print(
        f"{'target':<28} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} "
        f"{'server CPU µs/event':>20}  statuses"
    )
    for name, r in results.items():
        print(
            f"{name:<28} {r['events_per_s']:>10,.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['requests']:>9} {r['cpu_us_per_event']:>20.1f}  {r['statuses']}"
        )
    base = results["no-op (baseline)"]["events_per_s"]
    validate = results["validate, no store"]["events_per_s"]
    for name in STORING:
        print(
            f"{name}: {results[name]['events_per_s'] / base:.0%} of the no-op baseline, "
            f"{results[name]['events_per_s'] / validate:.0%} of validating without storing"
        )
    per_commit = health["events_committed"] / max(health["commits"], 1)
    print(f"group commit: {health['commits']:,} commits, {per_commit:,.0f} events per commit")
    print(
        f"merge into events: {health['merges']:,} merges, {health['events_merged']:,} events; "
        f"the last acknowledged event was queryable {lag:.2f} s after the load stopped"
    )
    print(f"server peak RSS: {rss:,.0f} MiB")

    import duckdb

    acked = {run for name in STORING for run in results[name]["acked_runs"]}
    con = duckdb.connect(store, read_only=True)
    stored = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    expected = len(acked) * args.size
    print(
        f"durability check: {stored:,} stored, {expected:,} acknowledged "
        f"{'(equal)' if stored == expected else '(MISMATCH)'}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
