"""Person features: how each person searches, considers, buys, uses channels and complains.

One static query over the model's tables (`journey_events`, `sessions`, `journeys`) returns one
row per person as Arrow, so discovery never loads events into Python. Sources that a store does
not have simply come out as NULL or zero for everyone; `usable_features` then leaves them out
(an Olist store has no searches or app use, and clusters on what it does have).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlglot import exp

from klantreis.store.engines.base import Engine
from klantreis.store.query import Query, statement


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    """Plain words for descriptions: '3.1× more {label}'."""
    skewed: bool = True
    """Counts, money and durations are log-scaled before clustering; shares are not."""


FEATURES: tuple[Feature, ...] = (
    Feature("searches_per_session", "searching"),
    Feature("filters_per_session", "filter use"),
    Feature("product_views_per_session", "product views per visit"),
    Feature("session_minutes", "time per visit"),
    Feature("consideration_hours", "consideration time"),
    Feature("orders", "orders"),
    Feature("conversion", "visits that end in an order", skewed=False),
    Feature("order_value", "order value"),
    Feature("items_per_order", "products per order"),
    Feature("social_share", "visits from social media", skewed=False),
    Feature("app_share", "app use", skewed=False),
    Feature("email_engagement", "e-mail opens and clicks"),
    Feature("promo_clicks", "promotion clicks"),
    Feature("coupon_rate", "coupon use", skewed=False),
    Feature("return_rate", "returns", skewed=False),
    Feature("support_contacts", "contact with service"),
    Feature("review_score", "review score", skewed=False),
    Feature("sentiment", "sentiment", skewed=False),
)
BY_NAME = {f.name: f for f in FEATURES}

PERSON_FEATURES = Query(
    """
WITH ev AS (
    SELECT person_id,
        count(*) AS events,
        count(DISTINCT session_id) AS sessions,
        count(DISTINCT journey_id) AS journeys,
        count(*) FILTER (WHERE event = 'Products Searched') AS searches,
        count(*) FILTER (WHERE event = 'Product List Filtered') AS filters,
        count(*) FILTER (WHERE event = 'Product Viewed') AS product_views,
        count(DISTINCT order_id) FILTER (WHERE event = 'Order Completed') AS orders,
        avg(json_array_length(json_extract(properties, '$.products')))
            FILTER (WHERE event = 'Order Completed') AS items_per_order,
        avg(coalesce(TRY_CAST(properties ->> '$.total' AS DOUBLE),
                     TRY_CAST(properties ->> '$.revenue' AS DOUBLE)))
            FILTER (WHERE event = 'Order Completed') AS order_value,
        count(*) FILTER (WHERE channel = 'app') AS app_events,
        count(*) FILTER (WHERE channel IN ('app', 'web')) AS site_events,
        count(*) FILTER (WHERE event IN ('Email Opened', 'Email Link Clicked')) AS email_actions,
        count(*) FILTER (WHERE event = 'Promotion Clicked') AS promo_clicks,
        count(DISTINCT order_id) FILTER (WHERE event = 'Coupon Applied') AS coupon_orders,
        count(DISTINCT order_id) FILTER (WHERE event = 'Return Requested') AS returned_orders,
        count(*) FILTER (WHERE event IN ('Ticket Created', 'Live Chat Conversation Started'))
            AS support_contacts,
        avg(TRY_CAST(properties ->> '$.rating' AS DOUBLE))
            FILTER (WHERE event IN ('Review Submitted', 'Product Reviewed')) AS review_score,
        arg_max(properties ->> '$.region', timestamp)
            FILTER (WHERE event = 'Order Completed') AS region
    FROM journey_events
    GROUP BY person_id
),
campaigns AS (
    SELECT je.person_id,
        avg(CASE WHEN raw.context ->> '$.campaign.medium' LIKE '%social%' THEN 1.0 ELSE 0.0 END)
            AS social_share
    FROM journey_events AS je JOIN events AS raw ON raw.message_id = je.message_id
    WHERE raw.context ->> '$.campaign.medium' IS NOT NULL
    GROUP BY je.person_id
),
visits AS (
    SELECT person_id, avg(date_diff('second', started_at, ended_at)) / 60.0 AS session_minutes
    FROM sessions GROUP BY person_id
),
looked AS (
    SELECT j.person_id, j.journey_id, j.ordered_at, min(e.timestamp) AS first_look
    FROM journeys AS j
    JOIN journey_events AS e ON e.journey_id = j.journey_id
    WHERE j.converted AND e.event IN ('Product Viewed', 'Products Searched')
    GROUP BY j.person_id, j.journey_id, j.ordered_at
),
considered AS (
    SELECT person_id,
        median(greatest(date_diff('second', first_look, ordered_at), 0) / 3600.0)
            AS consideration_hours
    FROM looked GROUP BY person_id
)
SELECT ev.person_id, p.user_id, ev.events,
    CAST(ev.searches AS DOUBLE) / ev.sessions AS searches_per_session,
    CAST(ev.filters AS DOUBLE) / ev.sessions AS filters_per_session,
    CAST(ev.product_views AS DOUBLE) / ev.sessions AS product_views_per_session,
    v.session_minutes,
    c.consideration_hours,
    ev.orders,
    CAST(ev.orders AS DOUBLE) / greatest(ev.journeys, 1) AS conversion,
    ev.order_value,
    ev.items_per_order,
    m.social_share,
    CAST(ev.app_events AS DOUBLE) / nullif(ev.site_events, 0) AS app_share,
    ev.email_actions AS email_engagement,
    ev.promo_clicks,
    CAST(ev.coupon_orders AS DOUBLE) / nullif(ev.orders, 0) AS coupon_rate,
    CAST(ev.returned_orders AS DOUBLE) / nullif(ev.orders, 0) AS return_rate,
    ev.support_contacts,
    ev.review_score,
    ev.region
