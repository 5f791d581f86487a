"""A refresh after new events gives the same model as a full build, table by table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.model import ensure_built
from klantreis.model.refresh import REQUIRED
from klantreis.store.schema import EVENT_ARROW_SCHEMA, TABLES

MODEL_TABLES = (*REQUIRED, "identity_quarantine")
"""Every table a build or a refresh makes."""


def _message(template: dict, **changes: object) -> dict:
    row = dict(template)
    row.update(changes)
    return row


@pytest.fixture(scope="module")
def shop_events() -> tuple[pa.Table, pa.Table]:
    """The demo's shop, and +1 % new events: every hundredth event arriving late (inside
    sessions already built), an alias merging two customers, a visitor's device identified as
    a customer, and an event with a name the model has not seen."""
    events = simulate(SimulatorConfig(persons=300, seed=11)).iter_batches(1_000_000)
    table = pa.concat_tables(list(events)).cast(EVENT_ARROW_SCHEMA)
    table = table.sort_by("message_id")
    late = pa.array([i % 100 == 50 for i in range(table.num_rows)])
    base, increment = table.filter(pc.invert(late)), table.filter(late)

    customers = sorted(set(base.column("user_id").drop_null().to_pylist()))
    visitors = sorted(
        set(base.filter(pc.is_null(base.column("user_id"))).column("anonymous_id").to_pylist())
        - set(base.filter(pc.is_valid(base.column("user_id"))).column("anonymous_id").to_pylist())
    )
    first, second = customers[3], customers[4]
    template = base.slice(0, 1).to_pylist()[0]
    at = max(base.column("timestamp").to_pylist()) + timedelta(minutes=5)
    blank = {c: None for c in EVENT_ARROW_SCHEMA.names}
    extra = [
        _message(
            blank,
            message_id="refresh-alias",
            type="alias",
            event="Alias",
            user_id=first,
            previous_id=second,
            timestamp=at,
            received_at=at,
            channel="web",
            source="test",
        ),
        _message(
            blank,
            message_id="refresh-identify",
            type="identify",
            event="Identify",
            user_id=customers[7],
            anonymous_id=visitors[0],
            traits='{"email": "someone.new@example.org"}',
            timestamp=at,
            received_at=at,
            channel="web",
            source="test",
        ),
        _message(
            template,
            message_id="refresh-new-name",
            type="track",
            event="Gift Card Redeemed",
            user_id=customers[9],
            anonymous_id=None,
            timestamp=at,
            received_at=at,
            properties="{}",
        ),
    ]
    increment = pa.concat_tables(
        [increment, pa.Table.from_pylist(extra, schema=EVENT_ARROW_SCHEMA)]
    )
    return base, increment


def _rows(kr: klantreis.Klantreis, table: str) -> list[tuple]:
    """The table's rows in a fixed order, checked against its declared columns."""
    result = kr.sql(f"SELECT * FROM {table}")
    rows = result.to_pylist()
    assert not rows or tuple(rows[0]) == TABLES[table].column_names
    return sorted((tuple(row.values()) for row in rows), key=repr)


def _person(kr: klantreis.Klantreis, id: str, kind: str = "user_id") -> str:
    rows = kr.sql(
        "SELECT person_id FROM identities WHERE id = :id AND id_kind = :kind", id=id, kind=kind
    ).to_pylist()
    return rows[0]["person_id"]


def test_refresh_equals_full_build_table_by_table(tmp_path: Path, shop_events) -> None:
    base, increment = shop_events
    assert 0.009 < increment.num_rows / (base.num_rows + increment.num_rows) < 0.02

    extra = increment.slice(increment.num_rows - 3).to_pylist()
    first, second = extra[0]["user_id"], extra[0]["previous_id"]
    customers = {7: extra[1]["user_id"]}
    visitor = extra[1]["anonymous_id"]

    refreshed = klantreis.open(tmp_path / "refreshed.duckdb")
    refreshed.store.append(base)
    assert ensure_built(refreshed)
    assert _person(refreshed, first) != _person(refreshed, second)
    assert _person(refreshed, customers[7]) != _person(refreshed, visitor, "anonymous_id")
    fingerprint_before = refreshed.store.get_meta("model_fingerprint")
    assert refreshed.store.get_meta("model_refreshed_from") == ""
    assert refreshed.sql("SELECT * FROM refreshed_persons").to_pylist() == []
    persons_before = refreshed.sql("SELECT count(*) AS n FROM persons").to_pylist()[0]["n"]
    refreshed.store.connection.execute("CREATE TABLE sessions_before AS SELECT * FROM sessions")
    refreshed.store.append(increment)
    said: list[str] = []
    assert ensure_built(refreshed, progress=said.append)
    rebuilt = [m for m in said if m.startswith("rebuilding")]
    assert rebuilt, f"the refresh path was not taken: {said}"
    affected = int(rebuilt[0].split()[1])
    assert 0 < affected < persons_before / 4
    assert refreshed.store.get_meta("model_refreshed_from") == fingerprint_before
    inside = refreshed.sql(
        "SELECT count(*) AS n FROM journey_events AS j JOIN sessions_before AS b "
        "ON b.person_id = j.person_id AND j.timestamp > b.started_at "
        "AND j.timestamp < b.ended_at WHERE j.message_id IN :late",
        late=increment.column("message_id").to_pylist(),
    ).to_pylist()[0]["n"]
    assert inside > 0, "no new event fell inside a session already built"
    marked = {r["person_id"] for r in refreshed.sql("SELECT * FROM refreshed_persons").to_pylist()}
    assert len(marked) == affected
    assert {_person(refreshed, first), _person(refreshed, visitor, "anonymous_id")} <= marked

    full = klantreis.open(tmp_path / "full.duckdb")
    full.store.append(base)
    full.store.append(increment)
    assert ensure_built(full)
    for table in MODEL_TABLES:
        assert _rows(refreshed, table) == _rows(full, table), table

    for kr in (refreshed, full):
        assert _person(kr, first) == _person(kr, second)
        assert _person(kr, customers[7], "user_id") == _person(kr, visitor, "anonymous_id")
    refreshed.close()
    full.close()


