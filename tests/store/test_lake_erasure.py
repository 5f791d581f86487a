"""Erasure reaches a lake: its event and quarantine files, and the state file beside it.

A shop on DuckDB (`klantreis demo`) moves to a lake (`klantreis lake load`), a person is
erased with `klantreis erase`, and then every file under the lake and the state file is read
byte by byte, Parquet files also decoded (their pages are compressed, so an id would not show
in the raw bytes even where it is stored): none holds an id, the e-mail or a message id of the
person, and every other event is still there. The commands after the demo run as the CLI runs
them, in the test's process (`servers.cli_here`): the files they leave are the point, not a
process of their own.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest
from servers import cli, cli_here

from klantreis.config import load_settings
from klantreis.store.lake import Lake, write_durably

PERSON = "cus_7_000004"
"""A customer of the 12-person demo with two anonymous ids and an e-mail stitched to them."""


@pytest.fixture(scope="module")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-person demo store on DuckDB, with its model."""
    folder = tmp_path_factory.mktemp("demo")
    config = folder / "klantreis.toml"
    config.write_text(f'[store]\npath = "{folder / "shop.duckdb"}"\n')
    cli(
        "demo", "--persons", "12", "--no-browser", "--out", str(folder / "out"),
        env={"KLANTREIS_CONFIG": str(config)},
        check=True,
    )  # fmt: skip
    return folder / "shop.duckdb"


def _on_a_lake(demo_shop: Path, folder: Path) -> dict[str, str]:
    """A copy of the demo shop moved to a lake in `folder`; the environment of its commands."""
    state = folder / "state.duckdb"
    shutil.copy(demo_shop, state)
    config = folder / "klantreis.toml"
    config.write_text(f'[store]\nkind = "lake"\npath = "{folder / "lake"}"\nstate = "{state}"\n')
    env = {"KLANTREIS_CONFIG": str(config)}
    cli_here("lake", "load", env=env, check=True)
    return env


def _live_events(lake: Path) -> list[dict[str, Any]]:
    files = [str(f) for f in Lake(lake).live_files()]
    con = duckdb.connect()
    table = con.sql(
        "SELECT message_id, user_id, anonymous_id, previous_id FROM read_parquet($files, "
        "hive_partitioning = false)",
        params={"files": files},
    ).to_arrow_table()
    return list(table.to_pylist())


def _readable(path: Path) -> bytes:
    """What can be read from a file: its bytes and, for Parquet, its rows decoded."""
    data = path.read_bytes()
    if path.name.endswith(".parquet"):
        rows = pq.ParquetFile(path, coerce_int96_timestamp_unit="us").read().to_pylist()
        data += orjson.dumps(rows, default=str)
    return data


def _where(folder: Path, values: set[str]) -> dict[str, list[str]]:
    """Each value found in a file under `folder`, with the files it is in."""
    contents = {str(p.relative_to(folder)): _readable(p) for p in folder.rglob("*") if p.is_file()}
    hits = {v: [name for name, data in contents.items() if v.encode() in data] for v in values}
    return {v: names for v, names in hits.items() if names}


def _email(export: dict[str, Any]) -> str:
    """The e-mail in the person's events (the export of the state file's copy of them)."""
    for row in export["tables"]["events"]:
        traits = json.loads(row["traits"] or "{}")
        if traits.get("email"):
            return str(traits["email"])
    raise AssertionError("the person has no e-mail in their events")


