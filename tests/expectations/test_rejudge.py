"""After a model refresh only the refreshed persons (and open cases) are judged again, and the
cases are those of judging everything, row by row."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from stories import event_row, story

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.measure.expectations import cases
from klantreis.measure.expectations.cases import ensure_cases
from klantreis.measure.expectations.rejudge import REJUDGED_CASES
from klantreis.store.schema import EVENT_ARROW_SCHEMA

CASE_TABLES = ("expectation_cases", "breaches", "delights")


@pytest.fixture(scope="module")
def shop() -> tuple[pa.Table, pa.Table]:
    """The demo's shop, and new events of a few customers: every tenth of their events late
    (inside what was judged), an alias merging two customers, and a page view sixty days after
    the newest event, which moves the moment judged at: open cases of customers without new
    events pass their deadline."""
    batches = simulate(SimulatorConfig(persons=300, seed=11)).iter_batches(1_000_000)
    table = pa.concat_tables(list(batches)).cast(EVENT_ARROW_SCHEMA).sort_by("message_id")
    customers = sorted(set(table.column("user_id").drop_null().to_pylist()))
    few = set(customers[:8])
    users = table.column("user_id").to_pylist()
    late = pa.array([users[i] in few and i % 10 == 5 for i in range(table.num_rows)])
    base, increment = table.filter(pc.invert(late)), table.filter(late)
    at = max(base.column("timestamp").to_pylist()) + timedelta(days=60)
    blank = dict.fromkeys(EVENT_ARROW_SCHEMA.names)
    common = {"timestamp": at, "received_at": at, "channel": "web", "source": "test"}
    extra = [
        {**blank, **common, "message_id": "rejudge-alias", "type": "alias", "event": "Alias",
         "user_id": customers[3], "previous_id": customers[4]},
        {**blank, **common, "message_id": "rejudge-view", "type": "track",
         "event": "Page Viewed", "user_id": customers[9], "properties": "{}"},
    ]  # fmt: skip
    extra_table = pa.Table.from_pylist(extra, schema=EVENT_ARROW_SCHEMA)
    return base, pa.concat_tables([increment, extra_table])


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per re-judging of a few persons (the real one runs)."""
    seen: list[int] = []
    real = cases.rejudge

    def counted(kr, events, query):
        seen.append(1)
        real(kr, events, query)

    monkeypatch.setattr(cases, "rejudge", counted)
    return seen


def _rows(kr: klantreis.Klantreis, table: str) -> list[str]:
    return sorted(repr(tuple(r.values())) for r in kr.sql(f"SELECT * FROM {table}").to_pylist())


def test_rejudging_the_refreshed_persons_equals_judging_everything(
    tmp_path: Path, shop, calls: list[int]
) -> None:
    base, increment = shop

    kept = klantreis.open(tmp_path / "kept.duckdb")
    kept.store.append(base)
    assert ensure_cases(kept).rebuilt and not calls
    open_before = kept.sql(
        "SELECT count(*) AS n FROM expectation_cases WHERE status = 'open'"
    ).to_pylist()[0]["n"]
    kept.store.append(increment)
    judged = ensure_cases(kept)
    refreshed = kept.sql("SELECT count(*) AS n FROM refreshed_persons").to_pylist()
    assert judged.rebuilt and calls == [1], "the refreshed persons were not judged alone"
    assert kept.store.get_meta("model_refreshed_from")
    assert not kept.engine.has_table(cases.REJUDGED)
    assert not kept.engine.has_table(cases.REJUDGED_EVENTS)
    assert not kept.engine.has_table(REJUDGED_CASES)

    whole = klantreis.open(tmp_path / "whole.duckdb")
    whole.store.append(pa.concat_tables([base, increment]))
    assert ensure_cases(whole).rebuilt and calls == [1]
    assert whole.store.get_meta("model_refreshed_from") == ""
    for table in CASE_TABLES:
        assert _rows(kept, table) == _rows(whole, table), table
    assert open_before and len(_rows(kept, "breaches")) > 10
    open_after = kept.sql(
        "SELECT count(*) AS n FROM expectation_cases WHERE status = 'open'"
    ).to_pylist()[0]["n"]
    assert open_after < open_before  # the moment moved: open cases were judged again
    persons = kept.sql("SELECT count(*) AS n FROM persons").to_pylist()[0]["n"]
    assert 0 < refreshed[0]["n"] < persons / 4  # few were refreshed
    assert kept.expectations().to_dict() == whole.expectations().to_dict()
    kept.close()
    whole.close()


