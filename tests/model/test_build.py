"""The model turns a story of events into persons, sessions, journeys and phases."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import event_row, story

import klantreis
from klantreis.model import build, ensure_built, load_definition
from klantreis.model.definition import DefinitionError


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    yield handle
    handle.close()


def test_anonymous_browsing_is_stitched_to_the_buyer(kr):
    events = story(
        {
            "anon-1": [
                ("Products Searched", "09:00", {"anonymous": True}),
                ("Product Viewed", "09:02", {"anonymous": True}),
            ],
            "anna": [
                (
                    "Identify",
                    "09:05",
                    {
                        "type": "identify",
                        "anonymous_id": "anon-1",
                        "traits": {"email": "Anna@Example.com "},
                    },
                ),
                ("Order Completed", "09:10", {"properties": {"order_id": "o1"}}),
            ],
        }
    )
    kr.store.append(events)
    summary = build(kr.engine)
    assert summary.persons == 1
    rows = kr.sql("SELECT DISTINCT person_id FROM journey_events").to_pylist()
    assert rows == [{"person_id": "anna"}]
    ids = kr.sql("SELECT id_kind, count(*) AS n FROM identities GROUP BY 1 ORDER BY 1").to_pylist()
    assert ids == [
        {"id_kind": "anonymous_id", "n": 1},
        {"id_kind": "email_hash", "n": 1},
        {"id_kind": "user_id", "n": 1},
    ]


def test_long_alias_chain_converges(kr):
    rows = [
        event_row(f"u{i}", "Alias", "09:00", type="alias", seq=i) | {"previous_id": f"u{i - 1}"}
        for i in range(1, 12)
    ]
    import pyarrow as pa

    from klantreis.store.schema import EVENT_ARROW_SCHEMA

    kr.store.append(pa.Table.from_pylist(rows, schema=EVENT_ARROW_SCHEMA))
    summary = build(kr.engine)
    assert summary.identity_rounds > 3
    persons = kr.sql("SELECT DISTINCT person_id FROM identities").to_pylist()
    assert persons == [{"person_id": "u0"}]


def test_sessions_split_after_thirty_minutes(kr):
    kr.store.append(
        story(
            {
                "bo": [
                    ("Page Viewed", "09:00"),
                    ("Page Viewed", "09:29"),
                    ("Page Viewed", "09:59"),
                    ("Page Viewed", "10:30"),
                ]
            }
        )
    )
    build(kr.engine)
    sessions = kr.sql("SELECT session_id, events FROM sessions ORDER BY started_at").to_pylist()
    assert [s["events"] for s in sessions] == [3, 1]


def test_journeys_follow_purchase_cycles_and_orders(kr):
    kr.store.append(
        story(
            {
                "cas": [
                    ("Product Viewed", "09:00"),
                    ("Order Completed", "09:10", {"properties": {"order_id": "A"}}),
                    ("Product Viewed", "12:00"),  # browsing for the next order
                    ("Order Delivered", "13:00", {"properties": {"order_id": "A"}}),
                    ("Order Completed", "14:00", {"properties": {"order_id": "B"}}),
                    ("Ticket Created", "15:00"),  # after-sales without order: latest order
                    ("Review Submitted", "16:00", {"properties": {"order_id": "A"}}),
                    ("Product Viewed", "18:00"),  # open journey, no purchase yet
                ]
            }
        )
    )
    build(kr.engine)
    rows = kr.sql(
        "SELECT event, journey_id, phase FROM journey_events ORDER BY timestamp"
    ).to_pylist()
    assert [r["journey_id"] for r in rows] == [
        "cas:j1",
        "cas:j1",
        "cas:j2",
        "cas:j1",
        "cas:j2",
        "cas:j2",
        "cas:j1",
        "cas:j3",
    ]
    assert [r["phase"] for r in rows][:2] == ["consideration", "purchase"]
    journeys = kr.sql(
        "SELECT journey_id, order_id, converted FROM journeys ORDER BY journey_index"
    ).to_pylist()
    assert journeys == [
        {"journey_id": "cas:j1", "order_id": "A", "converted": True},
        {"journey_id": "cas:j2", "order_id": "B", "converted": True},
        {"journey_id": "cas:j3", "order_id": None, "converted": False},
    ]


def test_aida_definition_assigns_other_phases(kr):
    kr.store.append(story({"di": [("Products Searched", "09:00"), ("Cart Viewed", "09:05")]}))
    build(kr.engine, "aida")
    phases = kr.sql("SELECT phase FROM journey_events ORDER BY timestamp").to_pylist()
    assert [p["phase"] for p in phases] == ["interest", "desire"]


def test_ensure_built_rebuilds_only_when_events_change(kr):
    kr.store.append(story({"ed": [("Page Viewed", "09:00")]}))
    assert ensure_built(kr) is True
    assert ensure_built(kr) is False
    kr.store.append(story({"fa": [("Page Viewed", "09:00")]}))
    assert ensure_built(kr) is True
    assert ensure_built(kr, "aida") is True


def test_consent_follows_latest_statement(kr):
    kr.store.append(
        story(
            {
                "gi": [
                    (
                        "Identify",
                        "09:00",
                        {"type": "identify", "traits": {"consent_marketing": True}},
                    ),
                    ("Consent Updated", "10:00", {"properties": {"marketing": False}}),
                ]
            }
        )
    )
    build(kr.engine)
    assert kr.sql("SELECT consent_marketing FROM persons").to_pylist() == [
        {"consent_marketing": False}
    ]


def test_empty_store_builds_empty_tables(kr):
    summary = build(kr.engine)
    assert (summary.persons, summary.events) == (0, 0)


def test_bad_definition_names_the_problem(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: x\ndefault_phase: nope\nphases: [{id: a}, {id: b}]\n")
    with pytest.raises(DefinitionError, match=r"mine\.yaml"):
        load_definition(str(path))
    with pytest.raises(DefinitionError, match="neither a file"):
        load_definition("no-such-definition")


def _windows(kr, sql: str) -> list[tuple[str, list[str]]]:
    """Each window operator of a query's plan over events: (its windows, the columns it sorts)."""
    import json

    con = kr.store.connection
    plan = json.loads(con.execute("EXPLAIN (FORMAT json) " + sql).fetchall()[0][1])
    found = []

    def walk(node: dict) -> None:
        if node["name"] == "WINDOW" and "PARTITION BY" in str(node["extra_info"]["Projections"]):
            carried = node["children"][0]["extra_info"].get("Projections", [])
            found.append((str(node["extra_info"]["Projections"]), list(carried)))
        for child in node.get("children", []):
            walk(child)

    for node in plan:
        walk(node)
    return found


