"""Content quality: how complete each product page is, and what incompleteness costs.

Per (order, product) line the outcomes are the order's review (mean rating, 1–2★ or not),
whether the product was returned and whether the customer wrote negatively about the product
information; per product page, the share of sessions that viewed it and added it to the cart.
Each outcome is regressed on the completeness score (per 10 points) and, separately, on each
part's share of full, with the product's category and log price as controls (ordinary least
squares, HC3 intervals: `measure/drivers.py`). The photo buckets are the plain descriptive
shares, unadjusted, as a shop owner would count them.

"Product pages to fix first" ranks products by the outcome lost in total: the adjusted effect
of 10 points times the product's gap to 100 times its reviewed orders, for effects whose 95 %
interval excludes zero; where none does, by gap times orders (said so in `method`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from klantreis.errors import KlantreisError
from klantreis.measure.drivers import one_pass_fits
from klantreis.measure.filters import Cut
from klantreis.measure.products import queries
from klantreis.measure.products.completeness import Rules, load_rules, score
from klantreis.measure.result import Result
from klantreis.model import ensure_built
from klantreis.store.query import Query

if TYPE_CHECKING:
    from pathlib import Path

    from klantreis.model.context import Context
    from klantreis.store.engines.base import Engine

TOP_CATEGORIES = 15
MIN_LINES = 30
"""An outcome needs this many lines (products, for view → cart) to be estimated."""
MIN_VIEWS = 20
"""A product needs this many viewing sessions for its view → cart share to count."""


@dataclass(frozen=True)
class Outcome:
    label: str
    unit: str
    higher_is_better: bool
    scale: float = 1.0
    """From the regression's scale to the unit (a probability to percentage points)."""


OUTCOMES: dict[str, Outcome] = {
    "review_score": Outcome("review score (1–5 stars)", "stars", True),
    "low_review": Outcome("1–2★ reviews", "percentage points", False, 100.0),
    "returned": Outcome("returns", "percentage points", False, 100.0),
    "not_as_described": Outcome(
        "'not as described' texts (negative about product information)",
        "percentage points",
        False,
        100.0,
    ),
    "view_to_cart": Outcome("view → cart conversion", "percentage points", True, 100.0),
}
PHOTO_BUCKETS = ("missing", "0", "1", "2–3", "4+")


@dataclass
class ContentQuality:
    """The result of `kr.products()`: tables as `Result`s, the method in words."""

    products: Result
    categories: Result
    by_photos: Result
    effects: Result
    fix_first: Result
    coverage: dict[str, Any]
    parts: list[str]
    method: str
    outcome: str
    notes: list[dict[str, str]] = field(default_factory=list)
    """`{key, text}`: what could not be measured and why (`no_returns`, `no_voice`)."""

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """Plain JSON: `products` ordered by lines (orders) and cut to `limit` when given."""
        products = self.products.to_pylist()
        return {
            "coverage": self.coverage,
            "parts": self.parts,
            "outcome": self.outcome,
            "method": self.method,
            "notes": self.notes,
            "by_photos": self.by_photos.to_pylist(),
            "categories": self.categories.to_pylist(),
            "effects": self.effects.to_pylist(),
            "fix_first": self.fix_first.to_pylist()[: limit or None],
            "products": products[: limit or None],
        }


def content_quality(
    kr: Context,
    *,
    rules: str | Path | None = None,
    outcome: str = "low_review",
    start: str | None = None,
    end: str | None = None,
) -> ContentQuality:
    """Completeness per product and category, its adjusted effect on outcomes, fix-first list.

    The period (`start`/`end`) selects orders by when they were placed and product views by
    when they happened; reviews and returns of those orders count whenever they came.
    """
    if outcome not in OUTCOMES:
        raise KlantreisError(f"one of {', '.join(OUTCOMES)}, not {outcome!r}", field="outcome")
    parsed = load_rules(rules)
    cut = Cut.parse(start, end)
    ensure_built(kr)
    return measure_content(kr.engine, parsed, outcome, cut)