def test_other_rules_judge_everything_again(tmp_path: Path, shop, monkeypatch) -> None:
    base, increment = shop
    calls: list[int] = []
    monkeypatch.setattr(cases, "rejudge", lambda kr, events, query: calls.append(1))
    kr = klantreis.open(tmp_path / "s.duckdb")
    kr.store.append(base)
    ensure_cases(kr)
    kr.store.append(increment)
    ensure_cases(kr, compare="day")  # another comparison: nothing stored rests on it
    assert not calls
    kr.close()


def _merges() -> tuple[pa.Table, pa.Table]:
    """Three persons in the base events; the new ones merge them: an alias makes bob ann (two
    tickets on one topic within days become a repeat, two orders one customer's), and an
    identify call ties an anonymous visitor's search to cas, who viewed a product right after
    it (the search led somewhere after all). A later page view moves the moment judged at."""
    ticket = {"properties": {"ticket_id": "t1", "topic": "delivery"}}
    order = {"properties": {"order_id": "o1", "promised_delivery_date": "2026-03-04T00:00:00"}}
    base = story(
        {
            "ann": [
                ("Ticket Created", "09:00", ticket),
                ("Order Completed", "10:00", order),
                ("Order Delivered", "2026-03-05T10:00", {"properties": {"order_id": "o1"}}),
            ],
            "bob": [
                ("Ticket Created", "2026-03-04T09:00", {"properties": {"ticket_id": "t2",
                                                                       "topic": "delivery"}}),
                ("Products Searched", "11:00", {"properties": {"results": 4}}),
            ],
            "v1": [("Products Searched", "12:00", {"anonymous": True,
                                                   "properties": {"results": 2}})],
            "cas": [("Product Viewed", "12:10")],
        }
    )  # fmt: skip
    alias = event_row("ann", "Alias", "2026-03-06T09:00", type="alias") | {"previous_id": "bob"}
    link = event_row("cas", "Identify", "2026-03-06T09:05", type="identify", anonymous_id="v1")
    later = event_row("dan", "Page Viewed", "2026-04-20T09:00")
    merged = pa.Table.from_pylist([alias, link, later], schema=EVENT_ARROW_SCHEMA)
    return base, merged


def test_rejudging_after_merges_of_persons_equals_judging_everything(
    tmp_path: Path, calls: list[int]
) -> None:
    base, merged = _merges()
    kept = klantreis.open(tmp_path / "kept.duckdb")
    kept.store.append(base)
    ensure_cases(kept)
    before = _rows(kept, "expectation_cases")
    kept.store.append(merged)
    ensure_cases(kept)
    assert calls == [1], "the merged persons were not judged alone"
    whole = klantreis.open(tmp_path / "whole.duckdb")
    whole.store.append(pa.concat_tables([base, merged]))
    ensure_cases(whole)
    for table in CASE_TABLES:
        assert _rows(kept, table) == _rows(whole, table), table
    assert _rows(kept, "expectation_cases") != before
    rows = kept.sql("SELECT expectation_id, person_id, status FROM expectation_cases").to_pylist()
    repeats = sorted(r["status"] for r in rows if r["expectation_id"] == "support_no_repeat")
    assert repeats == ["breached", "met"]  # bob's ticket is ann's now: raised again
    searches = [r["status"] for r in rows if r["expectation_id"] == "search_leads_to_product"]
    assert "met" in searches  # the visitor's search is cas's, who viewed a product after it
    assert len({r["person_id"] for r in rows}) == 2  # ann (with bob), cas (with the visitor)
    kept.close()
    whole.close()
