"""Opportunities: which breaches, touchpoints and topics cost the most, measured on outcomes.

Key-driver analysis per order. Outcomes: the order's review score (1–5), its NPS answer (0–10),
repeat purchase (another order by the same person within 90 days; only orders placed at
least 90 days before the last event count, so late orders are not called one-off) and the
customer's expected future revenue (`measure/value`, when BG/NBD applies). Conversion is the
one outcome per shopping journey instead of per order (`measure/conversion.py`).
Drivers are 0/1 per order: each expectation breached on the order or its journey (the
`breaches` table of the expectations module), each touchpoint the journey passed, each topic
the customer's voice about the order mentions (when voice has been scored) — leaving out the
texts that are the outcome itself (a review's own words for review score, survey comments for
NPS), which would only restate it.

A touchpoint that more than half of the journeys pass becomes its absence ("no carrier in the
journey": the order never shipped), since that is where it can hurt.

Method: per outcome and driver, an ordinary least-squares model controlling for log order value,
product category (top 15, else "other") and region (top 10, else "other"), with
heteroskedasticity-robust (HC3) standard errors. A driver's effect is its coefficient — the
difference in the outcome between orders with and without it at the same order value, category
and region — with its 95 % confidence interval. Drivers are estimated one at a time on purpose:
breaches are nested (an order that never arrives was also late), and a joint model would split
one delivery problem into two smaller ones. As every driver shares the same controls, all of
them are solved in one pass (`measure/drivers.py`: the same estimates and intervals as separate
statsmodels fits). Repeat purchase is a linear probability model, so its effect is in
percentage points.

The ranking rule (`opportunities`): an opportunity is a driver whose whole 95 % interval lies
below zero (it measurably costs the outcome); positive and unproven effects are left out (they
stay in `key_drivers`). Each outcome has its own list, as stars, NPS points and repeat purchases
do not add up; review score first, then NPS, then repeat purchase. Within a list, the order is
the outcome lost in total = −effect × orders affected (e.g. 1.7 stars × 160 late orders = 272
stars), largest first; ties by name. Effects are per order, so the total counts orders, not
persons (a person with two late orders lost stars twice).

Results are stored (`opportunity_results`, one row per persona cut) under a fingerprint of what
they rest on — the model, the judged expectations, the scored voice and the persona
assignments — so the journey map and the dashboard read them instead of computing them again.

When the expectations module is not installed, lateness is computed here from `Order Delivered`
against `promised_delivery_date` (same day counts as on time) and named `late_delivery`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field
from sqlglot import exp

from klantreis.errors import KlantreisError
from klantreis.measure.contract import AnalysisQuery, AnalysisResult
from klantreis.measure.drivers import one_pass_fits
from klantreis.measure.filters import Cut
from klantreis.measure.registry import analysis
from klantreis.model import ensure_built
from klantreis.store.query import Query, statement
from klantreis.store.schema import TableSpec

if TYPE_CHECKING:
    from klantreis.model.context import Context
    from klantreis.store.engines.base import Engine

VERSION = "4"
"""Part of the stored results' fingerprint: bump when the method or the output changes."""
REPEAT_DAYS = 90
MIN_AFFECTED = 20
"""A driver needs this many orders with it (and without it) to be estimated at all."""
MIN_ORDERS = 50
TOP_CATEGORIES = 15
TOP_REGIONS = 10


@dataclass(frozen=True)
class Outcome:
    label: str
    unit: str
    """What the effect is counted in, per order."""
    lost: str
    """What the total lost is counted in."""
    scale: float = 1.0
    """Multiplier from the regression's scale to the unit (probability → percentage points)."""


OUTCOMES = {
    "review_score": Outcome("review score (1–5 stars)", "stars", "stars"),
    "nps": Outcome("NPS answer (0–10)", "answer points", "answer points"),
    "repeat_purchase": Outcome(
        f"repeat purchase within {REPEAT_DAYS} days",
        "percentage points",
        "repeat purchases",
        scale=100.0,
    ),
    "conversion": Outcome(
        "reaching the order within the journey",
        "percentage points",
        "orders",
        scale=100.0,
    ),
    "customer_value": Outcome(
        "the customer's expected future revenue",
        "of expected revenue",
        "of expected revenue",
    ),
}
ORDER_OUTCOMES = ("review_score", "nps", "repeat_purchase", "customer_value")
"""Outcomes measured per order; conversion is measured per journey (`measure/conversion.py`)."""
SORT_ORDERS = ("impact", "value")