def measure_content(engine: Engine, parsed: Rules, outcome: str, cut: Cut) -> ContentQuality:
    """`products` over the model's tables and the catalogue on `engine` (DuckDB or Spark)."""
    if not engine.has_table("products") or not engine.scalar("SELECT count(*) FROM products"):
        raise KlantreisError(
            "the store holds no product catalogue; import one first "
            "(klantreis import products FILE --mapping shopify, or klantreis import olist)",
            field="products",
        )
    catalogue = engine.fetch(Query(queries.PRODUCTS)).to_pandas().set_index("product_id")
    scored = score(catalogue, parsed)
    parts = list(scored.attrs["used"])
    catalogue = catalogue.join(scored)
    lines = engine.fetch(Query(queries.ORDER_LINES, cut=cut.condition(engine))).to_pandas()
    notes: list[dict[str, str]] = []
    has_returns = bool(engine.scalar(queries.RETURN_EVENTS))
    if not has_returns:
        lines["returned"] = np.nan
        notes.append(
            {
                "key": "no_returns",
                "text": "No return requests in the store: return rates are not measured.",
            }
        )
    if engine.has_table("voice_topics") and engine.scalar("SELECT count(*) FROM voice"):
        said = set(engine.fetch(Query(queries.NOT_AS_DESCRIBED)).column("order_id").to_pylist())
        lines["not_as_described"] = np.where(
            lines["rating"].notna() | lines["order_id"].isin(said),
            lines["order_id"].isin(said).astype(float),
            np.nan,
        )
    else:
        lines["not_as_described"] = np.nan
        notes.append(
            {
                "key": "no_voice",
                "text": "Customer texts are not scored yet (klantreis voice): "
                "no 'not as described' shares.",
            }
        )
    lines["review_score"] = lines["rating"]
    lines["low_review"] = np.where(lines["rating"].notna(), (lines["rating"] <= 2) * 1.0, np.nan)
    views = engine.fetch(Query(queries.VIEWS, cut=cut.condition(engine)))
    views = views.to_pandas().set_index("product_id")

    known = lines["product_id"].isin(catalogue.index)
    coverage = {
        "products": len(catalogue),
        "lines": len(lines),
        "lines_in_catalogue": int(known.sum()),
        "orders": int(lines["order_id"].nunique()),
        "reviewed_lines": int(lines["rating"].notna().sum()),
        "viewed_products": len(views),
    }
    columns = ["category", "price", "photos", "score", *[f"{p}_share" for p in parts]]
    lines = lines[known].join(
        catalogue[columns].rename(columns={"price": "price_catalogue"}), on="product_id"
    )
    lines["price"] = lines["price"].fillna(lines["price_catalogue"])
    per_product = _per_product(catalogue, lines, views)
    effects = _effects(lines, per_product, parts)
    fix_first, method = _fix_first(per_product, effects, outcome, parsed, parts)
    return ContentQuality(
        products=_result(per_product.sort_values(["lines", "product_id"], ascending=[False, True])),
        categories=_result(_per_category(per_product)),
        by_photos=_result(_by_photos(lines)),
        effects=_result(pd.DataFrame(effects)),
        fix_first=_result(fix_first),
        coverage=coverage,
        parts=parts,
        method=method,
        outcome=outcome,
        notes=notes,
    )


def photo_bucket(photos: pd.Series) -> pd.Series:
    """`missing` (the catalogue does not say), `0`, `1`, `2–3`, `4+`."""
    value = pd.to_numeric(photos, errors="coerce")
    out = pd.Series("4+", index=photos.index, dtype=object)
    out[value <= 3] = "2–3"
    out[value == 1] = "1"
    out[value <= 0] = "0"
    out[value.isna()] = "missing"
    return out


def _rates(frame: pd.DataFrame) -> dict[str, Any]:
    reviewed = frame["rating"].notna()
    return {
        "lines": len(frame),
        "reviewed": int(reviewed.sum()),
        "review_score": _mean(frame.loc[reviewed, "rating"]),
        "low_review_share": _mean(frame.loc[reviewed, "low_review"]),
        "return_rate": _mean(frame["returned"].dropna()),
        "not_as_described_share": _mean(frame["not_as_described"].dropna()),
    }


def _mean(values: pd.Series) -> float | None:
    return None if values.empty else round(float(values.mean()), 6)


def _by_photos(lines: pd.DataFrame) -> pd.DataFrame:
    buckets = photo_bucket(lines["photos"])
    rows = []
    for bucket in PHOTO_BUCKETS:
        part = lines[buckets == bucket]
        if len(part):
            rows.append(
                {"photos": bucket, "products": int(part["product_id"].nunique()), **_rates(part)}
            )
    return pd.DataFrame(rows)


