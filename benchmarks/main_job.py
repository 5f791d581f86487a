"""The main job at shop scale: every step of a day's work, timed in fresh processes.

For each size (events, persons growing with them) the events are generated once into a cache
folder outside the repository ($KLANTREIS_BENCH_DATA, default /tmp/klantreis-bench): the demo
simulator's shop (seed 424242), copied as often as needed with every id and e-mail address
made distinct per copy, cut to the exact event count. Sizing is by events, not by persons, so
the figures stay comparable when the simulator's events per person change.

Then, each step in its own fresh process that reports its own time and peak memory:
store (a bulk load in batches), the floor (the plain DuckDB aggregate `count(DISTINCT person)` by
event name over the same stored events), full model build, voice update, expectations
scorecard, opportunities (computed, then read back stored), customer value (fitted and stored,
then read back), personas discover, at-risk, the journey map (six-phase; AIDA, which today
rebuilds the model for that definition), the dashboard's default pages stored (the routine's
step after the maps), +1 % new events, the model refresh after them, the
voice update of the new texts, and every page of the dashboard on the real server cold (first
request until figures show, and until they are current) and warm (median of three): the
default views of the map, scorecard, voice and funnels pages, each of them for the largest
persona and for the last 90 days, the rest of the menu and the busiest person's timeline.
Every time is also given as a ratio to the floor.

    python benchmarks/main_job.py                       # 1M and 10M events
    python benchmarks/main_job.py --sizes 1M --skip-web
    python benchmarks/main_job.py --sizes 50M --memory-limit 6GB
    python benchmarks/main_job.py --sizes 10M --store /path/shop.duckdb --only map  # reuse

DuckDB's memory limit is set in every step (default 6GB, the machine is shared); spilling goes
to the store's folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
SRC = str(ROOT / "src")
"""The klantreis source every step runs (`--src`)."""
DATA = Path(os.environ.get("KLANTREIS_BENCH_DATA", "/tmp/klantreis-bench")) / "main_job"
SEED = 424242
"""An unusual seed, so the seed in every simulated id can be rewritten per copy."""
BASE_PERSONS = 8000
BATCH = 250_000
INCREMENT = 0.01
TEXT_COLUMNS = (
    "message_id",
    "user_id",
    "anonymous_id",
    "previous_id",
    "group_id",
    "properties",
    "traits",
    "context",
)
PAGES = ("/map", "/expectations", "/voice", "/funnels")
"""The pages with a default view the routine can store, asked first (their cold figures)."""
CUT_PAGES = ("/map", "/expectations", "/voice", "/funnels")
"""Asked again with a persona and with a period (`?persona=`, `?period=90d`): cut views."""
OTHER_PAGES = (
    "/cases",
    "/value",
    "/products",
    "/search",
    "/returns",
    "/sources",
    "/settings",
    "/timeline",
)
"""The rest of the dashboard's menu (the timeline also with its busiest person)."""


def size(text: str) -> int:
    units = {"K": 1_000, "M": 1_000_000}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].isalpha() else int(text)


def machine() -> str:
    import duckdb

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.platform()} | python {platform.python_version()} | cpus {os.cpu_count()} | "
        f"RAM {mem:.1f} GiB | duckdb {duckdb.__version__} | load {os.getloadavg()[0]:.1f}"
    )


# -- events --------------------------------------------------------------------------------
def _copy_sql(copy: int, source: str, present: set[tuple[str, str]]) -> str:
    """The base events with every seeded id, anonymous id and e-mail address made distinct.

    Only the (column, text) pairs `present` in the base are rewritten: a `replace` of a text
    no value has changes nothing and costs a scan of the column (`context`, the widest, has
    none), and the copy of 50M events is that scan 35 times.
    """
    if copy == 0:
        return f"SELECT * FROM {source}"
    tag = f"x{copy}"
    columns = []
    for name in TEXT_COLUMNS:
        expr = name
        for needle, replacement in _rewrites(tag):
            if (name, needle) in present and (needle != "@" or name in EMAIL_COLUMNS):
                expr = f"replace({expr}, '{needle}', '{replacement}')"
        if expr != name:
            columns.append(f"{expr} AS {name}")
    return f"SELECT * REPLACE ({', '.join(columns)}) FROM {source}"


