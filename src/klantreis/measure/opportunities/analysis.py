"""The `opportunities` analysis: its query, its typed result, and the two rankings (by the
outcome lost in total, or by the customer value of the persons hit)."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from klantreis.measure.contract import AnalysisQuery, AnalysisResult
from klantreis.measure.opportunities.estimates import key_drivers
from klantreis.measure.opportunities.outcomes import OUTCOMES, Opportunity, OpportunityError
from klantreis.measure.opportunities.stored import read_stored, state, write_stored
from klantreis.measure.registry import analysis

if TYPE_CHECKING:
    from klantreis.model.context import Context


def ranked(found: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The opportunities as one list per outcome, in outcome order."""
    lists: dict[str, list[dict[str, Any]]] = {}
    for item in found:
        lists.setdefault(item["outcome"], []).append(item)
    return lists


class Opportunities(AnalysisResult):
    """What to fix first, one ranked list per outcome in outcome order (`by_outcome()`);
    `as_json()` is the flat list `klantreis opportunities --json` prints."""

    opportunities: list[Opportunity]

    def by_outcome(self) -> dict[str, list[Opportunity]]:
        lists: dict[str, list[Opportunity]] = {}
        for item in self.opportunities:
            lists.setdefault(item.outcome, []).append(item)
        return lists

    def as_json(self) -> Any:
        return [asdict(o) for o in self.opportunities]


class OpportunitiesQuery(AnalysisQuery):
    """`kr.opportunities(...)`, `klantreis opportunities`."""

    persona: str | None = Field(None, description="Only persons of this persona.")
    outcome: (
        Literal["review_score", "nps", "repeat_purchase", "conversion", "customer_value"] | None
    ) = Field(
        None,
        description="review_score, nps, repeat_purchase, conversion or customer_value "
        "(default all).",
    )
    by: Literal["impact", "value"] = Field(
        "impact",
        description="Rank by the outcome lost in total (impact) or by the customer value of "
        "the persons hit (value).",
    )


@analysis("opportunities", query=OpportunitiesQuery, result=Opportunities)
def opportunities(
    kr: Context, *, persona: str | None = None, outcome: str | None = None, by: str = "impact"
) -> Opportunities:
    """What to fix first: per outcome, the drivers that measurably cost it, ranked by the
    outcome lost in total (see the module docstring), with the evidence and units.

    Grouped by outcome (review score, NPS, repeat purchase), each group ranked 1, 2, …; read
    from `opportunity_results` when nothing they rest on has changed, else computed and stored.
    """
    if outcome is not None and outcome not in OUTCOMES:
        raise OpportunityError(f"outcome: unknown outcome {outcome!r} (use {', '.join(OUTCOMES)})")
    fingerprint = state(kr, persona)
    found = read_stored(kr, persona, fingerprint)
    if found is None:
        started = time.perf_counter()
        found = [asdict(o) for o in key_drivers(kr, persona=persona) if o.rank]
        write_stored(kr, persona, fingerprint, found, time.perf_counter() - started)
    chosen = [o for o in found if outcome is None or o["outcome"] == outcome]
    if by == "value":
        chosen = by_value(chosen)
    return Opportunities(opportunities=[Opportunity(**o) for o in chosen])


def by_value(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each outcome's opportunities ranked by the customer value of the persons hit, largest
    first (ties by the outcome lost), ranks renumbered."""
    ordered: list[dict[str, Any]] = []
    for items in ranked(found).values():
        items = sorted(
            items, key=lambda o: (-(o.get("value_at_stake") or 0.0), -o["impact"], o["title"])
        )
        ordered.extend({**o, "rank": place} for place, o in enumerate(items, start=1))
    return ordered