ORDERS = """
WITH placed AS (
    SELECT order_id, person_id, journey_id, timestamp AS ordered_at,
        coalesce(TRY_CAST(properties ->> '$.total' AS DOUBLE),
                 TRY_CAST(properties ->> '$.revenue' AS DOUBLE)) AS order_value,
        coalesce(properties ->> '$.products[0].category', properties ->> '$.category')
            AS category,
        properties ->> '$.region' AS region,
        TRY_CAST(properties ->> '$.promised_delivery_date' AS TIMESTAMP) AS promised_at
    FROM journey_events
    WHERE event = 'Order Completed' AND order_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY timestamp, message_id) = 1
),
delivered AS (
    SELECT order_id, min(timestamp) AS delivered_at,
        max(TRY_CAST(properties ->> '$.promised_delivery_date' AS TIMESTAMP)) AS promised_at
    FROM journey_events WHERE event = 'Order Delivered' AND order_id IS NOT NULL
    GROUP BY order_id
),
reviews AS (
    SELECT order_id, avg(TRY_CAST(properties ->> '$.rating' AS DOUBLE)) AS review_score
    FROM journey_events
    WHERE event IN ('Review Submitted', 'Product Reviewed') AND order_id IS NOT NULL
    GROUP BY order_id
),
nps AS (
    SELECT order_id, avg(TRY_CAST(properties ->> '$.score' AS DOUBLE)) AS nps
    FROM journey_events
    WHERE event = 'Survey Answered' AND properties ->> '$.kind' = 'nps' AND order_id IS NOT NULL
    GROUP BY order_id
),
horizon AS (SELECT max(timestamp) AS last_seen FROM journey_events)
SELECT p.order_id, p.person_id, p.journey_id, p.ordered_at, p.order_value, p.category,
    p.region, r.review_score, n.nps,
    CASE WHEN date_diff('second', p.ordered_at, h.last_seen) < :repeat_seconds THEN NULL
         WHEN EXISTS (SELECT 1 FROM placed AS later
                      WHERE later.person_id = p.person_id AND later.order_id <> p.order_id
                        AND later.ordered_at > p.ordered_at
                        AND date_diff('second', p.ordered_at, later.ordered_at)
                            <= :repeat_seconds)
         THEN 1.0 ELSE 0.0 END AS repeat_purchase,
    CASE WHEN d.delivered_at IS NULL OR coalesce(d.promised_at, p.promised_at) IS NULL THEN 0
         WHEN CAST(d.delivered_at AS DATE) > CAST(coalesce(d.promised_at, p.promised_at) AS DATE)
         THEN 1 ELSE 0 END AS late_delivery
FROM placed AS p
CROSS JOIN horizon AS h
LEFT JOIN delivered AS d ON d.order_id = p.order_id
LEFT JOIN reviews AS r ON r.order_id = p.order_id
LEFT JOIN nps AS n ON n.order_id = p.order_id
"""


BREACHED = """
WITH orders AS (
    SELECT DISTINCT order_id, journey_id FROM journey_events
    WHERE event = 'Order Completed' AND order_id IS NOT NULL
)
SELECT o.order_id, b.expectation_id AS driver
FROM orders AS o JOIN breaches AS b ON b.order_id = o.order_id
UNION
SELECT o.order_id, b.expectation_id AS driver
FROM orders AS o JOIN breaches AS b ON b.journey_id = o.journey_id
WHERE b.order_id IS NULL
"""
"""A breach counts for the order it names, or (naming none) for every order of its journey:
two equi-joins unioned, as an OR join cannot be hashed and costs orders × breaches."""

TOUCHED = """
WITH orders AS (
    SELECT DISTINCT order_id, journey_id FROM journey_events
    WHERE event = 'Order Completed' AND order_id IS NOT NULL
),
passed AS (
    SELECT DISTINCT journey_id, touchpoint FROM journey_events WHERE touchpoint IS NOT NULL
)
SELECT DISTINCT o.order_id, p.touchpoint AS driver
FROM orders AS o JOIN passed AS p ON p.journey_id = o.journey_id
"""

