"""What an erasure costs now that it rewrites the store file, against a delete alone.

    python benchmarks/erasure.py --store demo.duckdb               # the demo store as it is
    python benchmarks/erasure.py --store demo.duckdb --times 10    # its events 10 times over

With `--times N` the demo's events are copied N times under new ids (person `cus_7_000755`
becomes `cus_7_000755~2`, ...) into a store of its own (kept under $KLANTREIS_BENCH_DATA,
default /tmp/klantreis-bench, for reruns) and the model is built over them. Each run erases one
person from a fresh copy of that store: the baseline deletes the person's rows and checkpoints
(what erasure did before, leaving the rows readable in freed blocks); ours is `erase_person`,
which also rewrites the file. Prints the machine, the store, medians and the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import duckdb
from sqlglot import exp

import klantreis
from klantreis.model import ensure_built
from klantreis.store import Store
from klantreis.store.privacy import _row_condition, _tables, erase_person, resolve
from klantreis.store.query import Query, identifier

DATA = Path(os.environ.get("KLANTREIS_BENCH_DATA", "/tmp/klantreis-bench"))
PERSON = "cus_7_000755"
COLUMNS = (
    "message_id, type, event, name, user_id, anonymous_id, previous_id, group_id, timestamp, "
    "received_at, channel, properties, traits, context, source"
)


def scaled(store: Path, times: int) -> Path:
    """The demo's events `times` over, each copy under its own ids, with the model built."""
    if times == 1:
        return store
    target = DATA / f"erasure-x{times}.duckdb"
    if target.exists():
        return target
    DATA.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target))
    con.execute("SET memory_limit = '6GB'")
    con.execute(f"ATTACH '{store}' AS demo (READ_ONLY)")
    con.execute("CREATE TABLE events AS SELECT * FROM demo.events LIMIT 0")
    for n in range(1, times + 1):
        tag = "" if n == 1 else f"~{n}"
        con.execute(
            f"INSERT INTO events SELECT message_id || '{tag}', type, event, name, "
            f"user_id || '{tag}', anonymous_id || '{tag}', previous_id || '{tag}', group_id, "
            f"timestamp, received_at, channel, properties, replace(traits, '@', '{tag}@'), "
            f"context, source FROM demo.events"
        )
    con.close()
    with klantreis.open(target) as kr:
        ensure_built(kr)
    return target


def delete_only(path: Path) -> None:
    with Store(path) as store:
        who = resolve(store, PERSON)
        for name in _tables(store):
            condition = _row_condition(name, who)
            if condition is not None:
                store.engine.execute(Query(exp.delete(identifier(name), where=condition)))
        store.connection.execute("CHECKPOINT")


def ours(path: Path) -> None:
    with Store(path) as store:
        erase_person(store, PERSON)


def timed(func, source: Path, work: Path) -> float:  # type: ignore[no-untyped-def]
    shutil.copy(source, work)
    started = time.perf_counter()
    func(work)
    seconds = time.perf_counter() - started
    work.unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--times", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    source = scaled(args.store.resolve(), args.times)
    with duckdb.connect(str(source), read_only=True) as con:
        events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"{platform.platform()} | python {platform.python_version()} | cpus {os.cpu_count()} | "
        f"RAM {mem:.1f} GiB | duckdb {duckdb.__version__}"
    )
    print(f"store {source.name}: {events:,} events, {source.stat().st_size / 2**20:.0f} MiB")
    work = DATA / "erasure-run.duckdb"
    DATA.mkdir(parents=True, exist_ok=True)
    base, new = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine load
        base.append(timed(delete_only, source, work))
        new.append(timed(ours, source, work))
    b, n = sorted(base)[len(base) // 2], sorted(new)[len(new) // 2]
    print(f"delete + checkpoint (baseline): median {b:.2f} s  {[round(x, 2) for x in base]}")
    print(f"erase_person with rewrite:      median {n:.2f} s  {[round(x, 2) for x in new]}")
    print(f"ratio ours/baseline: {n / b:.1f}")


if __name__ == "__main__":
    main()
