"""`customer_values`: one row per buyer, fitted per store from the orders in the model.

Orders are aggregated per person in SQL first (one scan of `journey_events` for the purchase
event, grouped by person and purchase day), so the fit sees one row per person however many
events the store holds. Purchases on the same day count once (as in the BG/NBD papers); a
purchase's amount is its `revenue`, else `total`, else `value` property.

Which method: BG/NBD with Gamma-Gamma when enough buyers came back (at least
`MIN_REPEAT_BUYERS` persons and `MIN_REPEAT_SHARE` of the buyers with a repeat purchase
day); otherwise the probabilistic fit would rest on a handful of people, and each person gets
an RFM score only (recency, frequency and revenue in quintiles), with no expected future
revenue. The RFM score is filled under both methods. The reason for the choice is stored with
the fit (`meta` key `customer_values_fit`).

The table is rebuilt when the model changes (its fingerprint in `meta`), by the server's routine
after the model and the cases, so pages and the revenue-at-risk figures only read it.

On an engine that only reads events (Spark) the table is one of the engine's derived tables,
its fingerprint and fit in the engine's state: with `tables_path` in the lake, where the
scheduled job that first needs them (`klantreis expectations`) stores them, and a lake's
dashboard reads them there instead of fitting them in its own memory on a request.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from klantreis.measure.value.models import fit_bgnbd, fit_gamma_gamma
from klantreis.model import ensure_built, load_definition
from klantreis.model.build import configured_definition
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, columns, register_table

if TYPE_CHECKING:
    from klantreis.model.context import Context

VERSION = "2"
"""Part of the stored table's fingerprint: bump when the method or the columns change."""
HORIZON_WEEKS = 52
"""Expected purchases and revenue are for this many weeks after the last event (stored table)."""
MIN_REPEAT_BUYERS = 100
MIN_REPEAT_SHARE = 0.05

CUSTOMER_VALUES = register_table(
    TableSpec(
        "customer_values",
        columns=columns(
            ("person_id", "VARCHAR"),
            ("orders", "BIGINT"),
            ("revenue", "DOUBLE"),
            ("first_order_at", "TIMESTAMP"),
            ("last_order_at", "TIMESTAMP"),
            ("repeat_purchases", "BIGINT"),
            ("recency_weeks", "DOUBLE"),
            ("age_weeks", "DOUBLE"),
            ("repeat_order_value", "DOUBLE"),
            ("expected_purchases", "DOUBLE"),
            ("expected_order_value", "DOUBLE"),
            ("expected_revenue", "DOUBLE"),
            ("p_alive", "DOUBLE"),
            ("rfm", "VARCHAR"),
            ("rfm_score", "INTEGER"),
            ("method", "VARCHAR"),
        ),
        key=("person_id",),
        person_id_columns=("person_id",),
        derived=True,
        doc="a buyer's customer value: revenue to date, expected purchases and revenue "
        "(BG/NBD, Gamma-Gamma), probability alive, RFM score",
    )
)

SUMMARY = """
WITH orders AS (
    SELECT person_id, order_id, min(timestamp) AS ordered_at,
        arg_min(coalesce(TRY_CAST(properties ->> '$.revenue' AS DOUBLE),
                         TRY_CAST(properties ->> '$.total' AS DOUBLE),
                         TRY_CAST(properties ->> '$.value' AS DOUBLE)), timestamp) AS amount
    FROM journey_events
    WHERE event = :purchase_event AND order_id IS NOT NULL AND person_id IS NOT NULL
      AND timestamp <= :as_of
    GROUP BY person_id, order_id
),
days AS (
    SELECT person_id, CAST(ordered_at AS DATE) AS day, min(ordered_at) AS first_at,
        max(ordered_at) AS last_at, count(*) AS orders, sum(coalesce(amount, 0)) AS amount
    FROM orders GROUP BY person_id, day
)
SELECT person_id, sum(orders) AS orders, sum(amount) AS revenue,
    min(first_at) AS first_order_at, max(last_at) AS last_order_at,
    count(*) - 1 AS repeat_purchases,
    date_diff('day', min(day), max(day)) / 7.0 AS recency_weeks,
    date_diff('day', min(day), CAST(:as_of AS DATE)) / 7.0 AS age_weeks,
    CASE WHEN count(*) > 1 THEN (sum(amount) - arg_min(amount, day)) / (count(*) - 1) END
        AS repeat_order_value
FROM days GROUP BY person_id
"""