MENTIONED = """
SELECT DISTINCT v.order_id, t.topic AS driver, v.event
FROM voice AS v JOIN voice_topics AS t ON t.message_id = v.message_id
WHERE v.order_id IS NOT NULL AND t.topic IS NOT NULL
"""
SAME_ACT = {
    "review_score": ("Review Submitted", "Product Reviewed"),
    "nps": ("Survey Answered",),
    "repeat_purchase": (),
    "customer_value": (),
}
"""Texts that are the outcome itself: a review's own words restate its stars, so topics for
review score come from other texts about the order (tickets, chats, surveys), and so on."""


class OpportunityError(KlantreisError):
    """An unknown outcome."""


@dataclass
class Opportunity:
    title: str
    kind: str
    """expectation, touchpoint or topic."""
    driver: str
    outcome: str
    effect: float
    """Per order, in the outcome's regression scale (stars, NPS points, probability)."""
    ci_low: float
    ci_high: float
    p_value: float
    persons: int
    orders: int
    impact: float
    """Outcome lost in total: −effect × orders affected (positive = worth fixing)."""
    method: str
    unit: str = ""
    effect_text: str = ""
    """The effect with its unit, e.g. "−1.7 stars" (repeat purchase in percentage points)."""
    impact_text: str = ""
    """The total lost with its unit, e.g. "272 stars lost over 160 orders"."""
    rank: int = 0
    """Place in its outcome's list (1 = fix first); 0 when not an opportunity."""
    value_at_stake: float | None = None
    """Expected future revenue of the persons the driver hit (their revenue to date under
    the RFM method): what `--by value` sorts by."""
    currency: str | None = None
    """Of `value_at_stake` and of a customer-value effect."""


def _signed(value: float, digits: int) -> str:
    text = f"{value:+.{digits}f}"
    return text.replace("-", "\u2212")


def _describe(o: Opportunity) -> None:
    """Fill in the unit texts of an estimate."""
    spec = OUTCOMES[o.outcome]
    effect = o.effect * spec.scale
    money = o.outcome == "customer_value" and o.currency
    o.unit = f"{o.currency} {spec.unit}" if money else spec.unit
    o.effect_text = f"{_signed(effect, 1 if abs(effect) >= 0.1 else 2)} {o.unit}"
    lost = o.impact
    amount = f"{lost:,.0f}" if abs(lost) >= 10 else f"{lost:,.1f}"
    verb = "lost" if lost >= 0 else "gained"
    what = f"{o.currency} {spec.lost}" if money else spec.lost
    over = "journeys" if o.outcome == "conversion" else "orders"
    o.impact_text = f"{amount.lstrip('-')} {what} {verb} over {o.orders:,} {over}"


def _orders(kr: Context, cut: Cut) -> pd.DataFrame:
    tree = statement(Query(ORDERS, repeat_seconds=REPEAT_DAYS * 86400).tree)
    select = (
        exp.select("*")
        .from_(tree.subquery("o"))
        .where(cut.condition(kr.engine, timestamp="ordered_at"))
    )
    return kr.engine.fetch(Query(select)).to_pandas()


def _expectation_titles(kr: Context) -> dict[str, str] | None:
    """Judge expectations (when that module is installed) and return id -> title."""
    try:
        from klantreis.measure.expectations.cases import ensure_cases
    except ImportError:
        return None
    case_set = ensure_cases(kr)
    titles = {}
    for rule in case_set.rules:
        title = getattr(rule, "title", None)
        titles[rule.id] = title.get("en", rule.id) if isinstance(title, dict) else rule.id
    return titles