def _per_product(catalogue: pd.DataFrame, lines: pd.DataFrame, views: pd.DataFrame) -> pd.DataFrame:
    grouped = lines.groupby("product_id")
    reviewed = lines[lines["rating"].notna()].groupby("product_id")
    out = catalogue.copy()
    out["lines"] = grouped.size().reindex(out.index).fillna(0).astype(int)
    out["reviewed"] = reviewed.size().reindex(out.index).fillna(0).astype(int)
    out["review_score"] = reviewed["rating"].mean().reindex(out.index)
    out["low_review_share"] = reviewed["low_review"].mean().reindex(out.index)
    out["low_reviews"] = reviewed["low_review"].sum().reindex(out.index).fillna(0)
    out["return_rate"] = grouped["returned"].mean().reindex(out.index)
    out["not_as_described_share"] = grouped["not_as_described"].mean().reindex(out.index)
    out["viewed"] = views["viewed"].reindex(out.index).fillna(0).astype(int)
    out["added"] = views["added"].reindex(out.index).fillna(0).astype(int)
    out["view_to_cart"] = np.where(out["viewed"] > 0, out["added"] / out["viewed"].clip(1), np.nan)
    out["photos_bucket"] = photo_bucket(out["photos"])
    price = lines.groupby("product_id")["price"].median().reindex(out.index)
    out["price"] = out["price"].fillna(price)
    return out.reset_index().rename(columns={"index": "product_id"})


def _per_category(products: pd.DataFrame) -> pd.DataFrame:
    frame = products.assign(category=products["category"].fillna("(none)"))

    def weighted(group: pd.DataFrame, column: str, weight: str) -> float | None:
        w = group[weight].where(group[column].notna(), 0)
        return (
            None if w.sum() == 0 else round(float((group[column].fillna(0) * w).sum() / w.sum()), 4)
        )

    rows = []
    for category, group in frame.groupby("category"):
        rows.append(
            {
                "category": category,
                "products": len(group),
                "score": round(float(group["score"].mean()), 1),
                "lines": int(group["lines"].sum()),
                "reviewed": int(group["reviewed"].sum()),
                "review_score": weighted(group, "review_score", "reviewed"),
                "low_review_share": weighted(group, "low_review_share", "reviewed"),
                "return_rate": weighted(group, "return_rate", "lines"),
                "view_to_cart": None
                if group["viewed"].sum() == 0
                else round(float(group["added"].sum() / group["viewed"].sum()), 4),
            }
        )
    return pd.DataFrame(rows).sort_values(["lines", "category"], ascending=[False, True])


def _controls(frame: pd.DataFrame) -> np.ndarray:
    price = pd.to_numeric(frame["price"], errors="coerce").astype(float)
    price = price.fillna(price.median() if price.notna().any() else 0.0)
    controls = pd.DataFrame({"log_price": np.log1p(price.clip(lower=0))}, index=frame.index)
    values = frame["category"].fillna("(none)").astype(str)
    keep = values.value_counts().index[:TOP_CATEGORIES]
    values = values.where(values.isin(keep), "(other)")
    dummies = pd.get_dummies(values, prefix="category", drop_first=True, dtype=float)
    return pd.concat([controls, dummies], axis=1).to_numpy(dtype=float)


def _effects(lines: pd.DataFrame, products: pd.DataFrame, parts: list[str]) -> list[dict[str, Any]]:
    """Per outcome and driver: the adjusted effect with its 95 % interval."""
    drivers = {"completeness": ("completeness (per 10 points)", "score", 0.1)}
    for part in parts:
        drivers[part] = (f"{part} (none → full)", f"{part}_share", 1.0)
    viewed = products[products["viewed"] >= MIN_VIEWS]
    frames = {name: lines for name in OUTCOMES if name != "view_to_cart"}
    frames["view_to_cart"] = viewed
    rows: list[dict[str, Any]] = []
    for name, spec in OUTCOMES.items():
        frame = frames[name]
        y = pd.to_numeric(frame[name], errors="coerce")
        usable = y.notna().to_numpy()
        if usable.sum() < MIN_LINES or y[usable].nunique() < 2:
            continue
        data = frame[usable]
        x = np.column_stack([data[c].to_numpy(dtype=float) * k for _, c, k in drivers.values()])
        fits = one_pass_fits(y[usable].to_numpy(dtype=float), x, _controls(data))
        for i, (key, (driver, _, _)) in enumerate(drivers.items()):
            if not np.isfinite(fits.effect[i]):
                continue
            rows.append(
                {
                    "outcome": name,
                    "outcome_label": spec.label,
                    "driver_key": key,
                    "driver": driver,
                    "effect": round(float(fits.effect[i]) * spec.scale, 4),
                    "ci_low": round(float(fits.ci_low[i]) * spec.scale, 4),
                    "ci_high": round(float(fits.ci_high[i]) * spec.scale, 4),
                    "p_value": float(fits.p_value[i]),
                    "unit": spec.unit,
                    "n": int(usable.sum()),
                    "rows": "products" if name == "view_to_cart" else "order lines",
                }
            )
    return rows