def test_nothing_new_changes_nothing_and_removed_events_rebuild_fully(
    tmp_path: Path, shop_events
) -> None:
    base, increment = shop_events
    kr = klantreis.open(tmp_path / "s.duckdb")
    kr.store.append(base)
    assert ensure_built(kr)
    assert not ensure_built(kr)
    gone = base.column("message_id")[0].as_py()
    kr.store.connection.execute("DELETE FROM events WHERE message_id = ?", [gone])
    kr.store.append(increment)
    said: list[str] = []
    assert ensure_built(kr, progress=said.append)
    assert "stitching identities" in said
    assert not [m for m in said if m.startswith("rebuilding")]
    rows = kr.sql("SELECT count(*) AS n FROM journey_events WHERE message_id = :m", m=gone)
    assert rows.to_pylist() == [{"n": 0}]
    kr.close()


def _full_build(tmp_path: Path, *parts: pa.Table) -> klantreis.Klantreis:
    full = klantreis.open(tmp_path / "full.duckdb")
    for part in parts:
        full.store.append(part)
    assert ensure_built(full)
    return full


def test_a_refresh_leaves_the_rows_of_ids_it_did_not_see_in_place(
    tmp_path: Path, shop_events
) -> None:
    """The identity aggregates take in the new events' ids by row, and the anonymous ids that
    stay persons of their own are not written again: the rows of every id the new events do not
    carry keep their place, and the tables are still those of a full build."""
    base, increment = shop_events
    kr = klantreis.open(tmp_path / "s.duckdb")
    kr.store.append(base)
    assert ensure_built(kr)
    seen = {
        "identity_nodes": "SELECT rowid AS r, kind, id FROM identity_nodes "
        "WHERE id NOT IN (SELECT user_id FROM new WHERE user_id IS NOT NULL) "
        "AND id NOT IN (SELECT anonymous_id FROM new WHERE anonymous_id IS NOT NULL)",
        "identity_links": "SELECT rowid AS r, kind, x, user_id FROM identity_links "
        "WHERE user_id NOT IN (SELECT user_id FROM new WHERE user_id IS NOT NULL)",
        "identities": "SELECT rowid AS r, id, id_kind, person_id FROM identities "
        "WHERE id_kind = 'anonymous_id' AND person_id = id "
        "AND id NOT IN (SELECT anonymous_id FROM new WHERE anonymous_id IS NOT NULL)",
    }
    con = kr.store.connection
    con.register("new", increment)
    before = {name: con.execute(sql).fetchall() for name, sql in seen.items()}
    con.unregister("new")
    assert all(len(rows) > 100 for rows in before.values())
    kr.store.append(increment)
    said: list[str] = []
    assert ensure_built(kr, progress=said.append)
    assert [m for m in said if m.startswith("rebuilding")], said
    for name, rows in before.items():
        where = ", ".join(str(r[0]) for r in rows)
        columns = seen[name].split(" FROM ")[0]
        after = con.execute(f"{columns} FROM {name} WHERE rowid IN ({where})").fetchall()
        assert sorted(after) == sorted(rows), name
    full = _full_build(tmp_path, base, increment)
    for table in ("identity_nodes", "identity_emails", "identity_links", "identities"):
        assert _rows(kr, table) == _rows(full, table), table
    kr.close()
    full.close()


def test_a_refresh_with_new_events_no_id_attributes_equals_a_full_build(
    tmp_path: Path, shop_events
) -> None:
    """Events whose only id is a placeholder belong to nobody (person ''): when new ones arrive,
    every such event is rebuilt, found by attributing every event, as the full build does."""
    base, increment = shop_events
    template = increment.slice(0, 1).to_pylist()[0]
    nobody = pa.Table.from_pylist(
        [
            _message(
                template,
                message_id=f"refresh-nobody-{i}",
                user_id=None,
                anonymous_id="null",
                event="Product Viewed",
                type="track",
            )
            for i in range(2)
        ],
        schema=EVENT_ARROW_SCHEMA,
    )
    kr = klantreis.open(tmp_path / "s.duckdb")
    kr.store.append(pa.concat_tables([base, nobody.slice(0, 1)]))
    assert ensure_built(kr)
    kr.store.append(pa.concat_tables([increment, nobody.slice(1)]))
    said: list[str] = []
    assert ensure_built(kr, progress=said.append)
    assert [m for m in said if m.startswith("rebuilding")], said
    marked = {r["person_id"] for r in kr.sql("SELECT * FROM refreshed_persons").to_pylist()}
    assert "" in marked
    unattributed = kr.sql("SELECT count(*) AS n FROM journey_events WHERE person_id IS NULL")
    assert unattributed.to_pylist()[0]["n"] >= 2
    full = _full_build(tmp_path, base, nobody.slice(0, 1), increment, nobody.slice(1))
    for table in MODEL_TABLES:
        assert _rows(kr, table) == _rows(full, table), table
    kr.close()
    full.close()
