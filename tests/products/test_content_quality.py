"""Content quality on the Olist sample, checked against figures computed from its CSV files.

The oracle reads the published files with the `csv` module and fits the adjusted effect with
statsmodels; nothing of klantreis is used to compute the expected values.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from typer.testing import CliRunner

import klantreis
from klantreis.errors import KlantreisError
from klantreis.measure.products import content_quality
from klantreis.present.cli.app import app
from klantreis.store import Store

pytestmark = pytest.mark.slow


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def oracle(olist_dir: Path) -> pd.DataFrame:
    """One row per (order, product): its photos, score, category, price and mean review."""
    products = {r["product_id"]: r for r in _rows(olist_dir, "olist_products_dataset.csv")}
    english = {
        r["product_category_name"]: r["product_category_name_english"]
        for r in _rows(olist_dir, "product_category_name_translation.csv")
    }
    ratings: dict[str, list[int]] = defaultdict(list)
    for r in _rows(olist_dir, "olist_order_reviews_dataset.csv"):
        ratings[r["order_id"]].append(int(r["review_score"]))
    prices: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in _rows(olist_dir, "olist_order_items_dataset.csv"):
        prices[(r["order_id"], r["product_id"])].append(float(r["price"]))
    rows = []
    for (order_id, product_id), paid in prices.items():
        p = products[product_id]

        def value(column: str, p: dict[str, str] = p) -> float | None:
            return float(p[column]) if p[column].strip() else None

        photos, text = value("product_photos_qty"), value("product_description_lenght")
        specs = sum(
            1
            for c in (
                "product_weight_g",
                "product_length_cm",
                "product_height_cm",
                "product_width_cm",
            )
            if p[c].strip()
        )
        score = (
            40 * min((photos or 0) / 4, 1) + 40 * min((text or 0) / 600, 1) + 20 * min(specs / 4, 1)
        )
        mean = sum(ratings[order_id]) / len(ratings[order_id]) if ratings[order_id] else None
        category = p["product_category_name"] or None
        rows.append(
            {
                "order_id": order_id,
                "photos": photos,
                "score": round(score, 1),
                "category": english.get(category or "", category) or "(none)",
                "price": sum(paid) / len(paid),
                "rating": mean,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def quality(olist_store: Path):
    with klantreis.open(olist_store) as kr:
        return kr.products().as_json()


def _bucket(photos: float | None) -> str:
    if photos is None or math.isnan(photos):
        return "missing"
    return "1" if photos == 1 else "2–3" if photos <= 3 else "4+"


def test_photo_buckets_are_the_shares_of_the_csvs(quality: dict, oracle: pd.DataFrame) -> None:
    reviewed = oracle[oracle["rating"].notna()]
    expected = (
        reviewed.assign(bucket=reviewed["photos"].map(_bucket), low=reviewed["rating"] <= 2)
        .groupby("bucket")["low"]
        .mean()
        .to_dict()
    )
    got = {row["photos"]: row["low_review_share"] for row in quality["by_photos"]}
    assert got == pytest.approx(expected, abs=1e-6)
    # The figures the shop owners' lesson quotes for this sample: 1 photo 15.9 %, 2–3 photos
    # 13.8 %, 4+ photos 13.4 %, missing information 20.0 % of orders with 1–2★ reviews.
    assert {k: round(v * 100, 1) for k, v in got.items()} == {
        "1": 15.9,
        "2–3": 13.8,
        "4+": 13.4,
        "missing": 20.0,
    }


def test_adjusted_effect_is_that_of_an_ols_fit_on_the_csvs(
    quality: dict, oracle: pd.DataFrame
) -> None:
    data = oracle[oracle["rating"].notna()].reset_index(drop=True)
    top = data["category"].value_counts().index[:15]
    category = data["category"].where(data["category"].isin(top), "(other)")
    design = pd.concat(
        [
            (data["score"] / 10).rename("completeness"),
            np.log1p(data["price"]).rename("log_price"),
            pd.get_dummies(category, drop_first=True, dtype=float),
        ],
        axis=1,
    )
    fit = sm.OLS((data["rating"] <= 2).astype(float), sm.add_constant(design)).fit(cov_type="HC3")
    low, high = fit.conf_int().loc["completeness"]
    (found,) = [
        e
        for e in quality["effects"]
        if e["outcome"] == "low_review" and e["driver_key"] == "completeness"
    ]
    assert found["n"] == len(data)
    assert found["effect"] == pytest.approx(fit.params["completeness"] * 100, abs=1e-3)
    assert (found["ci_low"], found["ci_high"]) == pytest.approx((low * 100, high * 100), abs=1e-3)
    assert found["ci_high"] < 0  # fuller pages, fewer 1–2★ reviews, on this sample


def test_fix_first_ranks_by_outcome_lost(quality: dict) -> None:
    ranked = quality["fix_first"]
    assert ranked and all(r["lost"] is not None for r in ranked)
    lost = [r["lost"] for r in ranked]
    assert lost == sorted(lost, reverse=True)
    (effect,) = [
        e
        for e in quality["effects"]
        if e["outcome"] == "low_review" and e["driver_key"] == "completeness"
    ]
    first = ranked[0]
    expected = -effect["effect"] / 100 / 10 * (100 - first["score"]) * first["reviewed"]
    assert first["lost"] == pytest.approx(expected, abs=0.01)
    assert first["missing_parts"], "a page to fix lacks something"


def test_cli_json_is_the_python_api(olist_store: Path, quality: dict) -> None:
    result = CliRunner().invoke(app, ["products", "--store", str(olist_store), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["by_photos"] == quality["by_photos"]


def test_no_catalogue_and_bad_rules_are_clear_errors(tmp_path: Path, olist_store: Path) -> None:
    Store(tmp_path / "empty.duckdb").close()
    result = CliRunner().invoke(app, ["products", "--store", str(tmp_path / "empty.duckdb")])
    assert result.exit_code == 2 and "import products" in result.output
    rules = tmp_path / "rules.yaml"
    rules.write_text("parts:\n  photos: {weight: 50, full: 0}\n", encoding="utf-8")
    with (
        klantreis.open(olist_store) as kr,
        pytest.raises(KlantreisError, match=r"parts\.photos\.full"),
    ):
        content_quality(kr, rules=rules)


def test_own_rules_change_the_score(tmp_path: Path, olist_store: Path) -> None:
    rules = tmp_path / "photos-only.yaml"
    rules.write_text("parts:\n  photos: {weight: 1, full: 2}\n", encoding="utf-8")
    with klantreis.open(olist_store) as kr:
        products = content_quality(kr, rules=rules).products.to_pylist()
    for p in products[:200]:
        expected = None if p["photos"] is None else min(p["photos"] / 2, 1) * 100
        assert p["score"] == pytest.approx(expected or 0.0)
