"""Conversion as an outcome of opportunities: did a shopping journey reach the order?

The unit is the journey, not the order: every journey in which the person looked at a product
(`Product Viewed`) counts, converted or not. Drivers are what happened *before* the order (or
in the whole journey when there was none), so nothing that only an order brings (a shipment,
a review) explains it:

- each expectation of a phase before the purchase phase breached in the journey before the
  order (a slow page, a search that found nothing). A breach inside the checkout (a failed
  payment) happens only to journeys that reached it, so against all journeys it would be
  credited with the checkout's own conversion; the funnel (`klantreis funnel`) measures it;
- each touchpoint passed in a phase before the purchase phase (the purchase phase's own
  touchpoints, cart and checkout, are the funnel itself and would only restate the outcome);
- each page viewed (the `name` property of `Page Viewed`), for the `MAX_PAGES` pages most
  journeys see.

Controls: the channel the journey started on (top 10) and log of the journey's events in the
phases before the purchase phase, before the order (more browsing means both more chances to
meet a slow page and more intent; the checkout's own events are left out of the count, as only
buyers have them). Above
`MAX_JOURNEYS` journeys a fixed hash sample of them is used, so the driver matrix stays small
at 10M events; the method text says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlglot import exp

from klantreis.model import load_definition
from klantreis.model.build import configured_definition
from klantreis.store.query import Query

if TYPE_CHECKING:
    from klantreis.model.context import Context

MAX_JOURNEYS = 200_000
MAX_PAGES = 30
TOP_CHANNELS = 10

JOURNEYS = """
WITH shopping AS (
    SELECT journey_id FROM journey_events WHERE event = 'Product Viewed'
    GROUP BY journey_id
),
picked AS (
    SELECT j.journey_id, j.person_id, j.converted, j.ordered_at, j.started_at
    FROM journeys AS j JOIN shopping AS s ON s.journey_id = j.journey_id
    WHERE hash(j.journey_id) % :modulus = 0 AND :cut
),
before AS (
    SELECT e.journey_id, count(*) AS events, count(DISTINCT e.session_id) AS sessions,
        arg_min(e.channel, e.timestamp) AS channel
    FROM journey_events AS e JOIN picked AS p ON p.journey_id = e.journey_id
    WHERE (p.ordered_at IS NULL OR e.timestamp < p.ordered_at)
      AND e.phase_index < :purchase_index
    GROUP BY e.journey_id
)
SELECT p.journey_id, p.person_id, CASE WHEN p.converted THEN 1.0 ELSE 0.0 END AS conversion,
    coalesce(b.events, 0) AS events, coalesce(b.sessions, 0) AS sessions, b.channel
FROM picked AS p LEFT JOIN before AS b ON b.journey_id = p.journey_id
"""

SHOPPING_COUNT = """
SELECT count(DISTINCT journey_id) FROM journey_events WHERE event = 'Product Viewed'
"""

BREACHED = """
SELECT DISTINCT b.journey_id, b.expectation_id AS driver, b.phase
FROM breaches AS b JOIN journeys AS j ON j.journey_id = b.journey_id
WHERE (j.ordered_at IS NULL OR b.breached_at < j.ordered_at)
  AND hash(j.journey_id) % :modulus = 0
"""

TOUCHED = """
SELECT DISTINCT e.journey_id, e.touchpoint AS driver
FROM journey_events AS e JOIN journeys AS j ON j.journey_id = e.journey_id
WHERE e.touchpoint IS NOT NULL AND e.phase_index < :purchase_index
  AND (j.ordered_at IS NULL OR e.timestamp < j.ordered_at)
  AND hash(j.journey_id) % :modulus = 0
