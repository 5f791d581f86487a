"""What `klantreis erase` costs on a lake, against the same command of the code before (which
reached the state file only), in the same run.

    KLANTREIS_BENCH_DATA=/work/stores/bench python benchmarks/lake_erasure.py --size 1000000 \\
        --base-src ../klantreis-base/src --runs 3

The lake is made once (kept under --work) from `main_job/events_<size>.parquet` as a shop's
compacted lake is: one `part-c-` file per day. Its persons come from `main_job/store_<size>`'s
model (read only): the median person (by events) and the one with the most events, each erased
by every id the model stitched to them. Each run erases one of them from a fresh copy of the
lake (hard links: an erasure never changes a file, it writes new ones and removes the old),
with an empty state file, through the real CLI, as a process of its own; the CPU seconds
(user + system, /usr/bin/time), wall seconds and peak memory of that process are printed with
medians, the ratio to the baseline, and CPU seconds per GB of events in the lake.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from klantreis.store import Store  # noqa: E402
from klantreis.store.lake import COMPACTED, Lake, write_durably  # noqa: E402
from klantreis.store.schema import EVENT_ARROW_SCHEMA  # noqa: E402

DATA = Path(os.environ.get("KLANTREIS_BENCH_DATA", "/tmp/klantreis-bench")) / "main_job"


def build_lake(events: Path, lake: Path, memory_limit: str) -> Lake:
    """`events` as a compacted lake: one file per UTC day, rows in timestamp order."""
    if lake.exists():
        return Lake(lake)
    staging = lake.with_name(lake.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET threads = 2")
    con.execute(
        "COPY (SELECT *, strftime(coalesce(timestamp, received_at), '%Y-%m-%d') AS day "
        "FROM read_parquet($src) ORDER BY timestamp, message_id) "
        f"TO '{staging}' (FORMAT parquet, PARTITION_BY (day))",
        {"src": str(events)},
    )
    con.close()
    target = Lake(lake.with_name(lake.name + ".building"))
    for folder in sorted(staging.glob("day=*")):
        day = folder.name.removeprefix("day=")
        for file in sorted(folder.glob("*.parquet")):
            table = pq.read_table(file).select(EVENT_ARROW_SCHEMA.names).cast(EVENT_ARROW_SCHEMA)
            write_durably(target.events_path / f"date={day}", table, COMPACTED)
    shutil.rmtree(staging)
    os.rename(target.path, lake)
    return Lake(lake)


def persons(store: Path) -> dict[str, list[str]]:
    """The median person by events and the one with the most, with all their ids."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        ranked = con.execute(
            "SELECT person_id, count(*) AS n FROM journey_events GROUP BY 1 ORDER BY n, person_id"
        ).fetchall()
        chosen = {"median": ranked[len(ranked) // 2][0], "most events": ranked[-1][0]}
        return {
            label: sorted(
                str(r[0])
                for r in con.execute(
                    "SELECT id FROM identities WHERE person_id = ?", [person]
                ).fetchall()
            )
            for label, person in chosen.items()
        }
    finally:
        con.close()


def run(src: Path, lake: Lake, state: Path, ids: list[str], work: Path) -> dict[str, float]:
    """`klantreis erase IDS` on a fresh copy of the lake, with the code in `src`."""
    folder = Path(tempfile.mkdtemp(dir=work))
    try:
        copy = folder / "lake"
        subprocess.run(["cp", "-al", str(lake.path), str(copy)], check=True)
        shutil.copy(state, folder / "state.duckdb")
        config = folder / "klantreis.toml"
        config.write_text(
            f'[store]\nkind = "lake"\npath = "{copy}"\nstate = "{folder / "state.duckdb"}"\n'
        )
        timing = folder / "time.txt"
        env = {**os.environ, "PYTHONPATH": str(src), "KLANTREIS_CONFIG": str(config)}
        subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(timing), sys.executable,
             "-m", "klantreis.present.cli.app", "erase", *ids, "--json"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        wall, user, system, rss = timing.read_text().split()[-4:]
        con = duckdb.connect()
        left = con.execute(
            "SELECT count(*) FROM read_parquet($files, hive_partitioning = false) "
            "WHERE list_contains($ids, user_id) OR list_contains($ids, anonymous_id)",
            {"files": [str(f) for f in Lake(copy).live_files()], "ids": ids},
        ).fetchall()[0][0]
        con.close()
        return {
            "wall": float(wall),
            "cpu": float(user) + float(system),
            "rss_mb": int(rss) / 1024,
            "left": float(left),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1000000", help="events_<size>.parquet")
    parser.add_argument("--base-src", type=Path, required=True, help="the code before")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/klantreis-lake-erasure"))
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB's cap while making it")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    lake = build_lake(
        DATA / f"events_{args.size}.parquet", args.work / f"lake_{args.size}", args.memory_limit
    )
    files = lake.live_files()
    gb = sum(f.stat().st_size for f in files) / 1e9
    state = args.work / "state.duckdb"
    if not state.exists():
        Store(state).close()
    chosen = persons(DATA / f"store_{args.size}" / "shop.duckdb")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    print(f"lake: {args.size} events in {len(files)} day files, {gb:.3f} GB")
    codes = {"before (state only)": args.base_src, "erase on the lake": ROOT / "src"}
    for label, ids in chosen.items():
        results: dict[str, list[dict[str, float]]] = {name: [] for name in codes}
        for _ in range(args.runs):
            for name, src in codes.items():  # interleaved
                results[name].append(run(src, lake, state, ids, args.work))
        print(f"\nperson: {label}, {len(ids)} ids; medians of {args.runs}")
        base = statistics.median(r["cpu"] for r in results["before (state only)"])
        for name, rows in results.items():
            cpu = statistics.median(r["cpu"] for r in rows)
            wall = statistics.median(r["wall"] for r in rows)
            rss = max(r["rss_mb"] for r in rows)
            left = max(r["left"] for r in rows)
            print(
                f"  {name:22} cpu {cpu:6.2f} s  wall {wall:6.2f} s  peak {rss:5.0f} MB  "
                f"rows of the person left {left:.0f}  x{cpu / base:.2f}  "
                f"runs {[round(r['cpu'], 2) for r in rows]}"
            )
        # the command's start (imports, the state file) is the baseline's; the rest is the lake's
        extra = statistics.median(r["cpu"] for r in results["erase on the lake"]) - base
        print(f"  the lake's part: {extra:.2f} cpu-s, {extra / gb:.1f} cpu-s per GB of events")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