def _journey_sql(which: str) -> str:
    from klantreis.collect.vocabulary import BACK_OFFICE_EVENTS
    from klantreis.model import journey_events
    from klantreis.store.query import Query

    return Query(
        getattr(journey_events, which),
        purchase_event="Order Completed",
        purchase_index=3,
        gap_us=1_800_000_000,
        back_office=list(BACK_OFFICE_EVENTS),
        **journey_events._about_an_order(load_definition("six-phase")),
    ).sql("duckdb")


def test_sessions_and_journeys_share_one_window_order(kr):
    """Two window passes over the events in time order (the build's main cost), not three; a
    purchase at the same moment as other events still gets their session and closes the
    journey."""
    kr.store.append(
        story(
            {
                "cy": [
                    ("Product Viewed", "09:00"),
                    ("Order Completed", "09:50", {"properties": {"order_id": "o1"}}),
                    ("Product Viewed", "09:50"),
                    ("Order Delivered", "12:00", {"properties": {"order_id": "o1"}}),
                ]
            }
        )
    )
    build(kr.engine)
    rows = kr.sql(
        "SELECT event, session_id, journey_id FROM journey_events ORDER BY timestamp, event"
    ).to_pylist()
    assert [(r["event"], r["session_id"], r["journey_id"]) for r in rows] == [
        ("Product Viewed", "cy:s1", "cy:j1"),
        ("Order Completed", "cy:s2", "cy:j1"),
        ("Product Viewed", "cy:s2", "cy:j1"),
        ("Order Delivered", "cy:s3", "cy:j1"),
    ]
    assert len(_windows(kr, _journey_sql("_NARROW"))) == 2
    # Spark's query: the same two passes, and the order's journey by a window over (person,
    # order) within the person's partition instead of a join of the rows to their purchases.
    wide = [projections for projections, _ in _windows(kr, _journey_sql("_WIDE"))]
    assert len(wide) == 3
    assert sum("order_id" in projections for projections in wide) == 1


def test_the_windows_sort_narrow_columns_only(kr):
    """On DuckDB the session and journey windows carry a person number, the time, the purchase
    flag and ids, never the event's wide columns: sorting whole rows was the build's cost."""
    kr.store.append(story({"cy": [("Product Viewed", "09:00")]}))
    build(kr.engine)
    wide = {"properties", "event", "type", "channel", "person_id", "touchpoint", "phase"}
    windows = _windows(kr, _journey_sql("_NARROW"))
    assert windows and all("PARTITION BY pk" in w for w, _ in windows)
    assert all(not wide & set(carried) for _, carried in windows), windows


def test_narrow_and_wide_windows_make_the_same_rows(tmp_path):
    """The narrow windows (DuckDB) and the whole-row windows (every engine) give the same
    `journey_events`, row for row, on a simulated shop with purchases at the same moment as
    other events, events no id attributes and identical timestamps."""
    from klantreis.collect.simulator import SimulatorConfig, simulate

    kr = klantreis.open(tmp_path / "s.duckdb")
    for batch in simulate(SimulatorConfig(persons=150, seed=11)).iter_batches(50_000):
        kr.store.append(batch)
    kr.store.append(
        story(
            {
                "tie": [
                    ("Product Viewed", "09:00"),
                    ("Order Completed", "09:50", {"properties": {"order_id": "t2"}}),
                    ("Order Completed", "09:50", {"properties": {"order_id": "t1"}}),
                    ("Product Viewed", "09:50"),
                    ("Order Delivered", "12:00", {"properties": {"order_id": "t1"}}),
                    ("Payment Captured", "12:00", {"properties": {"order_id": "t2"}}),
                ],
                "nobody": [
                    ("Product Viewed", "10:00", {"anonymous": True, "anonymous_id": "null"}),
                    ("Product Viewed", "10:01", {"anonymous": True, "anonymous_id": "null"}),
                ],
            }
        )
    )
    build(kr.engine)
    con = kr.store.connection
    con.execute("CREATE TABLE wide AS " + _journey_sql("_WIDE"))
    con.execute("CREATE TABLE narrow AS " + _journey_sql("_NARROW"))
    total = con.execute("SELECT count(*) FROM narrow").fetchone()[0]
    assert total == con.execute("SELECT count(*) FROM wide").fetchone()[0] > 1000
    for a, b in (("wide", "narrow"), ("narrow", "wide")):
        diff = f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})"
        assert con.execute(diff).fetchone()[0] == 0
    kr.close()