"""

PAGES = """
WITH seen AS (
    SELECT DISTINCT e.journey_id, e.properties ->> '$.name' AS driver
    FROM journey_events AS e JOIN journeys AS j ON j.journey_id = e.journey_id
    WHERE e.event = 'Page Viewed' AND e.properties ->> '$.name' IS NOT NULL
      AND (j.ordered_at IS NULL OR e.timestamp < j.ordered_at)
),
top AS (
    SELECT driver FROM seen GROUP BY driver ORDER BY count(*) DESC, driver LIMIT :pages
)
SELECT s.journey_id, s.driver FROM seen AS s JOIN top AS t ON t.driver = s.driver
WHERE hash(s.journey_id) % :modulus = 0
"""
"""The drivers of the sampled journeys only (`hash(journey_id) % :modulus = 0`, as `JOURNEYS`
picks them): the rows of the others were looked up and dropped in Python, at 10M events four
in five of 3.6 million. The pages most journeys see are still counted over every journey."""


@dataclass
class ConversionDesign:
    """The journeys (with `conversion` 0/1 and `person_id`), their 0/1 drivers with (kind,
    title) per column, the controls, and a note on sampling."""

    journeys: pd.DataFrame
    drivers: pd.DataFrame
    about: dict[str, tuple[str, str]]
    controls: pd.DataFrame
    note: str


def _modulus(kr: Context) -> int:
    shopping = int(kr.engine.scalar(SHOPPING_COUNT) or 0)
    return max(1, -(-shopping // MAX_JOURNEYS))


def conversion_design(
    kr: Context, cut: exp.Expression, titles: dict[str, str] | None
) -> ConversionDesign | None:
    """Journeys, drivers and controls for the conversion outcome (None without journeys).
    `titles` are the expectations' titles (None: the expectations were not judged)."""
    engine = kr.engine
    definition = load_definition(configured_definition(kr))
    purchase_index = definition.phase_ids.index(definition.purchase_phase or "")
    modulus = _modulus(kr)
    journeys = engine.fetch(
        Query(JOURNEYS, modulus=modulus, cut=cut, purchase_index=purchase_index)
    ).to_pandas()
    if journeys.empty:
        return None
    journeys = journeys.sort_values("journey_id", kind="stable").reset_index(drop=True)
    index = pd.Index(journeys["journey_id"])
    columns: dict[str, np.ndarray] = {}
    about: dict[str, tuple[str, str]] = {}

    def add(kind: str, rows: pd.DataFrame, title: str) -> None:
        position = index.get_indexer(rows["journey_id"])
        rows = rows.assign(position=position)[position >= 0]
        for driver, group in rows.groupby("driver"):
            present = np.zeros(len(index), dtype=bool)
            present[group["position"].to_numpy()] = True
            name = str(driver)
            text = (titles or {}).get(name, name) if kind == "expectation" else title + name
            if kind == "touchpoint" and present.mean() > 0.5:
                present, name, text = ~present, f"no {name}", f"No {name} in the journey"
            columns[f"{kind}:{name}"] = present.astype(float)
            about[f"{kind}:{name}"] = (kind, text)

    if titles is not None and engine.has_table("breaches"):
        breached = engine.fetch(Query(BREACHED, modulus=modulus)).to_pandas()
        early = definition.phase_ids[:purchase_index]
        add("expectation", breached[breached["phase"].isin(early)], "")
    touched = Query(TOUCHED, purchase_index=purchase_index, modulus=modulus)
    add("touchpoint", engine.fetch(touched).to_pandas(), "Touchpoint: ")
    add("page", engine.fetch(Query(PAGES, pages=MAX_PAGES, modulus=modulus)).to_pandas(), "Page: ")
    drivers = pd.DataFrame(columns, index=range(len(journeys)))
    channel = journeys["channel"].fillna("unknown").astype(str)
    channel = channel.where(channel.isin(channel.value_counts().index[:TOP_CHANNELS]), "other")
    controls = pd.concat(
        [
            pd.DataFrame({"log_events": np.log1p(journeys["events"].astype(float))}),
            pd.get_dummies(channel, prefix="channel", drop_first=True, dtype=float),
        ],
        axis=1,
    )
    note = "" if modulus == 1 else f"; a fixed 1-in-{modulus} sample of the journeys"
    return ConversionDesign(journeys, drivers, about, controls, note)