def test_erase_on_a_lake_leaves_no_byte_of_the_person_in_any_file(
    demo_shop: Path, tmp_path: Path
) -> None:
    """Before, `klantreis erase` on a lake only rewrote the state file: the person's events,
    e-mail and ids stayed in `lake/events/date=*/part-*.parquet` (and in a compacted day's
    replaced files, and in the quarantine)."""
    env = _on_a_lake(demo_shop, tmp_path)
    lake = Lake(tmp_path / "lake")
    lake.quarantine([{"source": "test", "reason": "bad", "raw": json.dumps({"userId": PERSON})}])
    # a compaction keeps the files it merged for `--grace` minutes: they hold the person too
    cli_here("lake", "compact", "--grace", "60", env=env, check=True)
    assert list(lake.events_path.glob("date=*/_replaced.json"))

    con = duckdb.connect(str(tmp_path / "state.duckdb"), read_only=True)
    ids = {  # user id, anonymous ids, e-mail hash: stitched by the model
        row[0]
        for row in con.execute(
            "SELECT id FROM identities WHERE person_id IN "
            "(SELECT person_id FROM identities WHERE id = ?)",
            [PERSON],
        ).fetchall()
    }
    con.close()
    assert len(ids) >= 3
    before = _live_events(lake.path)
    mine = {
        r["message_id"] for r in before if {r["user_id"], r["anonymous_id"], r["previous_id"]} & ids
    }
    others = sorted(r["message_id"] for r in before if r["message_id"] not in mine)
    assert len(others) > 1000 and len(mine) > 20
    exported = orjson.loads(cli_here("export", PERSON, env=env, check=True).stdout)
    personal = ids | mine | {_email(exported)}
    assert _where(tmp_path, personal)  # before: everywhere

    erased = cli_here("erase", PERSON, "--json", env=env, check=True)
    assert _where(tmp_path, personal) == {}  # before this change: the lake's files held them
    removed = orjson.loads(erased.stdout)["removed"]
    assert removed["lake/events"] == len(mine) and removed["lake/quarantine"] == 1
    assert sorted(r["message_id"] for r in _live_events(lake.path)) == others
    again = cli_here("export", PERSON, env=env)
    assert again.returncode == 1 and "nothing is stored" in again.stderr
    # another person is still whole, in the lake and in the state file
    other = orjson.loads(cli_here("export", "cus_7_000008", env=env, check=True).stdout)["tables"]
    assert len(other["lake/events"]) > 20 and other["journeys"]


def test_lake_load_drop_leaves_the_events_in_the_lake_only(demo_shop: Path, tmp_path: Path) -> None:
    """Before, `lake load` left every event readable in the old store (now `state`) too."""
    state = tmp_path / "state.duckdb"
    shutil.copy(demo_shop, state)
    config = tmp_path / "klantreis.toml"
    config.write_text(f'[store]\nkind = "lake"\npath = "{tmp_path / "lake"}"\nstate = "{state}"\n')
    env = {"KLANTREIS_CONFIG": str(config)}
    kept = cli_here("lake", "load", env=env, check=True)
    assert "still holds them" in kept.stdout and "--drop" in kept.stdout
    con = duckdb.connect(str(state), read_only=True)
    sample = [  # events that became no voice row (voice scores stay in `state`)
        r[0]
        for r in con.execute(
            "SELECT message_id FROM events WHERE event = 'Product Viewed' LIMIT 50"
        ).fetchall()
    ]
    con.close()

    moved = orjson.loads(cli_here("lake", "load", "--drop", "--json", env=env, check=True).stdout)
    assert moved["events"] == len(_live_events(tmp_path / "lake")) // 2 and moved["dropped"]
    con = duckdb.connect(str(state), read_only=True)
    assert con.execute("SELECT count(*) FROM events").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM api_keys").fetchall()[0][0] >= 0  # still a store
    con.close()
    data = state.read_bytes()
    assert [m for m in sample if m.encode() in data] == []
    assert len({r["message_id"] for r in _live_events(tmp_path / "lake")}) == moved["events"]


