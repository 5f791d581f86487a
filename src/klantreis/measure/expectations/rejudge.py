"""Judging again only the persons a model refresh rebuilt.

After new events the model refresh (`model/refresh.py`) rebuilds the affected persons only and
lists them in `refreshed_persons`. Their cases are judged again from their own events; every
other person's cases stay, except those whose status depends on the moment judged at, which
moves with the newest event: `open` cases (the deadline or window has not passed yet) are judged
again too. The persons judged again are therefore
- the refreshed persons, and those with an open case, and
- every person with an event on an order one of those has an event on (a case keyed by an
  order reads all of its events).
A person merged into another is among the refreshed persons (the refresh lists the person an
identifier moved from as well as the one it moved to), so their old cases go; looking for cases
of persons no longer in the model instead read every case and every person (half the time of
finding the persons at 10M events).

Their events are read from `journey_events` once, on their own (a table of a few persons'
events), and their rows of `expectation_cases`, `breaches` and `delights` replaced: the cost
follows the persons judged again, not the store.

Only when the stored cases were judged on the model just before the refresh, with the same
rules, definition, comparison mode and kind code, and the same rules had data; otherwise (and
on engines that cannot delete) everything is judged again. `tests/expectations/
test_rejudge.py` compares the result with judging everything, row by row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klantreis.measure.expectations.derived import DERIVED, derived
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.measure.expectations.cases import Judged
    from klantreis.model.context import Context

REJUDGED = "expectation_rejudged_persons"
"""A scratch table of the persons judged again, dropped after use."""
REJUDGED_EVENTS = "expectation_rejudged_events"
"""A scratch table of their events the rules read (`compile.persons_queries`), dropped after
use."""
REJUDGED_CASES = "expectation_rejudged_cases"
"""A scratch table of their cases, from which their breaches and delights are made (not from
every case again), dropped after use."""

_PERSONS = """
WITH again AS (
    SELECT person_id FROM refreshed_persons
    UNION
    SELECT person_id FROM expectation_cases WHERE status = 'open'
),
orders AS (
    SELECT DISTINCT order_id FROM journey_events
    WHERE order_id IS NOT NULL AND person_id IN (SELECT person_id FROM again)
)
SELECT person_id FROM again
UNION
SELECT person_id FROM journey_events WHERE order_id IN (SELECT order_id FROM orders)
"""

_THEIRS = "person_id IN (SELECT person_id FROM expectation_rejudged_persons)"


def can_rejudge(kr: Context, stored: Judged | None, basis: str, no_data: dict[str, str]) -> bool:
    """Whether the stored cases are those of the model before the last refresh, judged on the
    same basis and rules: then judging the refreshed persons again gives every case."""
    engine = kr.engine
    if stored is None or not stored.model or not engine.capabilities.writable:
        return False
    return (
        stored.basis == basis
        and stored.no_data == no_data
        and kr.store.get_meta("model_refreshed_from") == stored.model
        and engine.has_table("refreshed_persons")
        and engine.has_table("expectation_cases")
        and all(engine.has_table(name) for name in DERIVED)
    )


def rejudge(kr: Context, events: Query, cases: Query) -> None:
    """Replace the cases (and breaches and delights) of the persons judged again: `events`
    reads their events of `journey_events` (stored as `REJUDGED_EVENTS`), `cases` judges them
    from that table and returns their cases only."""
    engine = kr.engine
    engine.create_table_as(REJUDGED, _PERSONS)
    try:
        engine.create_table_as(REJUDGED_EVENTS, events)
        engine.create_table_as(REJUDGED_CASES, cases)
        engine.execute(f"DELETE FROM expectation_cases WHERE {_THEIRS}")  # noqa: S608
        engine.insert_into("expectation_cases", f"SELECT * FROM {REJUDGED_CASES}")  # noqa: S608
        for name, query in DERIVED.items():
            engine.execute(f"DELETE FROM {name} WHERE {_THEIRS}")  # noqa: S608
            engine.insert_into(name, derived(query, REJUDGED_CASES))
    finally:
        for scratch in (REJUDGED_CASES, REJUDGED_EVENTS, REJUDGED):
            engine.execute(f"DROP TABLE IF EXISTS {scratch}")
