"""Source, medium, campaign and acquisition touchpoint as a breakdown or a cut.

The names a user types (`--breakdown source`, `--breakdown campaign.source` as the event's
`context.campaign.source` reads, `--by medium`) resolve to a column of `session_sources`. An
event takes the source of its session: analyses read `journey_events` with that column joined on
`session_id`, one equality join whose build side is the (much smaller) table of visits.
"""

from __future__ import annotations

from sqlglot import exp

from klantreis.store.query import Query, identifier

BREAKDOWNS = {
    "source": "source",
    "medium": "medium",
    "campaign": "campaign",
    "acquisition": "touchpoint",
    "campaign.source": "source",
    "campaign.medium": "medium",
    "campaign.name": "campaign",
    "utm_source": "source",
    "utm_medium": "medium",
    "utm_campaign": "campaign",
}
"""Breakdown name -> `session_sources` column. These names mean the session's source, never an
event property of the same name."""

SOURCE_COLUMN = "_kr_source"

_JOINED = """
SELECT j.*, s.source_column AS _kr_source
FROM journey_events AS j LEFT JOIN session_sources AS s ON s.session_id = j.session_id
"""
"""The column the joined source takes inside a query."""


def source_column(breakdown: str | None) -> str | None:
    """The `session_sources` column a breakdown name means, or None for an event property."""
    return BREAKDOWNS.get(breakdown or "")


def with_source(tree: exp.Expression, column: str) -> exp.Expression:
    """`tree` with every read of `journey_events` reading it with the session's `column` as
    `_kr_source` (a LEFT JOIN: events outside a visit keep their rows, with NULL)."""
    joined = Query(_JOINED).tree.transform(
        lambda node: (
            exp.column(identifier(column), table="s")
            if isinstance(node, exp.Column) and node.name == "source_column"
            else node
        )
    )

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name == "journey_events" and not node.db:
            alias = exp.TableAlias(this=exp.to_identifier(node.alias or "journey_events"))
            return exp.Subquery(this=joined.copy(), alias=alias)
        return node

    return tree.transform(swap)
