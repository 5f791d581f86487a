"""Each visit's source, medium, campaign and acquisition touchpoint, by the shipped rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

import klantreis
from klantreis.model import build
from klantreis.model.sources import SourceRulesError, load_rules

SHOP = "https://shop.example"

LANDINGS = {
    # person: (properties of the landing page view, context), expected (touchpoint, source, medium)
    "tiktok-ad": (
        {"url": SHOP + "/lp"},
        {"campaign": {"source": "tiktok", "medium": "paid_social", "name": "spring"}},
        ("social", "tiktok", "paid_social", "spring"),
    ),
    "utm-in-url": (
        {"url": SHOP + "/?utm_source=Newsletter&utm_medium=email&utm_campaign=Week%2012"},
        None,
        ("e-mail", "newsletter", "email", "Week 12"),
    ),
    "gclid": (
        {"url": SHOP + "/p/1?gclid=abc", "referrer": "https://www.google.nl/"},
        None,
        ("paid search", "google", "cpc", None),
    ),
    "organic": (
        {"url": SHOP + "/", "referrer": "https://www.google.de/search?q=jas"},
        None,
        ("organic search", "google", "organic", None),
    ),
    "duck": (
        {"url": SHOP + "/"},
        {"page": {"referrer": "https://duckduckgo.com/"}},
        ("organic search", "duckduckgo", "organic", None),
    ),
    "insta-link": (
        {"url": SHOP + "/", "referrer": "https://l.instagram.com/?u=x"},
        None,
        ("social", "instagram", "social", None),
    ),
    "fbclid": (
        {"url": SHOP + "/?fbclid=IwAR0"},
        None,
        ("social", "(direct)", "social", None),
    ),
    "compare": (
        {"url": SHOP + "/p/2", "referrer": "https://tweakers.net/pricewatch/123"},
        None,
        ("comparison site", "tweakers", "comparison", None),
    ),
    "affiliate": (
        {"url": SHOP + "/?utm_source=awin&utm_medium=affiliate"},
        None,
        ("affiliate", "awin", "affiliate", None),
    ),
    "blog": (
        {"url": SHOP + "/", "referrer": "https://www.modeblog.nl/post/1"},
        None,
        ("referral", "modeblog.nl", "referral", None),
    ),
    "own-site": (
        {"url": SHOP + "/p/3", "referrer": SHOP + "/"},
        None,
        ("direct", "(direct)", "(none)", None),
    ),
    "typed": ({"url": SHOP + "/"}, None, ("direct", "(direct)", "(none)", None)),
    "bing-cpc": (
        {"url": SHOP + "/?utm_source=bing&utm_medium=cpc"},
        None,
        ("paid search", "bing", "cpc", None),
    ),
}


@pytest.fixture
def kr(tmp_path: Path):
    handle = klantreis.open(tmp_path / "s.duckdb")
    yield handle
    handle.close()


def test_every_landing_gets_its_source_medium_campaign_and_touchpoint(kr) -> None:
    people = {
        person: [
            ("Page Viewed", "09:00", {"type": "page", "properties": props, "context": ctx}),
            # later in the session: never the session's source
            ("Page Viewed", "09:05", {"type": "page", "properties": {"url": SHOP + "/?gclid=x"}}),
        ]
        for person, (props, ctx, _) in LANDINGS.items()
    }
    kr.store.append(story(people))
    build(kr.engine)
    rows = kr.sql(
        "SELECT person_id, touchpoint, source, medium, campaign FROM session_sources"
    ).to_pylist()
    got = {r["person_id"]: (r["touchpoint"], r["source"], r["medium"], r["campaign"]) for r in rows}
    assert got == {person: expected for person, (_, _, expected) in LANDINGS.items()}


def test_a_session_without_a_visit_has_no_source_and_a_new_session_its_own(kr) -> None:
    kr.store.append(
        story(
            {
                "anna": [
                    ("Page Viewed", "09:00", {"properties": {"url": SHOP + "/?utm_source=flyer"}}),
                    ("Order Completed", "09:10", {"properties": {"order_id": "o1"}}),
                    (
                        "Order Shipped",
                        "15:00",
                        {"properties": {"order_id": "o1"}, "channel": "carrier"},
                    ),
                    (
                        "Page Viewed",
                        "20:00",
                        {"properties": {"url": SHOP + "/", "referrer": "https://www.bing.com/"}},
                    ),
                ]
            }
        )
    )
    build(kr.engine)
    rows = kr.sql(
        "SELECT s.source, s.touchpoint, j.journey_index FROM session_sources AS s "
        "JOIN journeys AS j USING (journey_id) ORDER BY s.started_at"
    ).to_pylist()
    assert rows == [
        {"source": "flyer", "touchpoint": "referral", "journey_index": 1},
        {"source": "bing", "touchpoint": "organic search", "journey_index": 2},
    ]
    assert kr.sql("SELECT count(*) AS n FROM sessions").to_pylist() == [{"n": 3}]


def test_the_url_is_taken_apart_once_per_landing(kr) -> None:
    """Both the source names (`seen`) and the rows (`named`) read the landings' URL parts; the
    regular expressions that take the URL apart run once, not once per reader (DuckDB inlined
    the step into each, a fifth of the table's time at 10M events)."""
    from klantreis.model.sources import session_sources_query
    from klantreis.store.engines.duckdb.dialect import to_duckdb

    kr.store.append(story({"cy": [("Page Viewed", "09:00", {"type": "page"})]}))
    build(kr.engine)
    plan = kr.store.connection.execute("EXPLAIN " + to_duckdb(session_sources_query().tree))
    text = plan.fetchall()[0][1]
    assert text.count("utm_source=") == 2, text  # the expression and the `LIKE` guarding it


def test_own_rules_file_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "touchpoints:\n  - {id: social, when: [{source: ['@nope']}]}\n"
        "  - {id: direct, when: [{}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceRulesError, match="no group 'nope'"):
        load_rules(str(bad))
    no_default = tmp_path / "rules2.yaml"
    no_default.write_text("touchpoints:\n  - {id: social, when: [{medium: [social]}]}\n")
    with pytest.raises(SourceRulesError, match="catch-all"):
        load_rules(str(no_default))


def test_a_shops_own_rules_apply_through_the_settings(tmp_path: Path, monkeypatch) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "sources: {shopblog: [blog.shop.example]}\n"
        "touchpoints:\n"
        "  - {id: content, label: {en: Content}, medium: content, when: [{source: [shopblog]}]}\n"
        "  - {id: direct, when: [{}]}\n",
        encoding="utf-8",
    )
    (tmp_path / "klantreis.toml").write_text(f'[sources]\nrules = "{rules}"\n', encoding="utf-8")
    monkeypatch.setenv("KLANTREIS_CONFIG", str(tmp_path / "klantreis.toml"))
    handle = klantreis.open(tmp_path / "s.duckdb")
    try:
        props = {"url": SHOP + "/", "referrer": "https://blog.shop.example/tips"}
        handle.store.append(story({"bo": [("Page Viewed", "09:00", {"properties": props})]}))
        from klantreis.model import ensure_built

        ensure_built(handle)
        rows = handle.sql("SELECT source, medium, touchpoint FROM session_sources").to_pylist()
        assert rows == [{"source": "shopblog", "medium": "content", "touchpoint": "content"}]
    finally:
        handle.close()


@pytest.mark.spark
@pytest.mark.slow
def test_the_same_sources_on_spark() -> None:
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    from klantreis.model.sources import session_sources_query
    from klantreis.store.engines.spark.dialect import to_spark

    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
    session = spark.getOrCreate()
    session.sql(
        "CREATE OR REPLACE TEMP VIEW journey_events AS SELECT 'p:s1' AS session_id, "
        "'p' AS person_id, TIMESTAMP'2026-01-01 10:00:00' AS timestamp, 'm1' AS message_id, "
        "'p:j1' AS journey_id, 'web' AS channel"
    )
    context = (
        '{"page": {"url": "https://shop.example/?gclid=1", "referrer": "https://www.google.nl/"}}'
    )
    session.sql(
        "CREATE OR REPLACE TEMP VIEW events AS SELECT 'm1' AS message_id, "
        f"'{context}' AS context, '{{}}' AS properties"
    )
    rows = session.sql(to_spark(session_sources_query().tree)).collect()
    assert [(r.source, r.medium, r.touchpoint, r.referrer_host) for r in rows] == [
        ("google", "cpc", "paid search", "google.nl")
    ]