def _fix_first(
    products: pd.DataFrame,
    effects: list[dict[str, Any]],
    outcome: str,
    rules: Rules,
    parts: list[str],
) -> tuple[pd.DataFrame, str]:
    spec = OUTCOMES[outcome]
    found = [e for e in effects if e["outcome"] == outcome and e["driver_key"] == "completeness"]
    frame = products[products["lines"] > 0].copy()
    frame["gap"] = (100.0 - frame["score"]).clip(lower=0)
    records = frame.to_dict("records")
    frame["missing_parts"] = [_missing_parts(row, rules, parts) for row in records]
    frame["missing"] = [_missing(gaps) for gaps in frame["missing_parts"]]
    sign = 1.0 if spec.higher_is_better else -1.0
    measured = bool(found) and (
        found[0]["ci_low"] > 0 if spec.higher_is_better else found[0]["ci_high"] < 0
    )
    base = frame["viewed"] if outcome == "view_to_cart" else frame["reviewed"]
    if outcome == "returned":
        base = frame["lines"]
    if measured:
        per_point = sign * found[0]["effect"] / spec.scale / 10.0
        frame["lost"] = (per_point * frame["gap"] * base).round(2)
        frame["weight"] = None
        frame = frame[frame["lost"] > 0].sort_values(
            ["lost", "product_id"], ascending=[False, True]
        )
        what = "view → cart additions" if outcome == "view_to_cart" else spec.label
        method = (
            f"Ranked by {what} lost in total: the adjusted effect of 10 completeness points "
            f"({found[0]['effect']:+.2f} {spec.unit}, 95 % CI {found[0]['ci_low']:+.2f} … "
            f"{found[0]['ci_high']:+.2f}; category and log price held equal) × the page's gap "
            "to 100 × its orders."
        )
    else:
        frame["lost"] = None
        frame["weight"] = frame["gap"] * base
        frame = frame[frame["weight"] > 0].sort_values(
            ["weight", "product_id"], ascending=[False, True]
        )
        method = (
            f"No measured effect of completeness on {spec.label} (its 95 % interval includes "
            "zero, or too few orders): ranked by the gap to 100 × orders instead."
        )
    keep = ["product_id", "name", "category", "score", "missing", "missing_parts", "lines"]
    keep += ["reviewed"]
    keep += ["review_score", "low_review_share", "return_rate", "view_to_cart", "gap", "lost"]
    keep += ["weight"]
    frame = frame[keep].head(200).reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame, method


def _missing_parts(row: dict[str, Any], rules: Rules, parts: list[str]) -> list[dict[str, Any]]:
    """The parts below full: `{part, value, full}`, value None when the catalogue is silent."""
    gaps = []
    for part in parts:
        value, full = row.get(part), rules.parts[part].full
        if value is None or pd.isna(value):
            gaps.append({"part": part, "value": None, "full": full})
        elif value < full:
            gaps.append({"part": part, "value": float(value), "full": full})
    return gaps


def _missing(gaps: list[dict[str, Any]]) -> str:
    """What the page lacks, in words (`1 of 4 photos, no description characters`)."""
    said = []
    for gap in gaps:
        words, value = _WORDS[gap["part"]], gap["value"]
        if value is None:
            said.append(f"{words} unknown")
        elif value <= 0:
            said.append(f"no {words}")
        else:
            said.append(f"{value:,.0f} of {gap['full']:,.0f} {words}")
    return ", ".join(said)


_WORDS = {
    "photos": "photos",
    "description_length": "description characters",
    "specifications": "specifications",
}


def _result(frame: pd.DataFrame) -> Result:
    frame = frame.replace({np.nan: None})
    return Result(pa.Table.from_pandas(frame, preserve_index=False))