HOLDOUT = """
WITH days AS (
    SELECT DISTINCT person_id, CAST(timestamp AS DATE) AS day FROM journey_events
    WHERE event = :purchase_event AND order_id IS NOT NULL AND person_id IS NOT NULL
      AND timestamp > :as_of AND timestamp <= :until
)
SELECT person_id, count(*) AS purchases FROM days GROUP BY person_id
"""
"""Purchase days after the moment valued, within the horizon: what the prediction is checked
against when the store holds them."""

CURRENCY = """
SELECT properties ->> '$.currency' AS currency, count(*) AS n FROM journey_events
WHERE event = :purchase_event AND properties ->> '$.currency' IS NOT NULL
GROUP BY 1 ORDER BY n DESC, currency LIMIT 1
"""


@dataclass
class ValueFit:
    """How the values were made: the method and why, the fitted parameters, the inputs."""

    method: str
    """`bgnbd` (BG/NBD with Gamma-Gamma) or `rfm` (scores only)."""
    reason: str
    as_of: str
    horizon_weeks: int
    persons: int
    repeat_buyers: int
    currency: str | None = None
    bgnbd: dict[str, float] = field(default_factory=dict)
    gamma_gamma: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    at_boundary: list[str] = field(default_factory=list)
    """BG/NBD parameters the data did not pin down (`models.EDGE`): with `a` and `b`, whether
    a buyer has stopped is one probability for all, so p_alive and expected purchases are
    rough. Empty when every parameter is identified (and under RFM)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def holdout(kr: Context, frame: pd.DataFrame, fit: ValueFit) -> dict[str, Any] | None:
    """Predicted against actual purchases of the valued buyers in the horizon after `as_of`,
    when the store has events that late (a calibration period's check); None otherwise."""
    as_of = datetime.fromisoformat(fit.as_of)
    until = as_of + timedelta(weeks=fit.horizon_weeks)
    last = kr.engine.scalar("SELECT max(timestamp) FROM journey_events")
    if fit.method != "bgnbd" or last is None or last <= as_of:
        return None
    definition = load_definition(configured_definition(kr))
    actual = kr.engine.fetch(
        Query(HOLDOUT, purchase_event=definition.purchase_event, as_of=as_of, until=until)
    ).to_pandas()
    counted = frame[["person_id", "expected_purchases"]].merge(actual, on="person_id", how="left")
    return {
        "start": as_of.isoformat(),
        "end": until.isoformat(),
        "complete": bool(last >= until),
        "persons": len(frame),
        "predicted_purchases": round(float(counted["expected_purchases"].sum()), 1),
        "actual_purchases": int(counted["purchases"].fillna(0).sum()),
    }


def _as_of(kr: Context, now: datetime | None) -> datetime:
    if now is not None:
        return now.replace(tzinfo=None)
    return kr.engine.scalar("SELECT max(timestamp) FROM journey_events") or datetime(1970, 1, 1)


def _rfm(frame: pd.DataFrame) -> pd.DataFrame:
    """Quintile scores 1–5 (5 best): recent last order, many purchase days, much revenue.
    Ranks first, so ties (most buyers have one order) share the lower quintile."""

    def score(values: pd.Series, ascending: bool) -> pd.Series:
        if values.empty:
            return values.astype(int)
        ranks = values.rank(method="min", ascending=ascending, pct=True)
        return np.ceil(ranks * 5).clip(1, 5).astype(int)

    days_since = frame["age_weeks"] - frame["recency_weeks"]
    r = score(days_since, ascending=False)
    f = score(frame["repeat_purchases"].astype(float), ascending=True)
    m = score(frame["revenue"].astype(float), ascending=True)
    frame["rfm"] = r.astype(str) + f.astype(str) + m.astype(str)
    frame["rfm_score"] = (r + f + m).astype("int32")
    return frame


def _method(persons: int, repeat_buyers: int) -> tuple[str, str]:
    if not persons:
        return "rfm", "no orders yet: nobody to value"
    share = repeat_buyers / persons
    if repeat_buyers >= MIN_REPEAT_BUYERS and share >= MIN_REPEAT_SHARE:
        return "bgnbd", (
            f"{repeat_buyers:,} of {persons:,} buyers ({share:.1%}) bought again on another "
            "day: enough to fit BG/NBD and Gamma-Gamma"
        )
    return "rfm", (
        f"only {repeat_buyers:,} of {persons:,} buyers ({share:.1%}) bought again on another "
        f"day (BG/NBD needs at least {MIN_REPEAT_BUYERS} and {MIN_REPEAT_SHARE:.0%}): "
        "RFM scores only, no expected future revenue"
    )


def compute_values(
    kr: Context, *, now: datetime | None = None, horizon_weeks: int = HORIZON_WEEKS
) -> tuple[pd.DataFrame, ValueFit]:
    """Every buyer's value as of `now` (default: the last event) for the next `horizon_weeks`,
    and how it was fitted. Only orders up to `now` count."""
    started = time.perf_counter()
    ensure_built(kr)
    definition = load_definition(configured_definition(kr))
    as_of = _as_of(kr, now)
    params = {"purchase_event": definition.purchase_event}
    frame = kr.engine.fetch(Query(SUMMARY, as_of=as_of, **params)).to_pandas()
    currency = kr.engine.rows(Query(CURRENCY, **params))
    frame = frame.sort_values("person_id", kind="stable").reset_index(drop=True)
    x = frame["repeat_purchases"].to_numpy(dtype=float)
    repeat_buyers = int((x > 0).sum())
    method, reason = _method(len(frame), repeat_buyers)
    fit = ValueFit(
        method=method,
        reason=reason,
        as_of=as_of.isoformat(),
        horizon_weeks=horizon_weeks,
        persons=len(frame),
        repeat_buyers=repeat_buyers,
        currency=currency[0]["currency"] if currency else None,
    )
    for name in ("expected_purchases", "expected_order_value", "expected_revenue", "p_alive"):
        frame[name] = np.nan
    if method == "bgnbd":
        t_x = frame["recency_weeks"].to_numpy(dtype=float)
        age = frame["age_weeks"].to_numpy(dtype=float)
        bg = fit_bgnbd(x, t_x, age)
        m = frame["repeat_order_value"].to_numpy(dtype=float)
        spenders = (x > 0) & (np.nan_to_num(m) > 0)
        gg = fit_gamma_gamma(x[spenders], m[spenders])
        fit.bgnbd, fit.gamma_gamma = bg.params(), gg.params()
        fit.at_boundary = bg.at_boundary()
        purchases = bg.expected_purchases(float(horizon_weeks), x, t_x, age)
        per_order = gg.expected_value(x, m)
        frame["expected_purchases"] = purchases
        frame["expected_order_value"] = per_order
        frame["expected_revenue"] = purchases * per_order
        frame["p_alive"] = bg.p_alive(x, t_x, age)
    frame["method"] = method
    frame = _rfm(frame)
    fit.seconds = round(time.perf_counter() - started, 3)
    return frame[list(CUSTOMER_VALUES.column_names)], fit


_building = threading.Lock()
_CACHE_ATTR = "_klantreis_customer_values"
_FINGERPRINT = "customer_values_fingerprint"
_FIT = "customer_values_fit"


def _in_engine(kr: Context) -> bool:
    """Values kept as the engine's own derived table, with its fingerprint and fit in the
    engine's state: an engine that only reads events (Spark; in the lake with `tables_path`,
    read there by every later process and by a lake's dashboard)."""
    return not kr.engine.capabilities.writable


def _in_memory(kr: Context) -> bool:
    """Values kept with the engine object instead of in the store: a store opened read-only
    (a notebook beside the server)."""
    return kr.engine.capabilities.writable and kr.store.read_only


def _fingerprint(kr: Context) -> str:
    engine = kr.engine
    model = (
        kr.store.get_meta("model_fingerprint")
        if engine.capabilities.writable
        else engine.get_state("model_fingerprint") or ""
    )
    parts = [VERSION, str(model), configured_definition(kr), str(HORIZON_WEEKS)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def values_fingerprint(kr: Context) -> str:
    """The fingerprint of the values stored now (what the stored opportunities rest on)."""
    if _in_engine(kr):
        return kr.engine.get_state(_FINGERPRINT) or ""
    return str(kr.store.get_meta(_FINGERPRINT))


def refresh_values(kr: Context) -> ValueFit | None:
    """Rebuild `customer_values` when the model changed since it was built (the server's
    routine runs this after the model). Returns the new fit, or None when still current."""
    ensure_built(kr)
    fingerprint = _fingerprint(kr)
    engine = kr.engine
    with _building:
        if stored_fit(kr, fingerprint=fingerprint) is not None:
            return None
        frame, fit = compute_values(kr)
        if _in_memory(kr):
            setattr(engine, _CACHE_ATTR, (fingerprint, frame, fit))
            return fit
        table = pa.Table.from_pandas(
            frame, schema=CUSTOMER_VALUES.arrow_schema, preserve_index=False
        )
        if _in_engine(kr):
            # the table first, then what it was made from: a reader that sees the
            # fingerprint finds the table it names
            engine.create_table_from_arrow(CUSTOMER_VALUES.name, table)
            engine.set_state(_FIT, json.dumps(fit.to_dict()))
            engine.set_state(_FINGERPRINT, fingerprint)
            return fit
        con = kr.store.connection
        with kr.store.write_lock, kr.store.transaction():
            con.register("_kr_customer_values", table)
            try:
                con.execute("DROP TABLE IF EXISTS customer_values")
                con.execute(CUSTOMER_VALUES.create_sql())
                con.execute("INSERT INTO customer_values SELECT * FROM _kr_customer_values")
            finally:
                con.unregister("_kr_customer_values")
            kr.store.set_meta(_FINGERPRINT, fingerprint)
            kr.store.set_meta(_FIT, json.dumps(fit.to_dict()))
        return fit


def stored_fit(kr: Context, *, fingerprint: str | None = None) -> ValueFit | None:
    """The fit of the stored table (None if never built, or built on another model when a
    `fingerprint` to match is given)."""
    engine = kr.engine
    cached = getattr(engine, _CACHE_ATTR, None)
    if _in_memory(kr) and cached is not None:
        return None if fingerprint is not None and cached[0] != fingerprint else cached[2]
    if not engine.has_table(CUSTOMER_VALUES.name):
        return None
    if _in_engine(kr):
        kept, text = engine.get_state(_FINGERPRINT), engine.get_state(_FIT)
    else:
        kept, text = kr.store.get_meta(_FINGERPRINT), kr.store.get_meta(_FIT)
    if fingerprint is not None and kept != fingerprint:
        return None
    return ValueFit(**json.loads(text)) if text else None


def ensure_values(kr: Context) -> ValueFit:
    """The stored values, rebuilt first when the model changed (a page reading stored results
    as they are takes the stored values, current or not: the routine refreshes them)."""
    from klantreis.model.as_built import reading_as_built

    if reading_as_built():
        stored = stored_fit(kr)
        if stored is not None:
            return stored
    fresh = refresh_values(kr)
    if fresh is not None:
        return fresh
    fit = stored_fit(kr)
    assert fit is not None
    return fit


def values_frame(kr: Context) -> pd.DataFrame:
    """The stored table (after `ensure_values`) as a frame, on any engine."""
    engine = kr.engine
    cached = getattr(engine, _CACHE_ATTR, None)
    if _in_memory(kr) and cached is not None:
        return cached[1].copy()
    if _in_engine(kr):
        if not engine.has_table(CUSTOMER_VALUES.name):
            return pd.DataFrame(columns=CUSTOMER_VALUES.column_names)
        return _naive(engine.fetch(Query("SELECT * FROM customer_values")).to_pandas())
    return kr.store.connection.execute("SELECT * FROM customer_values").fetch_df()


def _naive(frame: pd.DataFrame) -> pd.DataFrame:
    """Times as the store's frame holds them: UTC without a zone (Parquet written by Spark is
    read back zoned)."""
    for column in ("first_order_at", "last_order_at"):
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            frame[column] = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return frame
