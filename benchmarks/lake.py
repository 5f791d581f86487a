"""The lake: collector ingest with 1 and 2 processes, and the model build on Spark vs DuckDB.

    python benchmarks/lake.py ingest --seconds 10 --connections 4
    python benchmarks/lake.py model --persons 5400 --rounds 1     # about 1M events

ingest: `klantreis serve` processes with `[store] kind = "lake"` on one lake, loaded over
loopback by client processes posting batches of 100 events (unique message ids) round-robin
to them; the baseline is one collector on a DuckDB store, measured in the same run. Prints
acknowledged events/s (median of the rounds) and checks the lake holds every acknowledged event.

model: a simulated shop; the model built by DuckDB (in memory) and by Spark local[2] over the
same events written into a lake (with `tables_path`, so Spark also writes the model back as
Parquet). Prints the medians and the ratio to DuckDB.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


# -- ingest ----------------------------------------------------------------------------------
def _load(ports: list[int], key: str, seconds: float, out: mp.Queue) -> None:
    import base64

    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=30) for p in ports]
    sent = 0
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        batch = [
            {
                "type": "track",
                "userId": f"u{i}",
                "event": "Product Viewed",
                "messageId": uuid.uuid4().hex,
                "properties": {"sku": f"S{i}"},
            }
            for i in range(100)
        ]
        conn = conns[n % len(conns)]
        n += 1
        conn.request(
            "POST",
            "/v1/batch",
            orjson.dumps({"batch": batch}),
            {"Authorization": auth, "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            sent += len(batch)
    out.put(sent)


def _ingest_round(config: str, processes: int, args: argparse.Namespace) -> tuple[float, int]:
    from servers import Server

    with tempfile.TemporaryDirectory() as work:
        state = Path(work) / "state.duckdb"
        text = config.format(lake=Path(work) / "lake", state=state)
        servers = [Server(state, config=text) for _ in range(processes)]
        servers[0].create_keys()
        for server in servers:
            server.start()
        try:
            out: mp.Queue = mp.Queue()
            loaders = [
                mp.Process(
                    target=_load,
                    args=([s.port for s in servers], servers[0].write_key, args.seconds, out),
                )
                for _ in range(args.connections)
            ]
            started = time.perf_counter()
            for loader in loaders:
                loader.start()
            acknowledged = sum(out.get() for _ in loaders)
            for loader in loaders:
                loader.join()
            elapsed = time.perf_counter() - started
        finally:
            for server in servers:
                server.stop()
        lake = Path(work) / "lake"
        if lake.exists():
            import duckdb

            stored = (
                duckdb.connect()
                .execute(
                    "SELECT count(*) FROM read_parquet($f)",
                    {"f": [str(f) for f in lake.glob("events/date=*/part-*.parquet")]},
                )
                .fetchall()[0][0]
            )
            assert stored == acknowledged, (stored, acknowledged)
        return acknowledged / elapsed, acknowledged


def ingest(args: argparse.Namespace) -> None:
    from servers import NO_WARM_UP

    lake = '[store]\nkind = "lake"\npath = "{lake}"\nstate = "{state}"\n' + NO_WARM_UP
    duck = NO_WARM_UP
    print(f"machine: {machine()}")
    print(
        f"inputs: batches of 100 events, {args.connections} client processes, "
        f"{args.seconds:.0f} s per round, {args.rounds} rounds"
    )
    results: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for label, config, processes in (
            ("DuckDB store, 1 collector (baseline)", duck, 1),
            ("lake, 1 collector", lake, 1),
            ("lake, 2 collectors", lake, 2),
        ):
            rate, _ = _ingest_round(config, processes, args)
            results.setdefault(label, []).append(rate)
    base = statistics.median(results["DuckDB store, 1 collector (baseline)"])
    for label, rates in results.items():
        median = statistics.median(rates)
        print(f"{label:40s} {median:10,.0f} events/s  ({median / base:.2f}x baseline)")


# -- model -----------------------------------------------------------------------------------
def model(args: argparse.Namespace) -> None:
    import duckdb

    from klantreis.collect.simulator import SimulatorConfig, simulate
    from klantreis.model import build, load_definition
    from klantreis.store.engines.duckdb import DuckDBEngine
    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import spark_session
    from klantreis.store.lake import Lake

    events = simulate(SimulatorConfig(persons=args.persons)).events
    definition = load_definition("six-phase")
    print(f"machine: {machine()}")
    print(f"inputs: {events.num_rows:,} simulated events ({args.persons:,} persons)")
    with tempfile.TemporaryDirectory() as work:
        lake = Lake(Path(work) / "lake")
        lake.append(events)
        duck_times, spark_times = [], []
        for _ in range(args.rounds):
            con = duckdb.connect(config={"memory_limit": "6GB", "threads": 2})
            con.register("_incoming", events)
            con.execute("CREATE TABLE events AS SELECT * FROM _incoming")
            started = time.perf_counter()
            build(DuckDBEngine(con), definition)
            duck_times.append(time.perf_counter() - started)
            con.close()
        config = SparkConfiguration(
            events_path=lake.path,
            tables_path=lake.path / "tables",
            master="local[2]",
            driver_memory=args.driver_memory,
            shuffle_partitions=args.shuffle_partitions,
        )
        session = spark_session(config)
        for _ in range(args.rounds):
            started = time.perf_counter()
            engine = SparkEngine(session, config)  # reads and de-duplicates the lake's events
            summary = build(engine, definition)
            spark_times.append(time.perf_counter() - started)
            engine.close()
        print(f"persons {summary.persons:,}, journeys {summary.journeys:,}")
    duck, spark = statistics.median(duck_times), statistics.median(spark_times)
    print(f"DuckDB build (baseline)          {duck:8.1f} s")
    print(f"Spark local[2] build over lake   {spark:8.1f} s  ({spark / duck:.1f}x baseline)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    i = sub.add_parser("ingest")
    i.add_argument("--seconds", type=float, default=10)
    i.add_argument("--connections", type=int, default=4)
    i.add_argument("--rounds", type=int, default=3)
    m = sub.add_parser("model")
    m.add_argument("--persons", type=int, default=5400)
    m.add_argument("--rounds", type=int, default=1)
    m.add_argument("--driver-memory", default="4g")
    m.add_argument("--shuffle-partitions", type=int, default=8)
    args = parser.parse_args()
    env_path = str(ROOT / "src")
    if env_path not in os.environ.get("PYTHONPATH", ""):
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (env_path, os.environ.get("PYTHONPATH")) if p
        )
    if args.what == "ingest":
        ingest(args)
    else:
        model(args)


if __name__ == "__main__":
    main()
