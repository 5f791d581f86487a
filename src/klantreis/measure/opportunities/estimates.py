"""Every driver's adjusted effect on every outcome: the regressions (one per outcome, all
drivers solved in one pass by `measure/drivers.py`) and the ranking rule that makes the
costly ones opportunities (see the package docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from klantreis.measure.drivers import one_pass_fits
from klantreis.measure.filters import Cut
from klantreis.measure.opportunities.orders import (
    controls,
    driver_columns,
    expectation_titles,
    order_frame,
    order_modulus,
)
from klantreis.measure.opportunities.outcomes import (
    ORDER_OUTCOMES,
    OUTCOMES,
    Opportunity,
    OpportunityError,
    describe,
)
from klantreis.model import ensure_built

if TYPE_CHECKING:
    from klantreis.model.context import Context

MIN_AFFECTED = 20
"""A driver needs this many orders with it (and without it) to be estimated at all."""
MIN_ORDERS = 50


def outcome_design(
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
    persons: Any,
    about: dict[str, tuple[str, str]],
    method: str,
    value_of: dict[str, float],
    currency: str | None,
) -> list[Opportunity]:
    """Every driver's estimate for one outcome, ranked by the rule (module docstring)."""
    rows, d, c, y = design
    # Booleans (one byte a cell): `one_pass_fits` widens a block of drivers at a time.
    fits = one_pass_fits(y, d.to_numpy(dtype=bool), c.to_numpy(dtype=float))
    # Each person once as a number and their value once: a driver's persons and value at
    # stake are then array operations, not a set and a dict look-up per order (seconds at 10M).
    codes, uniques = pd.factorize(persons[rows], use_na_sentinel=False)
    values = np.array([value_of.get(p, 0.0) for p in uniques], dtype=float)
    estimates = []
    for j, column in enumerate(d.columns):
        if not np.isfinite(fits.effect[j]):
            continue
        kind, title = about[column]
        hit = d[column].to_numpy() == 1
        effect = float(fits.effect[j])
        hit_persons = np.unique(codes[hit])
        stake = math.fsum(values[hit_persons]) if value_of else None
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
        describe(item)
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
    persons: Any
    """The person of each row: strings, or a pandas Categorical of them (orders)."""
    about: dict[str, tuple[str, str]]
    method: str


def designs(
    kr: Context, cut: Cut, wanted: list[str], value_of: dict[str, float], forecast: bool
) -> list[Design]:
    """The regressions to run: the order outcomes on one order frame, conversion on the
    shopping journeys (`measure/conversion.py`)."""
    from klantreis.measure.conversion import conversion_design

    found: list[Design] = []
    modulus = order_modulus(kr) if any(name in ORDER_OUTCOMES for name in wanted) else 1
    orders, order_ids = order_frame(kr, cut, modulus)
    if not orders.empty and any(name in ORDER_OUTCOMES for name in wanted):
        persons = orders["person_id"].array
        if forecast:
            # Looked up once per person (the categorical's strings), not once per order.
            known = np.array([value_of.get(p, np.nan) for p in persons.categories], dtype=float)
            codes = persons.codes
            orders["customer_value"] = np.where(codes >= 0, known[codes], np.nan)
        else:
            orders["customer_value"] = np.nan
        drivers, about = driver_columns(kr, orders, order_ids, modulus)
        del order_ids
        controlled = controls(orders)
        note = "" if modulus == 1 else f"; a fixed 1-in-{modulus} sample of the orders"
        for name in [n for n in wanted if n in ORDER_OUTCOMES]:
            inputs = outcome_design(orders, drivers, controlled, name)
            if inputs is not None:
                method = (
                    "OLS per driver (solved in one pass), HC3 errors; controls: log order "
                    f"value, category, region; n={int(inputs[0].sum())} orders{note}"
                )
                found.append(Design(name, inputs, persons, about, method))
    if "conversion" in wanted:
        titles = expectation_titles(kr)
        shaped = conversion_design(kr, cut.condition(kr.engine, timestamp="started_at"), titles)
        inputs = (
            None
            if shaped is None
            else outcome_design(shaped.journeys, shaped.drivers, shaped.controls, "conversion")
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