def _drivers(kr: Context, orders: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """0/1 driver columns per order and, per column, (kind, title)."""
    engine = kr.engine
    index = pd.Index(orders["order_id"])
    columns: dict[str, pd.Series] = {}
    about: dict[str, tuple[str, str]] = {}

    def add(kind: str, rows: pd.DataFrame, titles: dict[str, str]) -> None:
        if rows.empty:
            return
        position = index.get_indexer(rows["order_id"])
        rows = rows.assign(position=position)[position >= 0]
        for driver, group in rows.groupby("driver"):
            present = np.zeros(len(index), dtype=bool)
            present[group["position"].to_numpy()] = True
            title = titles.get(str(driver), str(driver))
            if kind == "touchpoint" and present.mean() > 0.5:
                # A touchpoint nearly every journey passes matters where it is missing.
                present, driver, title = ~present, f"no {driver}", f"No {driver} in the journey"
            column = f"{kind}:{driver}"
            columns[column] = pd.Series(present.astype(float), index=index)
            about[column] = (kind, title)

    titles = _expectation_titles(kr)
    if titles is not None and engine.has_table("breaches"):
        add("expectation", engine.fetch(BREACHED).to_pandas(), titles)
    else:
        columns["expectation:late_delivery"] = pd.Series(
            orders["late_delivery"].to_numpy(dtype=float), index=index
        )
        about["expectation:late_delivery"] = (
            "expectation",
            "Late delivery (delivered after the promised date)",
        )
    touched = engine.fetch(TOUCHED).to_pandas()
    add("touchpoint", touched, {t: f"Touchpoint: {t}" for t in touched["driver"].unique()})
    if engine.has_table("voice") and engine.has_table("voice_topics"):
        mentioned = engine.fetch(MENTIONED).to_pandas()
        titles = {t: f"Customers mention {t}" for t in mentioned["driver"].unique()}
        for outcome, same_act in SAME_ACT.items():
            add(f"topic|{outcome}", mentioned[~mentioned["event"].isin(same_act)], titles)
    frame = pd.DataFrame(columns, index=index) if columns else pd.DataFrame(index=index)
    return frame.reset_index(drop=True), about


def _controls(orders: pd.DataFrame) -> pd.DataFrame:
    value = orders["order_value"].astype(float)
    controls = pd.DataFrame({"log_order_value": np.log1p(value.fillna(value.median()))})
    for column, top in (("category", TOP_CATEGORIES), ("region", TOP_REGIONS)):
        values = orders[column].fillna("unknown").astype(str)
        keep = values.value_counts().index[:top]
        values = values.where(values.isin(keep), "other")
        dummies = pd.get_dummies(values, prefix=column, drop_first=True, dtype=float)
        controls = pd.concat([controls, dummies], axis=1)
    return controls


def _design(
    orders: pd.DataFrame, drivers: pd.DataFrame, controls: pd.DataFrame, name: str
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame, np.ndarray] | None:
    """One outcome's regression inputs: (rows used, drivers kept, controls kept, outcome)."""
    y = pd.to_numeric(orders[name], errors="coerce").astype(float)
    rows = y.notna().to_numpy()
    n = int(rows.sum())
    if n < MIN_ORDERS or y[rows].nunique() < 2:
        return None
    d = drivers[rows]
    d = d[[c for c in d.columns if not c.startswith("topic|") or c.startswith(f"topic|{name}:")]]
    counts = d.sum()
    outcome = y[rows].to_numpy()
    binary = set(np.unique(outcome)) <= {0.0, 1.0}
    keep = []
    for column in d.columns:
        if not MIN_AFFECTED <= counts[column] <= n - MIN_AFFECTED:
            continue
        hit = d[column].to_numpy() == 1
        if binary and min(outcome[hit].sum(), (1 - outcome[hit]).sum()) < 5:
            # With (almost) no events among the affected orders, robust errors collapse
            # to near zero and the interval would claim a certainty the data lacks.
            continue
        keep.append(column)
    if not keep:
        return None
    c = controls[rows]
    c = c.loc[:, c.std() > 0]
    return rows, d[keep], c, outcome


def person_values(kr: Context) -> tuple[dict[str, float], str | None, bool]:
    """Per person the stored customer value (expected future revenue, or revenue to date
    under RFM), its currency, and whether it is a forecast (BG/NBD)."""
    from klantreis.measure.value.table import ensure_values, values_frame

    fit = ensure_values(kr)
    if not fit.persons:
        return {}, fit.currency, False
    frame = values_frame(kr)
    forecast = fit.method == "bgnbd"
    column = frame["expected_revenue" if forecast else "revenue"].fillna(0.0).astype(float)
    return dict(zip(frame["person_id"], column, strict=True)), fit.currency, forecast


def _estimates(
    name: str,
    design: tuple[np.ndarray, pd.DataFrame, pd.DataFrame, np.ndarray],
    persons: np.ndarray,
    about: dict[str, tuple[str, str]],
    method: str,
    value_of: dict[str, float],
    currency: str | None,
) -> list[Opportunity]:
    """Every driver's estimate for one outcome, ranked by the rule (module docstring)."""
    rows, d, c, y = design
    fits = one_pass_fits(y, d.to_numpy(dtype=float), c.to_numpy(dtype=float))
    persons = persons[rows]
    estimates = []
    for j, column in enumerate(d.columns):
        if not np.isfinite(fits.effect[j]):
            continue
        kind, title = about[column]
        hit = d[column].to_numpy() == 1
        effect = float(fits.effect[j])
        hit_persons = set(persons[hit])
        stake = sum(value_of.get(p, 0.0) for p in hit_persons) if value_of else None
        item = Opportunity(
            title=title,
            kind=kind.split("|")[0],
            driver=column.split(":", 1)[1],
            outcome=name,
            effect=effect,
            ci_low=float(fits.ci_low[j]),
            ci_high=float(fits.ci_high[j]),
            p_value=float(fits.p_value[j]),
            persons=len(hit_persons),
            orders=int(hit.sum()),
            impact=round(-effect * int(hit.sum()), 2),
            method=method,
            value_at_stake=None if stake is None else round(stake, 2),
            currency=currency,
        )
        _describe(item)
        estimates.append(item)
    costly = sorted(
        (o for o in estimates if o.ci_high < 0), key=lambda o: (-o.impact, o.title, o.driver)
    )
    for place, item in enumerate(costly, start=1):
        item.rank = place
    others = sorted((o for o in estimates if o.ci_high >= 0), key=lambda o: o.p_value)
    return costly + others


@dataclass
class Design:
    """One outcome's regression: (rows used, drivers kept, controls kept, outcome), the person
    of each row, what each driver column is, and the method text."""

    outcome: str
    inputs: tuple[np.ndarray, pd.DataFrame, pd.DataFrame, np.ndarray]
    persons: np.ndarray
    about: dict[str, tuple[str, str]]
    method: str


def designs(
    kr: Context, cut: Cut, wanted: list[str], value_of: dict[str, float], forecast: bool
) -> list[Design]:
    """The regressions to run: the order outcomes on one order frame, conversion on the
    shopping journeys (`measure/conversion.py`)."""
    from klantreis.measure.conversion import conversion_design

    found: list[Design] = []
    orders = _orders(kr, cut)
    if not orders.empty and any(name in ORDER_OUTCOMES for name in wanted):
        orders["customer_value"] = (
            orders["person_id"].map(value_of).astype(float) if forecast else np.nan
        )
        drivers, about = _drivers(kr, orders)
        controls = _controls(orders)
        persons = orders["person_id"].to_numpy()
        for name in [n for n in wanted if n in ORDER_OUTCOMES]:
            inputs = _design(orders, drivers, controls, name)
            if inputs is not None:
                method = (
                    "OLS per driver (solved in one pass), HC3 errors; controls: log order "
                    f"value, category, region; n={int(inputs[0].sum())} orders"
                )
                found.append(Design(name, inputs, persons, about, method))
    if "conversion" in wanted:
        titles = _expectation_titles(kr)
        shaped = conversion_design(kr, cut.condition(kr.engine, timestamp="started_at"), titles)
        inputs = (
            None
            if shaped is None
            else _design(shaped.journeys, shaped.drivers, shaped.controls, "conversion")
        )
        if shaped is not None and inputs is not None:
            method = (
                "OLS per driver (solved in one pass), HC3 errors; controls: log events before "
                f"the purchase phase, first channel; n={int(inputs[0].sum())} shopping "
                f"journeys{shaped.note}"
            )
            persons = shaped.journeys["person_id"].to_numpy()
            found.append(Design("conversion", inputs, persons, shaped.about, method))
    return found


def key_drivers(
    kr: Context, *, persona: str | None = None, outcome: str | None = None
) -> list[Opportunity]:
    """Every driver's adjusted effect on every outcome the store has data for.

    Sorted per outcome by the ranking rule (see the module docstring), then the drivers that
    are not opportunities by p-value; `rank` is set for the opportunities only.
    """
    if outcome is not None and outcome not in OUTCOMES:
        raise OpportunityError(f"outcome: unknown outcome {outcome!r} (use {', '.join(OUTCOMES)})")
    ensure_built(kr)
    value_of, currency, forecast = person_values(kr)
    wanted = [outcome] if outcome else list(OUTCOMES)
    found: list[Opportunity] = []
    for d in designs(kr, Cut(persona=persona), wanted, value_of, forecast):
        found.extend(
            _estimates(d.outcome, d.inputs, d.persons, d.about, d.method, value_of, currency)
        )
    order = {name: i for i, name in enumerate(OUTCOMES)}
    return sorted(found, key=lambda o: order[o.outcome])


OPPORTUNITY_RESULTS = TableSpec(
    "opportunity_results",
    """CREATE TABLE IF NOT EXISTS opportunity_results (
    persona VARCHAR PRIMARY KEY,
    fingerprint VARCHAR,
    model_fingerprint VARCHAR,
    computed_at TIMESTAMP,
    seconds DOUBLE,
    results VARCHAR
)""",
)
"""The ranked opportunities per persona cut ('' = every person) as JSON. Aggregates only (no
person ids), so erasure needs nothing here: it changes the events and so the fingerprint."""


def _state(kr: Context, persona: str | None) -> str:
    """Fingerprint of what the results rest on: the model and the judged expectations (both
    brought up to date first, as the results need them current), the scored voice and the
    persona's members (a count and a hash each: one scan of small tables)."""
    ensure_built(kr)
    engine = kr.engine
    parts = [VERSION, persona or ""]
    if engine.capabilities.writable:
        parts.append(str(kr.store.get_meta("model_fingerprint")))
    else:
        parts.append(str(engine.get_state("model_fingerprint") or ""))
    try:
        from klantreis.measure.expectations.cases import ensure_cases
    except ImportError:
        pass
    else:
        ensure_cases(kr)
        if engine.capabilities.writable:
            parts.append(str(kr.store.get_meta("expectations_fingerprint")))
        else:
            parts.append(str(getattr(engine, "_klantreis_expectations_fingerprint", "")))
    from klantreis.measure.value.table import ensure_values

    ensure_values(kr)
    if engine.capabilities.writable:
        parts.append(str(kr.store.get_meta("customer_values_fingerprint")))
    else:
        parts.append(str(getattr(engine, "_klantreis_customer_values", ("",))[0]))
    checks = []
    if engine.has_table("voice") and engine.has_table("voice_topics"):
        checks.append(
            "SELECT 'voice' AS t, count(*) AS n, "
            "CAST(bit_xor(hash(message_id || '|' || coalesce(topic, ''))) AS VARCHAR) AS h "
            "FROM voice_topics"
        )
        checks.append(
            "SELECT 'texts' AS t, count(*) AS n, "
            "CAST(bit_xor(hash(message_id || '|' || coalesce(order_id, '') || '|' "
            "|| coalesce(event, ''))) AS VARCHAR) AS h FROM voice"
        )
    if persona is not None and engine.has_table("person_personas"):
        checks.append(
            "SELECT 'personas' AS t, count(*) AS n, "
            "CAST(bit_xor(hash(person_id || '|' || persona)) AS VARCHAR) AS h "
            "FROM person_personas WHERE persona = :persona"
        )
    for check in checks:
        row = engine.rows(Query(check, persona=persona or ""))[0]
        parts.append(f"{row['t']}:{row['n']}:{row['h']}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _current_layout(kr: Context) -> bool:
    columns = kr.engine.rows(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'opportunity_results'"
    )
    return "model_fingerprint" in {r["column_name"] for r in columns}


def _read_stored(kr: Context, persona: str | None, fingerprint: str) -> list[dict] | None:
    engine = kr.engine
    if not engine.capabilities.writable:
        row = _engine_row(engine, persona)
        return json.loads(row["results"]) if row and row["fingerprint"] == fingerprint else None
    if not engine.has_table(OPPORTUNITY_RESULTS.name) or not _current_layout(kr):
        return None
    rows = kr.store.connection.execute(
        "SELECT fingerprint, results FROM opportunity_results WHERE persona = ?", [persona or ""]
    ).fetchall()
    if not rows or rows[0][0] != fingerprint:
        return None
    return json.loads(rows[0][1])


def _write_stored(
    kr: Context, persona: str | None, fingerprint: str, found: list[dict], seconds: float
) -> None:
    engine = kr.engine
    if not engine.capabilities.writable:
        _write_engine_row(engine, persona, fingerprint, found, seconds)
        return
    with kr.store.write_lock:
        kr.store.register_table(OPPORTUNITY_RESULTS)
        if not _current_layout(kr):  # from before `model_fingerprint`: recomputed anyway
            kr.store.connection.execute("DROP TABLE opportunity_results").fetchall()
            kr.store.register_table(OPPORTUNITY_RESULTS)
        kr.store.connection.execute(
            "INSERT OR REPLACE INTO opportunity_results VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?)",
            [
                persona or "",
                fingerprint,
                kr.store.get_meta("model_fingerprint"),
                seconds,
                json.dumps(found),
            ],
        ).fetchall()


def _engine_row(engine: Engine, persona: str | None) -> dict[str, Any] | None:
    """The stored row of a cut on an engine that keeps its own tables (Spark over a lake)."""
    if not engine.has_table(OPPORTUNITY_RESULTS.name):
        return None
    rows = engine.rows(
        Query("SELECT * FROM opportunity_results WHERE persona = :p", p=persona or "")
    )
    return rows[0] if rows else None


def _write_engine_row(
    engine: Engine, persona: str | None, fingerprint: str, found: list[dict], seconds: float
) -> None:
    """The cut's row replaced in the engine's `opportunity_results`, written back like its
    model tables (one small table: a row per persona cut)."""
    kept = (
        engine.rows(Query("SELECT * FROM opportunity_results WHERE persona <> :p", p=persona or ""))
        if engine.has_table(OPPORTUNITY_RESULTS.name)
        else []
    )
    row = {
        "persona": persona or "",
        "fingerprint": fingerprint,
        "model_fingerprint": engine.get_state("model_fingerprint"),
        "computed_at": datetime.now(UTC).replace(tzinfo=None),
        "seconds": seconds,
        "results": json.dumps(found),
    }
    schema = pa.schema(
        [
            ("persona", pa.string()),
            ("fingerprint", pa.string()),
            ("model_fingerprint", pa.string()),
            ("computed_at", pa.timestamp("us")),
            ("seconds", pa.float64()),
            ("results", pa.string()),
        ]
    )
    for old in kept:
        if old["computed_at"] is not None:
            old["computed_at"] = old["computed_at"].replace(tzinfo=None)
    engine.create_table_from_arrow(
        OPPORTUNITY_RESULTS.name, pa.Table.from_pylist([*kept, row], schema=schema)
    )


@dataclass
class Stored:
    """The last opportunities stored for a cut, and whether events changed since."""

    items: list[dict[str, Any]]
    stale: bool
    computed_at: Any


def stored_opportunities(
    kr: Context, *, persona: str | None = None, outcome: str | None = None
) -> Stored | None:
    """The last stored opportunities for a cut without computing anything (None if never
    computed): for pages and the journey map, which must not run the analysis in a request.
    `stale` is cheap to tell: the model they were computed on is not the current one."""
    engine = kr.engine
    if not engine.capabilities.writable:
        row = _engine_row(engine, persona)
        if row is None:
            return None
        current = engine.get_state("model_fingerprint")
        items = [
            o for o in json.loads(row["results"]) if outcome is None or o["outcome"] == outcome
        ]
        return Stored(
            items=items, stale=row["model_fingerprint"] != current, computed_at=row["computed_at"]
        )
    if not engine.has_table(OPPORTUNITY_RESULTS.name) or not _current_layout(kr):
        return None
    rows = kr.store.connection.execute(
        "SELECT model_fingerprint, computed_at, results FROM opportunity_results WHERE persona = ?",
        [persona or ""],
    ).fetchall()
    if not rows:
        return None
    model, computed_at, results = rows[0]
    current = kr.store.get_meta("model_fingerprint")
    events = kr.store.events_fingerprint()
    stale = model != current or not str(current or "").endswith(events)
    items = [o for o in json.loads(results) if outcome is None or o["outcome"] == outcome]
    return Stored(items=items, stale=stale, computed_at=computed_at)


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


def refresh_opportunities(kr: Context, *, persona: str | None = None) -> int | None:
    """Compute and store the ranked lists when what they rest on changed (the server's
    routine runs this after the cases, so pages only read). Returns how many opportunities
    were stored, or None when the stored ones were still current."""
    fingerprint = _state(kr, persona)
    if _read_stored(kr, persona, fingerprint) is not None:
        return None
    started = time.perf_counter()
    found = [asdict(o) for o in key_drivers(kr, persona=persona) if o.rank]
    _write_stored(kr, persona, fingerprint, found, time.perf_counter() - started)
    return len(found)


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
    fingerprint = _state(kr, persona)
    found = _read_stored(kr, persona, fingerprint)
    if found is None:
        started = time.perf_counter()
        found = [asdict(o) for o in key_drivers(kr, persona=persona) if o.rank]
        _write_stored(kr, persona, fingerprint, found, time.perf_counter() - started)
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
