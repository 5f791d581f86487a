"""Identity stitching's guards: shared devices and e-mails, placeholders, caps per person."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from klantreis.model import build
from klantreis.model.identities import CAPS


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    yield handle
    handle.close()


def person_of(kr, id_: str, kind: str) -> str | None:
    rows = kr.sql(
        "SELECT person_id FROM identities WHERE id = :id AND id_kind = :kind", id=id_, kind=kind
    ).to_pylist()
    assert len(rows) <= 1
    return rows[0]["person_id"] if rows else None


def quarantine(kr) -> list[dict]:
    return kr.sql(
        "SELECT id, id_kind, user_id, person_id, reason, messages FROM identity_quarantine "
        "ORDER BY reason, id"
    ).to_pylist()


def identify(anonymous_id: str | None = None, email: str | None = None) -> dict:
    options: dict = {"type": "identify"}
    if anonymous_id:
        options["anonymous_id"] = anonymous_id
    if email is not None:
        options["traits"] = {"email": email}
    return options


def test_shared_device_keeps_two_customers_apart(kr):
    """Anna and Bram log in on the family laptop: the laptop stays Anna's (she was first)."""
    kr.store.append(
        story(
            {
                "laptop": [("Product Viewed", "08:00", {"anonymous": True})],
                "anna": [
                    ("Identify", "08:05", identify("laptop", "anna@example.nl")),
                    ("Order Completed", "08:10", {"properties": {"order_id": "A1"}}),
                ],
                "bram": [
                    ("Identify", "20:00", identify("laptop", "bram@example.nl")),
                    ("Order Completed", "20:05", {"properties": {"order_id": "B1"}}),
                ],
            }
        )
    )
    summary = build(kr.engine)
    assert summary.persons == 2
    assert person_of(kr, "laptop", "anonymous_id") == "anna"
    assert person_of(kr, "bram", "user_id") == "bram"
    orders = kr.sql(
        "SELECT person_id, order_id FROM journeys WHERE converted ORDER BY order_id"
    ).to_pylist()
    assert orders == [
        {"person_id": "anna", "order_id": "A1"},
        {"person_id": "bram", "order_id": "B1"},
    ]
    assert quarantine(kr) == [
        {
            "id": "laptop",
            "id_kind": "anonymous_id",
            "user_id": "bram",
            "person_id": "anna",
            "reason": "shared_anonymous_id",
            "messages": 1,
        }
    ]


def test_shared_family_email_does_not_merge_two_accounts(kr):
    kr.store.append(
        story(
            {
                "u1": [("Identify", "09:00", identify(email="fam@example.nl"))],
                "u2": [
                    ("Identify", "10:00", identify(email=" FAM@example.nl")),
                    ("Identify", "10:30", identify(email="fam@example.nl")),
                ],
            }
        )
    )
    build(kr.engine)
    persons = kr.sql("SELECT count(DISTINCT person_id) AS n FROM identities").to_pylist()
    assert persons == [{"n": 2}]
    assert kr.sql("SELECT person_id FROM identities WHERE id_kind = 'email_hash'").to_pylist() == [
        {"person_id": "u1"}
    ]
    refused = quarantine(kr)
    assert [(r["reason"], r["user_id"], r["person_id"], r["messages"]) for r in refused] == [
        ("shared_email", "u2", "u1", 2)
    ]


