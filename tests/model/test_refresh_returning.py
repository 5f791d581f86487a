"""New events of returning customers: a refresh remakes their rows from a session before their
new events on, keeps the rows before it, and gives the same model as a full build."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.model import ensure_built
from klantreis.model.refresh import REQUIRED
from klantreis.store.schema import EVENT_ARROW_SCHEMA, TABLES

MODEL_TABLES = (*REQUIRED, "identity_quarantine")
"""Every table a build or a refresh makes."""
PURCHASE = "Order Completed"


def _rows(kr: klantreis.Klantreis, table: str) -> list[tuple]:
    rows = kr.sql(f"SELECT * FROM {table}").to_pylist()
    assert not rows or tuple(rows[0]) == TABLES[table].column_names
    return sorted((tuple(row.values()) for row in rows), key=repr)


def _same_as_a_full_build(kr: klantreis.Klantreis, tmp_path: Path, *events: pa.Table) -> None:
    """The refreshed model `kr` holds is, table by table, what a full build of its events makes."""
    full = klantreis.open(tmp_path / "full.duckdb")
    for table in events:
        full.store.append(table)
    assert ensure_built(full)
    for table in MODEL_TABLES:
        assert _rows(kr, table) == _rows(full, table), table
    full.close()


def _copy(row: dict, message_id: str, at: object, **changes: object) -> dict:
    copy = dict(row)
    copy.update(message_id=message_id, timestamp=at, received_at=at, **changes)
    return copy


def _order(row: dict) -> str | None:
    return json.loads(row["properties"] or "{}").get("order_id")


@pytest.fixture(scope="module")
def returning() -> dict:
    """The demo's shop, and new events of its returning customers only: every hundredth event
    of an identified customer again 30 days later (purchases name their orders again), an
    event inside a customer's last session, a new purchase after a customer's last event and
    one in the middle of another's history, a return naming a customer's first order, an order
    checked out before the cut whose purchase arrives now, and an alias merging two customers
    who also return."""
    events = simulate(SimulatorConfig(persons=300, seed=11)).iter_batches(1_000_000)
    table = pa.concat_tables(list(events)).cast(EVENT_ARROW_SCHEMA).sort_by("message_id")
    rows = table.to_pylist()
    by_user: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row["user_id"] and row["type"] not in ("identify", "alias", "group"):
            by_user[row["user_id"]].append(row)
    for mine in by_user.values():
        mine.sort(key=lambda r: (r["timestamp"], r["message_id"]))
    buyers = sorted(
        (u for u, mine in by_user.items() if sum(r["event"] == PURCHASE for r in mine) >= 2),
        key=lambda u: (-len(by_user[u]), u),
    )
    base, new = list(rows), []
    identified = [r for r in rows if r["user_id"] and r["type"] == "track"]
    for i, row in enumerate(identified):
        if i % 100 == 7:
            new.append(_copy(row, f"r30-{row['message_id']}", row["timestamp"] + timedelta(30)))

    inside, after, middle, returned, late, first, second = buyers[:7]
    pair = [
        (a, b)
        for a, b in zip(by_user[inside], by_user[inside][1:], strict=False)
        if timedelta(0) < b["timestamp"] - a["timestamp"] < timedelta(minutes=20)
    ][-1]
    midway = pair[0]["timestamp"] + (pair[1]["timestamp"] - pair[0]["timestamp"]) / 2
    new.append(_copy(pair[0], "new-inside", midway))

    last = by_user[after][-1]
    at = last["timestamp"] + timedelta(hours=3)
    props = json.dumps({"order_id": "new-order-after", "revenue": 10.0})
    checkout = next(r for r in by_user[after] if r["event"] == "Checkout Started")
    bought = next(r for r in by_user[after] if r["event"] == PURCHASE)
    new.append(_copy(checkout, "new-checkout", at, properties=props))
    new.append(_copy(bought, "new-purchase", at + timedelta(minutes=2), properties=props))
    new.append(_copy(last, "new-after-purchase", at + timedelta(days=1)))

    history = by_user[middle]
    halfway = history[len(history) // 2]
    props = json.dumps({"order_id": "new-order-middle", "revenue": 12.0})
    bought = next(r for r in history if r["event"] == PURCHASE)
    new.append(_copy(bought, "new-purchase-middle", halfway["timestamp"], properties=props))

    order = _order(next(r for r in by_user[returned] if r["event"] == PURCHASE))
    asked = next(r for r in rows if r["event"] == "Return Requested")
    at = by_user[returned][-1]["timestamp"] + timedelta(days=2)
    new.append(
        _copy(
            asked,
            "new-return",
            at,
            user_id=returned,
            anonymous_id=by_user[returned][-1]["anonymous_id"],
            properties=json.dumps({"order_id": order}),
        )
    )

    history = by_user[late]
    checkout = next(r for r in history if r["event"] == "Checkout Started")
    captured = next(r for r in rows if r["event"] == "Payment Captured")
    props = json.dumps({"order_id": "late-order", "revenue": 5.0})
    at = history[len(history) // 3]["timestamp"]
    base.append(_copy(checkout, "late-checkout", at, properties=props))
    base.append(
        _copy(
            captured,
            "late-captured",
            at + timedelta(minutes=1),
            user_id=late,
            anonymous_id=checkout["anonymous_id"],
            properties=props,
        )
    )
    bought = next(r for r in history if r["event"] == PURCHASE)
    at = history[-1]["timestamp"] + timedelta(days=3)
    new.append(_copy(bought, "late-purchase", at, properties=props))

    shared, buyer = buyers[7], buyers[8]  # a back-office event naming someone else's order
    history = by_user[shared]
    props = json.dumps({"order_id": "shared-order"})
    at = history[len(history) // 3]["timestamp"]
    base.append(
        _copy(
            captured,
            "shared-captured",
            at,
            user_id=shared,
            anonymous_id=history[0]["anonymous_id"],
            channel="server",
            properties=props,
        )
    )
    new.append(_copy(history[-1], "shared-again", history[-1]["timestamp"] + timedelta(hours=2)))
    bought = next(r for r in by_user[buyer] if r["event"] == PURCHASE)
    at = by_user[buyer][-1]["timestamp"] + timedelta(days=1)
    new.append(_copy(bought, "shared-purchase", at, channel="app", properties=props))

    at = max(r["timestamp"] for r in rows) + timedelta(minutes=5)
    blank = {c: None for c in EVENT_ARROW_SCHEMA.names}
    new.append(
        _copy(
            blank,
            "new-alias",
            at,
            type="alias",
            event="Alias",
            user_id=first,
            previous_id=second,
            channel="web",
            source="test",
        )
    )
    new.append(_copy(by_user[second][-1], "new-second", at + timedelta(hours=1)))
    return {
        "base": pa.Table.from_pylist(base, schema=EVENT_ARROW_SCHEMA),
        "new": pa.Table.from_pylist(new, schema=EVENT_ARROW_SCHEMA),
        "users": {
            "inside": inside,
            "after": after,
            "middle": middle,
            "returned": returned,
            "late": late,
            "first": first,
            "second": second,
            "shared": shared,
        },
    }


def _person(kr: klantreis.Klantreis, user_id: str) -> str:
    rows = kr.sql(
        "SELECT person_id FROM identities WHERE id = :id AND id_kind = 'user_id'", id=user_id
    ).to_pylist()
    return rows[0]["person_id"]


def _row_ids(kr: klantreis.Klantreis, person: str) -> dict[str, int]:
    rows = kr.store.connection.execute(
        "SELECT message_id, rowid FROM journey_events WHERE person_id = ?", [person]
    ).fetchall()
    return dict(rows)


def test_returning_customers_refresh_from_a_session_on_as_a_full_build(
    tmp_path: Path, returning: dict
) -> None:
    base, new, users = returning["base"], returning["new"], returning["users"]
    assert new.num_rows / (base.num_rows + new.num_rows) < 0.02
    kr = klantreis.open(tmp_path / "refreshed.duckdb")
    kr.store.append(base)
    assert ensure_built(kr)
    people = {name: _person(kr, user) for name, user in users.items()}
    assert people["first"] != people["second"]
    before = {name: _row_ids(kr, person) for name, person in people.items()}
    sessions = {
        name: kr.sql(
            "SELECT count(*) AS n FROM sessions WHERE person_id = :p", p=person
        ).to_pylist()[0]["n"]
        for name, person in people.items()
    }
    kr.store.append(new)
    said: list[str] = []
    assert ensure_built(kr, progress=said.append)
    rebuilt = [m for m in said if m.startswith("rebuilding")]
    assert rebuilt, f"the refresh path was not taken: {said}"
    cut = [m for m in said if "from a session before their new events on" in m]
    assert cut, f"no person was rebuilt from a session on: {said}"
    affected, tails = int(rebuilt[0].split()[1]), int(cut[0].split()[0])
    assert 0 < tails < affected
    marked = {r["person_id"] for r in kr.sql("SELECT * FROM refreshed_persons").to_pylist()}
    assert len(marked) == affected

    after = {name: _row_ids(kr, person) for name, person in people.items()}
    for name in ("inside", "after", "middle", "returned"):
        kept = {m: r for m, r in before[name].items() if after[name].get(m) == r}
        assert sessions[name] > 1 and kept, f"{name}: every row was written again"
        assert len(kept) < len(before[name]) or name == "after", name
    for name in ("late", "shared", "first"):  # orders named before the cut, moved ids: whole
        assert not {m for m, r in before[name].items() if after[name].get(m) == r}, name

    _same_as_a_full_build(kr, tmp_path, base, new)
    assert _person(kr, users["first"]) == _person(kr, users["second"])
    kr.close()


_MOVING = """
WITH candidates AS (
    SELECT s.person_id, s.started_at, j.journey_id
    FROM sessions AS s
    JOIN journey_events AS j ON j.session_id = s.session_id
    JOIN journeys AS o ON o.journey_id = j.journey_id
    WHERE o.converted AND o.ordered_at < s.started_at - INTERVAL 1 HOUR
      AND j.order_id IS NULL
)
SELECT DISTINCT c.person_id, c.started_at, c.journey_id, p.user_id FROM candidates AS c
JOIN persons AS p ON p.person_id = c.person_id AND p.user_id IS NOT NULL
WHERE NOT EXISTS (
    SELECT 1 FROM journey_events AS x
    WHERE x.journey_id = c.journey_id AND x.timestamp >= c.started_at AND x.order_id IS NOT NULL
)
ORDER BY c.started_at, c.person_id LIMIT 1
"""
"""A session of events after a purchase, with no event of that order at or after it."""


def test_a_purchase_before_later_events_moves_them_out_of_a_kept_journey(
    tmp_path: Path, returning: dict
) -> None:
    """A new purchase inside a customer's history: the events after it that followed the
    purchase before now follow the new one, and the earlier journey they leave (its purchase
    before the cut) is made again from its kept rows alone."""
    base = returning["base"]
    kr = klantreis.open(tmp_path / "refreshed.duckdb")
    kr.store.append(base)
    assert ensure_built(kr)
    found = kr.sql(_MOVING).to_pylist()
    assert found, "no session after a purchase in the shop"
    _person_id, started, journey, user = found[0].values()
    bought = next(r for r in base.to_pylist() if r["event"] == PURCHASE)
    new = pa.Table.from_pylist(
        [
            _copy(
                bought,
                "moving-purchase",
                started - timedelta(minutes=1),
                user_id=user,
                properties=json.dumps({"order_id": "moving-order", "revenue": 3.0}),
            )
        ],
        schema=EVENT_ARROW_SCHEMA,
    )
    events = kr.sql("SELECT events FROM journeys WHERE journey_id = :j", j=journey).to_pylist()
    kr.store.append(new)
    said: list[str] = []
    assert ensure_built(kr, progress=said.append)
    assert "1 of them from a session before their new events on" in said, said
    after = kr.sql("SELECT events FROM journeys WHERE journey_id = :j", j=journey).to_pylist()
    assert after[0]["events"] < events[0]["events"]
    _same_as_a_full_build(kr, tmp_path, base, new)
    kr.close()


_READ = """
SELECT count(*) AS n FROM events AS e
LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = e.user_id
LEFT JOIN identities AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = e.anonymous_id
WHERE coalesce(iu.person_id, ia.person_id) = :person
  AND (e.timestamp >= :cut OR e.type = 'identify' OR e.event = 'Consent Updated')