def test_files_collectors_write_during_an_erasure_are_kept(
    demo_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Collectors add files while an erasure rewrites others: every event they wrote is in
    the lake afterwards, in the files they wrote (an erasure only touches files it listed)."""
    from klantreis.privacy import erase_persons
    from klantreis.store import Store

    env = _on_a_lake(demo_shop, tmp_path)
    monkeypatch.setenv("KLANTREIS_CONFIG", env["KLANTREIS_CONFIG"])
    settings = load_settings()
    lake = Lake(tmp_path / "lake")
    first = lake.live_files()[0]
    template = pq.read_table(first).slice(0, 1)
    written: list[tuple[str, Path]] = []
    during = threading.Event()
    stop = threading.Event()

    def collector() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            row = template.set_column(0, "message_id", [[f"side-by-side-{n}"]])
            written.append((f"side-by-side-{n}", write_durably(first.parent, row)))
            during.set()

    thread = threading.Thread(target=collector)
    thread.start()
    try:
        during.wait(30)
        with Store(settings.store) as store:
            start = len(written)
            erase_persons(store, [PERSON], settings)
            landed_during = len(written) - start
    finally:
        stop.set()
        thread.join()
    assert landed_during > 0
    assert all(path.exists() for _, path in written)
    stored = {r["message_id"] for r in _live_events(lake.path)}
    assert {m for m, _ in written} <= stored


def test_a_lake_erasure_takes_the_person_out_of_derived_tables_and_the_voice_model(
    tmp_path: Path,
) -> None:
    """A small lake built by hand: the person's rated review trained the voice model in the
    state file (only the lake's events say so), a derived table in `tables_path` names them as
    a persona example and holds their rows, a stored map quotes their review. After the
    erasure: the model is dropped, the example list keeps its row without them, their rows are
    gone, one version is left, the stored map is gone."""
    import uuid

    import pyarrow as pa
    from stories import story

    from klantreis.config import Settings
    from klantreis.privacy import declared_tables, erase_persons
    from klantreis.store import Store
    from klantreis.store.engines.spark.lake import Shelf

    declared_tables()
    lake = Lake(tmp_path / "lake")
    review = {"properties": {"rating": 1, "text": "kapot aangekomen"}}
    lake.append(
        story(
            {
                "ann-7319": [("Product Viewed", "09:00"), ("Review Submitted", "09:30", review)],
                "bob": [("Product Viewed", "10:00"), ("Order Completed", "10:05")],
            }
        )
    )
    shelf = Shelf(tmp_path / "lake" / "tables")
    for name, table in {
        "personas": pa.table({"persona": ["p1"], "examples": [json.dumps(["ann-7319", "bob"])]}),
        "person_personas": pa.table({"person_id": ["ann-7319", "bob"], "persona": ["p1", "p1"]}),
        "journey_maps": pa.table(
            {"definition": ["six_phase"], "map": [json.dumps({"quote": "kapot aangekomen"})]}
        ),
    }.items():
        for n in range(2):  # the current version and the one before, kept for readers
            version = f"v-{n}{uuid.uuid4().hex}"
            (shelf.root / name / version).mkdir(parents=True)
            pq.write_table(table, shelf.root / name / version / "part-00000.parquet")
            (shelf.root / name / "_current").write_text(version)
    shelf.set_state({"model_fingerprint": "built"})
    state = tmp_path / "state.duckdb"
    with Store(state) as store:
        store.connection.execute(
            "INSERT INTO voice_models (model_id, examples, model) VALUES ('m1', 1, 'ann-7319')"
        )
        sections = {"store": {"kind": "lake", "path": str(lake.path), "state": str(state)}}
        settings = Settings(state, "duckdb", {"tables_path": str(shelf.root)}, sections)
        removed = erase_persons(store, ["ann-7319"], settings)
        assert store.connection.execute("SELECT count(*) FROM voice_models").fetchall() == [(0,)]
    assert removed["voice_models"] == 1 and removed["lake/events"] == 2
    assert removed["lake/tables/personas"] == 1 and removed["lake/tables/person_personas"] == 1
    assert removed["lake/tables/journey_maps"] == 1  # quoted her: computed again by `map`
    assert "journey_maps" not in shelf.names() and not (shelf.root / "journey_maps").exists()
    personas = pq.read_table(shelf.current("personas")).to_pylist()  # type: ignore[arg-type]
    assert personas == [{"persona": "p1", "examples": '["bob"]'}]
    people = pq.read_table(shelf.current("person_personas"))  # type: ignore[arg-type]
    assert people.column("person_id").to_pylist() == ["bob"]
    assert all(len(list((shelf.root / n).glob("v-*"))) == 1 for n in shelf.names())
    assert shelf.get_state()["model_fingerprint"] == ""
    assert {r["user_id"] for r in _live_events(lake.path)} == {"bob"}
    assert _where(tmp_path, {"ann-7319", "kapot aangekomen"}) == {}


def test_erase_person_from_python_reaches_the_lake_without_settings(
    demo_shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`klantreis.privacy.erase_person(store, person)` from Python, given no settings, reads
    the shop's own (klantreis.toml) and reaches the lake's files; before, it rewrote only the
    state file and the person's events stayed in the lake."""
    from klantreis.privacy import erase_person, export_person
    from klantreis.store.store import Store

    env = _on_a_lake(demo_shop, tmp_path)
    monkeypatch.setenv("KLANTREIS_CONFIG", env["KLANTREIS_CONFIG"])
    lake = Lake(tmp_path / "lake")
    with Store(tmp_path / "state.duckdb") as store:
        exported = export_person(store, PERSON)
        mine = {row["message_id"] for row in exported["tables"]["lake/events"]}
        assert len(mine) > 20
        removed = erase_person(store, PERSON)
    assert removed["lake/events"] == len(mine)
    assert not mine & {r["message_id"] for r in _live_events(lake.path)}