def test_placeholder_ids_link_nothing(kr):
    """`null`, `undefined`, `0`, blank and test@ addresses would glue everyone together."""
    steps = {}
    for i, placeholder in enumerate(("null", "undefined", "0", "  ", "NULL")):
        steps[f"c{i}"] = [
            ("Identify", "09:00", identify(placeholder, f"test@shop{i}.nl")),
            ("Product Viewed", "09:05", {"anonymous_id": placeholder}),
        ]
    steps["null"] = [("Product Viewed", "11:00", {"anonymous_id": "device-9"})]
    kr.store.append(story(steps))
    summary = build(kr.engine)
    # five customers plus device-9 (its event's user id "null" is not an id)
    assert summary.persons == 6
    assert person_of(kr, "device-9", "anonymous_id") == "device-9"
    assert (
        kr.sql("SELECT count(*) AS n FROM identities WHERE id_kind = 'email_hash'").to_pylist()[0][
            "n"
        ]
        == 0
    )
    blocked = {(r["id_kind"], r["id"]) for r in quarantine(kr)}
    assert ("anonymous_id", "null") in blocked and ("user_id", "null") in blocked
    assert ("anonymous_id", "  ") in blocked and ("anonymous_id", "0") in blocked
    assert ("email", "test@shop0.nl") in blocked
    assert {r["reason"] for r in quarantine(kr)} == {"placeholder"}
    events = kr.sql("SELECT count(*) AS n FROM journey_events WHERE person_id = 'device-9'")
    assert events.to_pylist() == [{"n": 1}]


def test_devices_beyond_the_cap_become_persons_of_their_own(kr):
    cap = CAPS["anonymous_id"]
    steps = [(("Identify", i, identify(f"dev-{i:04d}"))) for i in range(cap + 3)]
    kr.store.append(story({"kiosk": steps}))
    build(kr.engine)
    held = kr.sql(
        "SELECT count(*) AS n FROM identities "
        "WHERE person_id = 'kiosk' AND id_kind = 'anonymous_id'"
    ).to_pylist()[0]["n"]
    assert held == cap
    refused = [r for r in quarantine(kr) if r["reason"] == "too_many_anonymous_ids"]
    assert sorted(r["id"] for r in refused) == [f"dev-{i:04d}" for i in range(cap, cap + 3)]
    assert person_of(kr, f"dev-{cap:04d}", "anonymous_id") == f"dev-{cap:04d}"


def test_stats_report_refused_links(kr):
    kr.store.append(
        story(
            {
                "anna": [("Identify", "08:05", identify("laptop"))],
                "bram": [("Identify", "20:00", identify("laptop"))],
            }
        )
    )
    from klantreis.measure.store_stats import store_stats

    stats = store_stats(kr).as_json()
    assert stats["persons"] == 2
    assert stats["identity_quarantined"] == 1
    assert stats["identity_quarantine_by_reason"] == [
        {
            "reason": "shared_anonymous_id",
            "meaning": "anonymous id already belongs to another person",
            "count": 1,
            "messages": 1,
        }
    ]


@pytest.mark.spark
@pytest.mark.slow
def test_guards_give_the_same_persons_on_spark(kr):
    """The same stitching, guards included, when the model is built by the Spark engine."""
    pytest.importorskip("pyspark")
    from klantreis.model.identities import build_identities
    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import spark_session

    events = story(
        {
            "laptop": [("Product Viewed", "08:00", {"anonymous": True})],
            "anna": [("Identify", "08:05", identify("laptop", "fam@example.nl"))],
            "bram": [("Identify", "20:00", identify("laptop", "FAM@example.nl "))],
            "null": [("Product Viewed", "21:00", {"anonymous_id": "undefined"})],
            "cas": [("Identify", "22:00", identify("phone", "test@example.nl"))],
        }
    )
    kr.store.append(events)
    build(kr.engine)

    def rows(engine, sql: str) -> list[tuple]:
        return sorted(tuple(r.values()) for r in engine.rows(sql))

    identities = "SELECT id, id_kind, person_id FROM identities"
    refused = "SELECT id, id_kind, user_id, person_id, reason, messages FROM identity_quarantine"
    session = spark_session(
        SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
    )
    spark = SparkEngine(session)
    try:
        spark.register_arrow("events", events)
        build_identities(spark)
        assert rows(spark, identities) == rows(kr.engine, identities)
        assert rows(spark, refused) == rows(kr.engine, refused)
    finally:
        spark.close()
    assert {r[4] for r in rows(kr.engine, refused)} == {
        "shared_anonymous_id",
        "shared_email",
        "placeholder",
    }