FROM ev
LEFT JOIN persons AS p ON p.person_id = ev.person_id
LEFT JOIN visits AS v ON v.person_id = ev.person_id
LEFT JOIN campaigns AS m ON m.person_id = ev.person_id
LEFT JOIN considered AS c ON c.person_id = ev.person_id
ORDER BY ev.person_id
"""
)

PERSON_SENTIMENT = Query(
    """
SELECT coalesce(iu.person_id, ia.person_id) AS person_id, avg(v.sentiment) AS sentiment
FROM voice AS v
LEFT JOIN identities AS iu ON iu.id_kind = 'user_id' AND iu.id = v.user_id
LEFT JOIN identities AS ia ON ia.id_kind = 'anonymous_id' AND ia.id = v.anonymous_id
WHERE v.sentiment IS NOT NULL
GROUP BY 1
"""
)
"""Mean sentiment of what the person wrote, when the voice module has scored texts."""


def person_features(engine: Engine) -> pd.DataFrame:
    """One row per person with every feature (NULL where the store has no source for it)."""
    table: pa.Table = engine.fetch(PERSON_FEATURES)
    frame = table.to_pandas()
    if engine.has_table("voice"):
        sentiment = engine.fetch(PERSON_SENTIMENT).to_pandas()
        frame = frame.merge(sentiment, on="person_id", how="left")
    else:
        frame["sentiment"] = np.nan
    for feature in FEATURES:
        frame[feature.name] = pd.to_numeric(frame[feature.name], errors="coerce").astype(float)
    return frame


def usable_features(frame: pd.DataFrame, min_coverage: float = 0.5) -> list[str]:
    """Features that vary and are known for enough persons to tell groups apart.

    A feature every person has at the same value (no searches in an Olist store) carries no
    information; one known for fewer than half the persons (review score where few review)
    would mostly be the filled-in median, which blurs the groups (measured on the simulator).
    """
    names = []
    for feature in FEATURES:
        column = frame[feature.name]
        known = column.notna().mean() if len(column) else 0.0
        if known < min_coverage or column.nunique(dropna=True) < 2:
            continue
        names.append(feature.name)
    return names


def matrix(frame: pd.DataFrame, names: list[str], fill: dict[str, float]) -> np.ndarray:
    """The raw feature matrix, NULLs filled with the training medians and skew taken out.

    Skewed features (counts, money, durations) are log1p-scaled so a handful of extreme persons
    do not decide the groups; the scaler that follows is fitted on this.
    """
    columns = []
    for name in names:
        values = frame[name].astype(float).fillna(fill.get(name, 0.0)).to_numpy()
        if BY_NAME[name].skewed:
            values = np.log1p(np.clip(values, 0.0, None))
        columns.append(values)
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


FEATURE_TABLE = "_kr_person_features"
"""Every grouped person's features, computed once per discovery and dropped after it: the
statistics, the fitting sample and the pages of the assignment all read it."""

FIT_SAMPLE = 200_000
"""Persons the scaler and the clustering are fitted on (all of them up to here).

k-means centres are group means: with 200,000 persons and groups of at least a few per cent,
each centre rests on thousands of persons, its standard error a hundredth of a standard
deviation or less per feature, while the groups lie a standard deviation or more apart. The
silhouette that chooses k is computed on 4,000 of them anyway. Beyond this the features of
every person never sit in Python at once: they are assigned page by page (`PAGE`)."""
PAGE = 200_000
"""Persons assigned per page: a page's features and their float copies stay some ten MB."""