"""
"""A person's events from a cut on, and those that may describe them (any time)."""


def test_a_returning_customer_is_read_from_the_cut_on(tmp_path: Path, returning: dict) -> None:
    """Of a returning customer, the refresh reads the events from the cut on and those that
    may describe them, not every event of theirs, and the model is a full build's."""
    base = returning["base"]
    user = returning["users"]["inside"]
    kr = klantreis.open(tmp_path / "refreshed.duckdb")
    kr.store.append(base)
    assert ensure_built(kr)
    person = _person(kr, user)
    last = kr.sql(
        "SELECT max(started_at) AS cut, count(*) AS n FROM sessions WHERE person_id = :p",
        p=person,
    ).to_pylist()[0]
    assert last["n"] > 2
    mine = [r for r in base.to_pylist() if r["user_id"] == user and r["type"] == "track"]
    latest = max(mine, key=lambda r: r["timestamp"])
    new = pa.Table.from_pylist(
        [_copy(latest, "read-from-cut", latest["timestamp"] + timedelta(hours=2))],
        schema=EVENT_ARROW_SCHEMA,
    )
    kr.store.append(new)
    expected = kr.sql(_READ, person=person, cut=last["cut"]).to_pylist()[0]["n"]
    everything = kr.sql(_READ, person=person, cut=min(r["timestamp"] for r in mine))
    assert expected < everything.to_pylist()[0]["n"]
    said: list[str] = []
    assert ensure_built(kr, progress=said.append)
    assert "1 of them from a session before their new events on" in said, said
    assert f"reading {expected} of their events" in said, said
    _same_as_a_full_build(kr, tmp_path, base, new)
    kr.close()


def test_the_affected_persons_events_are_not_written_to_the_store(
    tmp_path: Path, returning: dict
) -> None:
    """The refresh's copies of the affected persons' events and rows, dropped before it
    commits, are temporary tables: not written into the store's file (compressed) as a table
    made in the refresh's transaction would be once it fills a row group."""
    kr = klantreis.open(tmp_path / "refreshed.duckdb")
    kr.store.append(returning["base"])
    assert ensure_built(kr)
    kr.store.append(returning["new"])
    seen: list[dict] = []

    def look(message: str) -> None:
        if message.startswith("reading"):
            found = kr.store.connection.execute(
                "SELECT table_name, temporary FROM duckdb_tables() "
                "WHERE table_name LIKE '\\_kr\\_%' ESCAPE '\\'"
            ).fetchall()
            seen.extend({"table_name": name, "temporary": temporary} for name, temporary in found)

    assert ensure_built(kr, progress=look)
    made = {"_kr_new_events", "_kr_affected", "_kr_cuts", "_kr_scope_identities", "_kr_scope_rows"}
    assert made <= {row["table_name"] for row in seen}, seen
    assert [r for r in seen if r["table_name"] in made and not r["temporary"]] == [], seen
    kr.close()