EMAIL_COLUMNS = ("traits", "properties", "context")


def _rewrites(tag: str) -> list[tuple[str, str]]:
    return [(str(SEED), f"{SEED}{tag}"), ("anon-", f"anon-{tag}-"), ("@", f".{tag}@")]


def _present(con: Any) -> set[tuple[str, str]]:
    """The (column, text) pairs of `_rewrites` that occur in the base events."""
    checks = [(name, needle) for name in TEXT_COLUMNS for needle, _ in _rewrites("")]
    counts = ", ".join(f"count(*) FILTER (WHERE contains({n}, '{t}'))" for n, t in checks)
    found = con.execute(f"SELECT {counts} FROM base").fetchone()
    return {pair for pair, count in zip(checks, found, strict=True) if count}


def events_file(events: int) -> tuple[Path, Path]:
    """(events, increment) Parquet files of this size, generated once."""
    import duckdb

    from klantreis.collect.simulator import SimulatorConfig, simulate

    DATA.mkdir(parents=True, exist_ok=True)
    path, extra = DATA / f"events_{events}.parquet", DATA / f"increment_{events}.parquet"
    if path.exists() and extra.exists():
        return path, extra
    base = DATA / f"base_{BASE_PERSONS}.parquet"
    if not base.exists():
        started = time.perf_counter()
        shop = simulate(SimulatorConfig(persons=BASE_PERSONS, seed=SEED))
        import pyarrow.parquet as pq

        pq.write_table(shop.events, base)
        print(
            f"  simulated {shop.events.num_rows:,} base events in "
            f"{time.perf_counter() - started:.0f} s"
        )
    con = duckdb.connect()
    con.execute("SET memory_limit = '4GB'")
    con.execute(f"SET temp_directory = '{DATA / 'tmp'}'")
    con.execute(
        f"CREATE VIEW base AS SELECT * EXCLUDE (file_row_number), "
        f"file_row_number + 1 AS _row FROM read_parquet('{base}', file_row_number = true)"
    )
    rows = con.execute("SELECT count(*) FROM base").fetchone()[0]
    copies = -(-events // rows)
    present = _present(con)
    parts = [_copy_sql(c, "base", present) for c in range(copies)]
    last = events - rows * (copies - 1)
    parts[-1] += f" WHERE _row <= {last}"
    _write_in_order(con, parts, path)
    more = int(events * INCREMENT)
    increment = f"({_copy_sql(copies + 1, 'base', present)} WHERE _row <= {more})"
    con.execute(f"COPY (SELECT * EXCLUDE (_row) FROM {increment}) TO '{extra}' (FORMAT parquet)")
    check = con.execute(
        f"SELECT count(*), count(DISTINCT message_id), count(DISTINCT user_id) "
        f"FROM read_parquet('{path}')"
    ).fetchone()
    base_users = con.execute("SELECT count(DISTINCT user_id) FROM base").fetchone()[0]
    print(
        f"  {check[0]:,} events ({check[1]:,} distinct message ids), {check[2]:,} user ids "
        f"from {copies} copies of {rows:,} events / {base_users:,} user ids"
    )
    return path, extra


RETURNING_DAYS = 30


def returning_increment(events: Path, out: Path, *, latest: bool = False) -> Path:
    """+1 % of returning customers' events, written once to `out`: every hundredth event of
    `events`, 30 days later, with a new message id. Unlike the generated increment (the next
    copy of the shop: new customers), its events are spread over the stored persons, and most
    fall between a person's stored events. `latest`: moved instead by the events' whole span
    and a day, so each person's new events come after all their stored ones."""
    import duckdb

    if out.exists():
        return out
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    source = f"read_parquet('{events}', file_row_number = true)"
    later = f"INTERVAL {RETURNING_DAYS} DAY"
    if latest:
        span = con.execute(f"SELECT max(timestamp) - min(timestamp) FROM {source}").fetchone()[0]
        later = f"INTERVAL {span.days + 1} DAY"
    con.execute(
        f"COPY (SELECT * EXCLUDE (file_row_number) REPLACE ("
        f"'r{RETURNING_DAYS}-' || message_id AS message_id, timestamp + {later} AS timestamp, "
        f"received_at + {later} AS received_at) "
        f"FROM {source} WHERE file_row_number % 100 = 0) TO '{out}' (FORMAT parquet)"
    )
    return out


def _write_in_order(con: Any, parts: list[str], path: Path) -> None:
    """The copies one after the other into one Parquet file, streamed.

    One `COPY` of their `UNION ALL` keeps the order by holding every copy before the first
    is written: at 50M events DuckDB spilled gigabytes to disk and wrote nothing for 17 min.
    """
    import pyarrow.parquet as pq

    writer = None
    try:
        for part in parts:
            reader = (
                con.cursor().sql(f"SELECT * EXCLUDE (_row) FROM ({part})").to_arrow_reader(BATCH)
            )
            for batch in reader:
                if writer is None:
                    writer = pq.ParquetWriter(path, batch.schema)
                writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()


# -- steps (each run in a fresh process) ---------------------------------------------------
def _open(store: str) -> Any:
    import klantreis

    kr = klantreis.open(store)
    kr.store.connection.execute(f"SET memory_limit = '{os.environ['BENCH_MEMORY_LIMIT']}'")
    return kr


def step_store(store: str, parquet: str) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # `append_many`: a bulk load into the new store (the message-id key built once at the
    # end); into a store with events (+1 %) every batch is appended against the key
    with _open(store) as kr:
        # pre_buffer off: with it the reader kept 13 MB per batch read (2.6 GB over 50M events)
        batches = pq.ParquetFile(parquet, pre_buffer=False).iter_batches(batch_size=BATCH)
        # `map`, not a generator expression: that would hold the last batch read (its
        # variable) while the next one is read, two batches in memory instead of one
        tables = map(lambda b: pa.Table.from_batches([b]), batches)
        stored = kr.store.append_many(tables).stored
    return f"{stored:,} stored"


def step_floor(store: str) -> str:
    import duckdb

    con = duckdb.connect(store, read_only=True)
    con.execute(f"SET memory_limit = '{os.environ['BENCH_MEMORY_LIMIT']}'")
    rows = con.execute(
        "SELECT event, count(DISTINCT coalesce(user_id, anonymous_id)) FROM events GROUP BY event"
    ).fetchall()
    return f"{len(rows)} event names"


def step_build(store: str) -> str:
    from klantreis.model import ensure_built

    with _open(store) as kr:
        rebuilt = ensure_built(kr)
        persons = kr.engine.scalar("SELECT count(*) FROM persons")
    return f"rebuilt={rebuilt}, {persons:,} persons"


def step_voice(store: str) -> str:
    from klantreis.measure.voice.stored import update_voice

    with _open(store) as kr:
        result = update_voice(kr.store, kr.engine)
    return f"{result.scored:,} texts scored"


def step_expectations(store: str) -> str:
    with _open(store) as kr:
        card = kr.expectations()
    return type(card).__name__


def step_opportunities(store: str) -> str:
    with _open(store) as kr:
        found = kr.opportunities()
    return f"{len(found.opportunities)} opportunities"


def step_value(store: str) -> str:
    with _open(store) as kr:
        found = kr.value(limit=0)
    return f"{found.persons:,} buyers, {found.method}, fit {found.seconds} s"


def step_personas(store: str) -> str:
    from klantreis.measure.personas.discovery import discover

    with _open(store) as kr:
        found = discover(kr)
    return f"k={getattr(found, 'k', '?')}"


def step_at_risk(store: str) -> str:
    with _open(store) as kr:
        found = kr.at_risk()
    return f"{len(found)} orders at risk" if isinstance(found, list) else type(found).__name__


def step_map(store: str, definition: str) -> str:
    with _open(store) as kr:
        journey_map = kr.journey_map(definition)
    return f"{len(journey_map.phases)} phases"


def step_pages(store: str) -> str:
    from klantreis.present.web.board import Board
    from klantreis.present.web.routes.pages import store_defaults

    # what the server's routine does after the maps: the default pages' results, stored
    with _open(store) as kr:
        board = Board(kr.settings, kr.store, as_built=True, stored="write")
        stored = store_defaults(board)
    return f"{stored} page results stored"


def step_imports() -> str:
    return "registry loaded before the clock (this row: a step that does nothing)"


STEPS = {name[5:]: func for name, func in dict(globals()).items() if name.startswith("step_")}


def child(name: str, args: list[str]) -> None:
    # Every analysis module is imported before the clock starts: a step's time is its work,
    # not Python loading pandas, sqlglot and scikit-learn (reported apart, as "imports").
    from klantreis.measure.registry import _load_all

    _load_all()
    load = os.getloadavg()[0]
    cpu = time.process_time()  # every thread of this process: DuckDB's too
    started = time.perf_counter()
    note = STEPS[name](*args)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 2**20
    result = {"seconds": seconds, "cpu": cpu, "load": max(load, os.getloadavg()[0])}
    print("RESULT " + json.dumps({**result, "peak": peak, "note": note}))


def imports_timed() -> dict[str, Any]:
    """Seconds from a fresh interpreter to every analysis module loaded."""
    started = time.perf_counter()
    load = "from klantreis.measure.registry import _load_all; _load_all()"
    command = [sys.executable, "-c", load]
    env = {**os.environ, "PYTHONPATH": SRC}
    before = os.times()
    subprocess.run(command, env=env, check=True)
    after = os.times()
    return {
        "seconds": time.perf_counter() - started,
        "cpu": after.children_user
        + after.children_system
        - before.children_user
        - before.children_system,
        "load": os.getloadavg()[0],
        "peak": float("nan"),
        "note": "imports",
    }


def run(name: str, *args: str) -> dict[str, Any]:
    """One step in a fresh Python process; its own time (imports excluded) and peak memory."""
    # The cap goes on the child's command line: its own parsing would set the default (6GB).
    limit = os.environ["BENCH_MEMORY_LIMIT"]
    command = [sys.executable, __file__, "--child", name, *args, "--memory-limit", limit]
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    nan = float("nan")
    failed = "FAILED " + " | ".join(tail)
    return {"seconds": nan, "cpu": nan, "load": os.getloadavg()[0], "peak": nan, "note": failed}


# -- dashboard -----------------------------------------------------------------------------
def page_urls(store: Path) -> list[str]:
    """Every page a shop owner opens, in the order asked: the default views, a persona's
    view (the largest discovered persona) and a period's (last 90 days) of each page with
    filters, the rest of the menu, and the timeline of the busiest person."""
    import duckdb

    persona = person = None
    con = duckdb.connect(str(store), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "personas" in tables:
            found = con.execute("SELECT persona FROM personas ORDER BY size DESC LIMIT 1")
            persona = (found.fetchone() or [None])[0]
        if "journeys" in tables:
            found = con.execute(
                "SELECT person_id FROM journeys GROUP BY person_id "
                "ORDER BY count(*) DESC, person_id LIMIT 1"
            )
            person = (found.fetchone() or [None])[0]
    finally:
        con.close()
    urls = list(PAGES)
    if persona:
        urls += [f"{url}?{urlencode({'persona': persona})}" for url in CUT_PAGES]
    urls += [f"{url}?period=90d" for url in CUT_PAGES]
    urls += list(OTHER_PAGES)
    if person:
        urls.append(f"/timeline?{urlencode({'person': person})}")
    return urls


CURRENT_WAIT = 30
"""Seconds a page showing figures with a note that newer ones are being computed is asked
again before the next page is (its "current" time: nan when longer)."""


def pages(store: Path, timeout: float = 600) -> dict[str, tuple[float, float, float]]:
    """(shown, current, warm median) seconds per page on the real server: the first
    request until the page shows a result, until it shows the current one, and warm. A page
    still computing after `timeout` seconds is left (nan) and the next one asked."""
    import httpx

    sys.path.insert(0, str(ROOT / "tests"))
    from servers import Server, cli

    urls = page_urls(store)
    # Not checked: a store the pages were measured on before has the user already.
    cli("users", "create", "bench", "--password", "benchmark-pw", store=store, check=False)
    progress = re.compile(r'id="(map-progress|page-progress|map-stale|page-stale|page-pending)"')
    waiting = re.compile(r'id="(map-progress|page-progress)"')
    """`shown`: the page shows a result (the last stored, perhaps marked stale while the
    routine computes a newer one); `cold`: it shows the current one."""
    # The server reads the same DuckDB cap as every other step, from a klantreis.toml as a
    # user's would (without one DuckDB takes 80 % of the machine: at 10M the out-of-memory
    # killer stopped it on a full machine). Nothing else configured: the pages warm up.
    limit = os.environ["BENCH_MEMORY_LIMIT"]
    # The server runs the code under test (`--src`), as every step does.
    config = f'[engine]\nmemory_limit = "{limit}"\n'
    server = Server(store, config=config, env={"PYTHONPATH": SRC}).start()
    found = {}
    nan = float("nan")
    try:
        client = httpx.Client(base_url=server.url, timeout=1200)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        client.post(
            "/login",
            data={
                "username": "bench",
                "password": "benchmark-pw",
                "csrf_token": token.group(1) if token else "",
            },
        )
        for url in urls:
            started = time.perf_counter()
            shown = cold = None
            failed = None
            while time.perf_counter() - started < timeout:
                try:
                    response = client.get(url)
                except httpx.TransportError as exc:  # the server went away: said, stop
                    failed = type(exc).__name__
                    break
                if response.status_code != 200:  # e.g. DuckDB's cap full: said, next page
                    failed = response.status_code
                    break
                if shown is None and not waiting.search(response.text):
                    shown = time.perf_counter() - started
                if not progress.search(response.text):
                    cold = time.perf_counter() - started
                    break
                if shown is not None and time.perf_counter() - started > shown + CURRENT_WAIT:
                    break  # shown, newer figures on their way: the next page is asked
                time.sleep(0.2)
            warm = [nan]
            if not isinstance(failed, str):
                warm = []
                for _ in range(3):
                    started = time.perf_counter()
                    response = client.get(url)
                    warm.append(time.perf_counter() - started)
                    code = response.status_code
                    failed = failed or (code if code != 200 else None)
            shown = shown if shown is not None else nan
            found[url] = (shown, cold if cold is not None else nan, statistics.median(warm))
            print(
                f"  {url}: shown {shown:.2f} s, current {found[url][1]:.2f} s, "
                f"warm {found[url][2]:.3f} s (load {os.getloadavg()[0]:.1f})"
                + (f", HTTP {failed}" if failed else ""),
                flush=True,
            )
            if isinstance(failed, str):
                break
        if server.proc is not None:
            found["server"] = _process_use(server.proc.pid)
    finally:
        server.stop()
    return found


def _process_use(pid: int) -> tuple[float, float, float]:
    """(peak GiB, CPU seconds, load) of a running process, from /proc."""
    peak = float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 2**20
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return peak, cpu, os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M"])
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--skip-web", action="store_true")
    parser.add_argument(
        "--page-timeout",
        type=float,
        default=600,
        help="Seconds a page may compute before it is left and the next asked (default 600).",
    )
    parser.add_argument("--only", nargs="*", help="Run only these steps (after store/build).")
    parser.add_argument("--skip", nargs="*", default=[], help="Leave out these steps.")
    parser.add_argument(
        "--store",
        help="Time the steps on this existing store (events stored, model built) instead of "
        "storing the events of each size into a fresh one.",
    )
    parser.add_argument(
        "--src",
        default=str(ROOT / "src"),
        help="The klantreis source the steps run (e.g. a checkout of the code before a change, "
        "for a baseline in the same run); default this checkout's.",
    )
    parser.add_argument(
        "--increment",
        help="Parquet file of the new events (+1 %%) instead of the generated one: for a --store "
        "that has stored the generated increment already (its events would all be repeats).",
    )
    parser.add_argument(
        "--increment-kind",
        choices=("new", "returning", "returning-latest"),
        default="new",
        help="new: the +1 %% is the next copy of the shop (new customers); returning: every "
        "hundredth stored event again 30 days later (returning customers), written beside the "
        "store; returning-latest: the same events after every stored one.",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["BENCH_MEMORY_LIMIT"] = args.memory_limit
    global SRC
    SRC = args.src
    if args.child:
        child(args.child[0], args.child[1:])
        return
    print(machine())
    print(f"DuckDB memory_limit {args.memory_limit}; times are each step's own, in a fresh process")
    for label in args.sizes:
        events = size(label)
        print(f"\n== {label} events ==")
        parquet, increment = events_file(events)
        increment = Path(args.increment) if args.increment else increment
        folder = DATA / f"store_{events}"
        if args.store:
            folder = Path(args.store).parent
        else:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        store = args.store or str(folder / "shop.duckdb")
        if args.increment_kind != "new" and not args.increment:
            kind = args.increment_kind.replace("-", "_")
            increment = returning_increment(
                parquet,
                folder / f"increment_{kind}_{events}.parquet",
                latest=args.increment_kind == "returning-latest",
            )
        plan: list[tuple[str, str, tuple[str, ...]]] = [
            ("store events", "store", (store, str(parquet))),
            ("floor: count(DISTINCT person) by event", "floor", (store,)),
            ("python + imports (not in the rows below)", "imports_timed", ()),
            ("full model build", "build", (store,)),
            ("voice update", "voice", (store,)),
            ("expectations (scorecard)", "expectations", (store,)),
            ("opportunities (computed)", "opportunities", (store,)),
            ("opportunities (stored)", "opportunities", (store,)),
            ("customer value (fitted, stored)", "value", (store,)),
            ("customer value (read back)", "value", (store,)),
            ("personas discover", "personas", (store,)),
            ("at-risk", "at_risk", (store,)),
            ("map six-phase", "map", (store, "six-phase")),
            ("map six-phase again (stored)", "map", (store, "six-phase")),
            ("map AIDA (reads the six-phase model)", "map", (store, "aida")),
            ("map AIDA again (stored)", "map", (store, "aida")),
            ("dashboard pages stored (the routine's)", "pages", (store,)),
            ("model after the maps (nothing to rebuild)", "build", (store,)),
            ("store +1 % new events", "store", (store, str(increment))),
            ("model refresh after +1 %", "build", (store,)),
            ("voice update of the new texts", "voice", (store,)),
        ]
        if args.only:
            keep = {"store", "build", *args.only}
            plan = [p for p in plan if p[1] in keep]
        plan = [p for p in plan if p[1] not in args.skip and p[0] not in args.skip]
        if args.store:  # stored and built already: the floor still runs, on its events
            plan = [p for p in plan if p[0] not in ("store events", "full model build")]
        results = []
        floor = None
        print(f"code: {SRC}")
        print(
            f"{'step':42} {'seconds':>9} {'cpu s':>7} {'load':>5} {'peak GiB':>9} "
            f"{'× floor':>8}  note"
        )
        for title, name, step_args in plan:
            result = imports_timed() if name == "imports_timed" else run(name, *step_args)
            if name == "floor":
                floor = result["seconds"]
            ratio = result["seconds"] / floor if floor else float("nan")
            results.append((title, result))
            print(
                f"{title:42} {result['seconds']:9.2f} {result.get('cpu', float('nan')):7.2f} "
                f"{result.get('load', float('nan')):5.1f} {result['peak']:9.2f} {ratio:8.1f}  "
                f"{result['note']}",
                flush=True,
            )
        if not args.skip_web:
            measured = pages(Path(store), args.page_timeout)
            peak, cpu, load = measured.pop("server", (float("nan"),) * 3)
            print(
                f"{'dashboard server (whole run)':42} {'':9} {cpu:7.2f} {load:5.1f} {peak:9.2f}"
                f" {'':8}  its CPU and peak while the pages below were asked",
                flush=True,
            )
            for url, (shown, cold, warm) in measured.items():
                print(
                    f"{'dashboard ' + url:42} {shown:9.2f} {'':7} {'':5} "
                    f"{'':9} "
                    f"{shown / floor if floor else float('nan'):8.1f}  current {cold:.2f} s, "
                    f"warm {warm:.3f} s",
                    flush=True,
                )
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        print(f"store size {size_mb:,.0f} MiB")


if __name__ == "__main__":
    main()
