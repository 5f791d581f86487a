"""Plain-language names and descriptions of discovered groups, from what sets them apart.

A group is described by the features on which its centre lies furthest from everyone's
(in standard deviations of the scaled features), phrased with the raw numbers a shop owner
recognises: "Careful comparers: 3.1× more filter use, longer consideration, rarely return".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from klantreis.measure.personas.features import BY_NAME

NAMES: dict[tuple[str, str], str] = {
    ("filters_per_session", "high"): "Careful comparers",
    ("searches_per_session", "high"): "Careful comparers",
    ("product_views_per_session", "high"): "Careful comparers",
    ("consideration_hours", "high"): "Careful comparers",
    ("coupon_rate", "high"): "Bargain hunters",
    ("promo_clicks", "high"): "Bargain hunters",
    ("orders", "high"): "Loyal regulars",
    ("app_share", "high"): "App regulars",
    ("social_share", "high"): "Social-media shoppers",
    ("items_per_order", "high"): "Basket fillers",
    ("email_engagement", "high"): "Newsletter readers",
    ("return_rate", "high"): "Frequent returners",
    ("support_contacts", "high"): "Service seekers",
    ("order_value", "high"): "Big spenders",
    ("order_value", "low"): "Small-basket buyers",
    ("consideration_hours", "low"): "Quick deciders",
    ("session_minutes", "low"): "Quick deciders",
    ("product_views_per_session", "low"): "Quick deciders",
    ("conversion", "low"): "Window shoppers",
    ("conversion", "high"): "Decided buyers",
    ("review_score", "low"): "Disappointed customers",
    ("review_score", "high"): "Satisfied reviewers",
    ("sentiment", "low"): "Unhappy voices",
    ("orders", "low"): "One-time buyers",
    ("filters_per_session", "low"): "Casual browsers",
    ("searches_per_session", "low"): "Casual browsers",
}
"""Which name a group gets from its most distinguishing feature and direction."""

MIN_DISTANCE = 0.25
"""Scaled distance from the overall centre below which a feature is not called distinctive."""


@dataclass(frozen=True)
class Trait:
    feature: str
    direction: str
    distance: float
    group_mean: float
    overall_mean: float

    def phrase(self) -> str:
        feature = BY_NAME[self.feature]
        more = "more" if self.direction == "high" else "less"
        if feature.skewed and self.overall_mean > 0:
            ratio = self.group_mean / self.overall_mean
            if self.direction == "high" and ratio >= 1.5:
                return f"{ratio:.1f}× more {feature.label}"
            if self.direction == "low" and ratio <= 0.2:
                return f"hardly any {feature.label}"
            if self.direction == "low" and ratio <= 0.67:
                return f"{1 / max(ratio, 1e-9):.1f}× less {feature.label}"
            return f"{more} {feature.label}"
        higher = "higher" if self.direction == "high" else "lower"
        if feature.name.endswith(("share", "rate")) or feature.name == "conversion":
            return f"{higher} {feature.label} ({self.group_mean:.0%} vs {self.overall_mean:.0%})"
        return f"{higher} {feature.label} ({self.group_mean:.2g} vs {self.overall_mean:.2g})"


def traits_of(
    centre: np.ndarray,
    names: list[str],
    group_means: dict[str, float],
    overall_means: dict[str, float],
    limit: int = 4,
) -> list[Trait]:
    """The features that set a group apart, furthest first."""
    order = np.argsort(-np.abs(centre))
    traits = []
    for i in order[:limit]:
        if abs(centre[i]) < MIN_DISTANCE:
            break
        name = names[i]
        traits.append(
            Trait(
                name,
                "high" if centre[i] > 0 else "low",
                float(centre[i]),
                group_means[name],
                overall_means[name],
            )
        )
    return traits


def name_groups(all_traits: list[list[Trait]]) -> list[str]:
    """A distinct name per group: the name of its strongest trait not taken by a group that
    is more clearly that kind (a larger distance wins the name)."""
    claims: list[tuple[float, int, str]] = []
    for g, traits in enumerate(all_traits):
        for t in traits:
            name = NAMES.get((t.feature, t.direction))
            if name:
                claims.append((abs(t.distance), g, name))
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for _distance, g, name in sorted(claims, key=lambda c: (-c[0], c[1])):
        if g in chosen or name in taken:
            continue
        chosen[g] = name
        taken.add(name)
    names = []
    for g in range(len(all_traits)):
        names.append(chosen.get(g) or f"Group {g + 1}")
    return names


def describe(name: str, traits: list[Trait]) -> str:
    if not traits:
        return f"{name}: close to the average customer on every feature"
    return f"{name}: " + ", ".join(t.phrase() for t in traits)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
