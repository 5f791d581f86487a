"""`breaches` and `delights`: the breached and the clearly exceeded cases, as the journey map
(pain points) and the customer timeline read them, derived from `expectation_cases`.

`breaches`: one row per breached case with its person, journey, phase, order/ticket key and
the moment it broke. `delights`: one row per met case that clearly exceeded the promise (within
the rule's delight margin), with the moment it was delivered. Made whole after judging every
rule; after judging a few persons again only their rows are replaced (`rejudge.py`).
"""

from __future__ import annotations

from sqlglot import exp

from klantreis.store.query import Query

BREACHES = """
SELECT expectation_id || ':' || case_id AS breach_id, expectation_id, category, phase,
       person_id, journey_id, order_id, case_key,
       coalesce(due_at, ended_at, started_at) AS breached_at,
       started_at, due_at, ended_at, detail, value
FROM :cases WHERE status = 'breached'
"""

DELIGHTS = """
SELECT expectation_id || ':' || case_id AS delight_id, expectation_id, category, phase,
       person_id, journey_id, order_id, case_key,
       coalesce(ended_at, started_at) AS delighted_at,
       started_at, due_at, ended_at, value
FROM :cases WHERE status = 'met' AND delighted
"""

DERIVED = {"breaches": BREACHES, "delights": DELIGHTS}
"""Each table derived from the cases, by name, with the query that makes it (from `:cases`)."""


def derived(query: str, cases: str = "expectation_cases") -> Query:
    """A derived table's rows from the cases in table `cases` (all of them, or the cases of
    the persons judged again)."""
    return Query(query, cases=exp.to_table(cases))
