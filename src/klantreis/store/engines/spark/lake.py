"""The Spark engine over a lake: events read where collectors write them, derived tables
written back beside them.

Events: `lake/events/date=*/part-*.parquet` (store/lake.py), the files a compaction replaced
left out, each message id once (the first received, the rule compaction applies, so a reader
sees the same rows before, during and after a compaction).

Derived tables (`[engine] tables_path`): each a folder `<table>/v-<uuid>/` of Parquet and a
`<table>/_current` naming the complete version, replaced by a rename; a dashboard or CLI process
reads the model the last build wrote instead of building it again. `_model.json` keeps the
build's fingerprint.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

import orjson

from klantreis.store.lake import FIRST_WINS, LATEST_WINS, PRODUCTS, Lake, replace_durably

CURRENT = "_current"
STATE = "_model.json"
STATE_LOCK = "_model.lock"


def is_day_partitioned(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("date=*/part-*.parquet"))


def read_events(session: Any, folder: Path) -> Any:
    """The lake's events (`folder` is the lake's `events/`), each message id once."""
    from klantreis.store.schema import EVENT_ARROW_SCHEMA

    files = [str(f) for f in Lake(folder.parent).live_files()]
    frame = session.read.parquet(*files).selectExpr(
        *EVENT_ARROW_SCHEMA.names, "input_file_name() AS filename"
    )
    frame.createOrReplaceTempView("_kr_lake_events")
    names = ", ".join(EVENT_ARROW_SCHEMA.names)
    return session.sql(
        f"SELECT {names} FROM (SELECT *, row_number() OVER ("  # noqa: S608 - static names
        f"PARTITION BY message_id ORDER BY {FIRST_WINS}) AS _rank FROM _kr_lake_events) "
        "WHERE _rank = 1"
    )


def is_lake_products(folder: Path) -> bool:
    """`folder` is a lake's catalogue (`products/` beside `events/`)."""
    return folder.name == PRODUCTS and (folder.parent / "events").is_dir()


def read_products(session: Any, folder: Path) -> Any:
    """The lake's catalogue (`folder` is its `products/`), each product id once: its latest
    import, the row `klantreis lake compact` keeps."""
    files = [str(f) for f in Lake(folder.parent).product_files()]
    frame = session.read.option("mergeSchema", "true").parquet(*files)
    names = ", ".join(f"`{name}`" for name in frame.columns)
    frame.selectExpr("*", "input_file_name() AS filename").createOrReplaceTempView(
        "_kr_lake_products"
    )
    return session.sql(
        f"SELECT {names} FROM (SELECT *, row_number() OVER ("  # noqa: S608 - names from the files
        f"PARTITION BY product_id ORDER BY {LATEST_WINS}) AS _rank FROM _kr_lake_products) "
        "WHERE _rank = 1"
    )


def fingerprint(folder: Path) -> str:
    """Changes when a file is added to or removed from the lake's events (no data read)."""
    digest = hashlib.sha256()
    for file in Lake(folder.parent).live_files():
        digest.update(str(file.relative_to(folder)).encode())
    return digest.hexdigest()


class Shelf:
    """Derived tables as Parquet folders under `root`, each switched to a new version at once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / CURRENT).exists())

    def current(self, name: str) -> Path | None:
        pointer = self.root / name / CURRENT
        if not pointer.exists():
            return None
        return self.root / name / pointer.read_text().strip()

    def write(self, name: str, frame: Any) -> Path:
        """Write `frame` as a new version of `name` and make it the current one."""
        folder = self.root / name
        version = f"v-{uuid.uuid4().hex}"
        frame.write.mode("errorifexists").parquet(str(folder / version))
        previous = self.current(name)
        replace_durably(folder / CURRENT, version.encode())
        if previous is not None and previous.name != version:
            # A reader that resolved the old version a moment ago may still be reading it:
            # removed by the next write of this table, one version later.
            for stale in folder.glob("v-*"):
                if stale.name not in (version, previous.name):
                    shutil.rmtree(stale, ignore_errors=True)
        return folder / version

    def get_state(self) -> dict[str, Any]:
        path = self.root / STATE
        return orjson.loads(path.read_bytes()) if path.exists() else {}

    def set_state(self, state: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        replace_durably(self.root / STATE, orjson.dumps(state))

    def update_state(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge `changes` into the state file and return what it holds now.

        Read, merge and write under an exclusive lock on a file beside it: two processes (a
        scheduled build and a dashboard storing a map) each wrote the whole state they had read
        at start, so the later one removed the key the other had written meanwhile."""
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / STATE_LOCK).open("a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = {**self.get_state(), **changes}
            replace_durably(self.root / STATE, orjson.dumps(state))
        return state