def feature_table(engine: Engine, min_events: int) -> int:
    """Compute every feature of each person with `min_events`+ events into `FEATURE_TABLE`
    (numbered by person id in `position`), in the engine; returns how many persons."""
    features = statement(PERSON_FEATURES.tree).subquery("f")
    columns: list[exp.Expr] = [exp.column("person_id", "f"), exp.column("events", "f")]
    for feature in FEATURES:
        source: exp.Expr = (
            exp.column("sentiment", "s")
            if feature.name == "sentiment"
            else exp.column(feature.name, "f")
        )
        if feature.name == "sentiment" and not engine.has_table("voice"):
            source = exp.null()
        columns.append(exp.cast(source, "DOUBLE").as_(feature.name))
    position = "row_number() OVER (ORDER BY f.person_id) - 1"
    select = exp.select(*columns, exp.maybe_parse(position).as_("position")).from_(features)
    if engine.has_table("voice"):
        sentiment = statement(PERSON_SENTIMENT.tree).subquery("s")
        select = select.join(sentiment, on="s.person_id = f.person_id", join_type="left")
    select = select.where(exp.condition("f.events >= :min_events"))
    engine.execute(Query(f"DROP TABLE IF EXISTS {FEATURE_TABLE}"))
    engine.create_table_as(FEATURE_TABLE, Query(select, min_events=min_events))
    return int(engine.scalar(Query(f"SELECT count(*) FROM {FEATURE_TABLE}")) or 0)  # noqa: S608


def feature_statistics(engine: Engine) -> dict[str, dict[str, float | None]]:
    """Per feature over `FEATURE_TABLE`: known (share not NULL), lowest, highest, median."""
    parts = ["count(*) AS persons"]
    for f in FEATURES:
        parts += [
            f"count({f.name}) AS {f.name}__known",
            f"min({f.name}) AS {f.name}__low",
            f"max({f.name}) AS {f.name}__high",
            f"median({f.name}) AS {f.name}__median",
        ]
    row = engine.rows(Query(f"SELECT {', '.join(parts)} FROM {FEATURE_TABLE}"))[0]  # noqa: S608
    persons = int(row["persons"] or 0)
    found: dict[str, dict[str, float | None]] = {}
    for f in FEATURES:
        known = int(row[f"{f.name}__known"] or 0)
        found[f.name] = {
            "known": known / persons if persons else 0.0,
            "low": row[f"{f.name}__low"],
            "high": row[f"{f.name}__high"],
            "median": None if row[f"{f.name}__median"] is None else float(row[f"{f.name}__median"]),
        }
    return found


def usable_names(
    statistics: dict[str, dict[str, float | None]], min_coverage: float = 0.5
) -> list[str]:
    """`usable_features` from the statistics of `FEATURE_TABLE` (same rule)."""
    names = []
    for feature in FEATURES:
        s = statistics[feature.name]
        known = float(s["known"] or 0.0)
        if known < min_coverage or s["low"] is None or s["low"] == s["high"]:
            continue
        names.append(feature.name)
    return names


def fitting_sample(engine: Engine, persons: int, names: list[str]) -> pa.Table:
    """The persons the model is fitted on, in person-id order: every person up to
    `FIT_SAMPLE`, else the `FIT_SAMPLE` with the lowest md5 of their id (fixed, and the
    same on every engine)."""
    wanted = ", ".join(["person_id", "position", *names])
    if persons <= FIT_SAMPLE:
        sql = f"SELECT {wanted} FROM {FEATURE_TABLE} ORDER BY position"  # noqa: S608
        return engine.fetch(Query(sql))
    sql = f"""
SELECT {wanted} FROM (
    SELECT {wanted} FROM {FEATURE_TABLE} ORDER BY md5(person_id), person_id LIMIT :sample
) AS picked ORDER BY position
"""  # noqa: S608
    return engine.fetch(Query(sql, sample=FIT_SAMPLE))


def pages(engine: Engine, persons: int, names: list[str]) -> Iterator[pa.Table]:
    """Every person's features, `PAGE` persons at a time, in person-id order."""
    wanted = ", ".join(["person_id", "position", *names])
    for start in range(0, persons, PAGE):
        sql = (
            f"SELECT {wanted} FROM {FEATURE_TABLE} "  # noqa: S608
            "WHERE position >= :start AND position < :stop ORDER BY position"
        )
        yield engine.fetch(Query(sql, start=start, stop=start + PAGE))


def drop_feature_table(engine: Engine) -> None:
    engine.execute(Query(f"DROP TABLE IF EXISTS {FEATURE_TABLE}"))


def table_matrix(table: pa.Table, names: list[str], fill: dict[str, float]) -> np.ndarray:
    """`matrix` of an Arrow table of features (only its feature columns become numpy)."""
    columns = {}
    for name in names:
        values = table.column(name).to_numpy(zero_copy_only=False)
        columns[name] = pd.Series(np.asarray(values, dtype=float))
    return matrix(pd.DataFrame(columns), names, fill)
