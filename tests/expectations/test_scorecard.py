"""Scorecard statistics, breakdowns, effects on outcomes and the CLI around them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stories import story
from typer.testing import CliRunner

from klantreis.measure.contract import QueryError
from klantreis.measure.expectations import stats
from klantreis.measure.expectations.scorecard import ScorecardError
from klantreis.present.cli.app import app


def test_wilson_interval_matches_the_published_values():
    # Newcombe (1998), table I: 1/10 -> 0.0179..0.4042; 0/10 -> 0..0.2775
    low, high = stats.wilson(1, 10)
    assert (round(low, 4), round(high, 4)) == (0.0179, 0.4042)
    low, high = stats.wilson(0, 10)
    assert (round(low, 4), round(high, 4)) == (0.0, 0.2775)
    assert stats.wilson(0, 0) == (None, None)


def test_newcombe_difference_matches_the_published_example():
    # Newcombe (1998), method 10, example (a): 56/70 - 48/80 = 0.2000, 95 % 0.0524..0.3339
    diff = stats.proportion_difference((80, 48 / 80), (70, 56 / 70))
    assert diff == {"difference": 0.2, "low": 0.0524, "high": 0.3339}


def test_nps_difference_interval_is_honest_for_small_groups():
    # Three promoters against two detractors: the plain Wald interval was zero wide (-200..-200)
    # and one answer each ran past ±200; the adjusted Wald interval stays inside and is wide.
    diff = stats.nps_difference((3, 1.0, 0.0), (2, 0.0, 1.0))
    assert diff is not None and diff["difference"] == -200.0
    assert -200.0 <= diff["low"] < diff["high"] <= 200.0
    assert diff["high"] - diff["low"] > 100.0
    one = stats.nps_difference((1, 0.0, 1.0), (1, 1.0, 0.0))
    assert one is not None and -200.0 <= one["low"] < 0.0 < one["high"] <= 200.0
    # Large groups: as the plain Wald interval (the pseudo-answers no longer matter).
    big = stats.nps_difference((20_000, 0.5, 0.2), (20_000, 0.4, 0.3))
    assert big is not None and big["difference"] == -20.0
    se = 100.0 * (2 * (0.5 + 0.2 - 0.3**2) / 20_000) ** 0.5
    assert abs(big["low"] - (-20.0 - 1.96 * se)) < 0.05
    assert abs(big["high"] - (-20.0 + 1.96 * se)) < 0.05


def test_trend_direction():
    rising = [{"cases": 100, "breached": b} for b in (5, 8, 12, 15, 19, 24)]
    assert stats.trend(rising)["direction"] == "worsening"
    falling = list(reversed(rising))
    assert stats.trend(falling)["direction"] == "improving"
    assert stats.trend(rising[:2])["direction"] == "too little data"


def _orders(n_late: int, n_on_time: int) -> dict:
    """Each person one order; late ones rate 1, on-time ones rate 5 and order again."""
    people = {}
    for i in range(n_late + n_on_time):
        late = i < n_late
        oid = f"o{i}"
        steps = [
            (
                "Order Completed",
                "2026-03-02T09:00",
                {"properties": {"order_id": oid, "promised_delivery_date": "2026-03-06T00:00:00"}},
            ),
            (
                "Order Shipped",
                "2026-03-03T09:00",
                {"properties": {"order_id": oid, "carrier": "PostNL" if i % 2 else "DHL"}},
            ),
            (
                "Order Delivered",
                "2026-03-08T09:00" if late else "2026-03-05T09:00",
                {"properties": {"order_id": oid}},
            ),
            (
                "Review Submitted",
                "2026-03-10T09:00",
                {"properties": {"order_id": oid, "rating": 1 if late else 5}},
            ),
            (
                "Survey Answered",
                "2026-03-11T09:00",
                {"properties": {"kind": "nps", "score": 2 if late else 10}},
            ),
        ]
        if not late:
            steps.append(
                ("Order Completed", "2026-04-02T09:00", {"properties": {"order_id": f"again{i}"}})
            )
        people[f"p{i}"] = steps
    return people


def test_effects_compare_persons_who_met_and_who_did_not(kr):
    kr.store.append(story(_orders(n_late=4, n_on_time=6)))
    score = kr.expectations().get("delivery_promise_kept")
    assert (score.cases, score.breached, score.breach_rate) == (10, 4, 0.4)
    assert score.interval["low"] < 0.4 < score.interval["high"]
    effects = score.effects
    assert effects["met"]["review_score"] == 5.0 and effects["breached"]["review_score"] == 1.0
    assert effects["review_score"]["difference"] == -4.0
    assert effects["met"]["repeat_purchase_rate"] == 1.0
    assert effects["breached"]["repeat_purchase_rate"] == 0.0
    assert effects["repeat_purchase"]["difference"] == -1.0
    assert effects["met"]["nps"] == 100.0 and effects["breached"]["nps"] == -100.0
    assert effects["nps"]["difference"] == -200.0


def test_breakdowns(kr):
    kr.store.append(story(_orders(n_late=4, n_on_time=6)))
    by_carrier = kr.expectations(by="carrier").get("delivery_promise_kept").groups
    assert {g["value"]: (g["cases"], g["breached"]) for g in by_carrier} == {
        "DHL": (5, 2),
        "PostNL": (5, 2),
    }
    by_week = kr.expectations(by="week").get("delivery_promise_kept").groups
    assert [(g["value"], g["cases"]) for g in by_week] == [("2026-03-02", 10)]
    card = kr.expectations(by="phase")
    service = next(p for p in card.phases if p["value"] == "service")
    assert service["cases"] >= 10
    with pytest.raises(QueryError, match="by: Input should be 'phase', 'persona'") as caught:
        kr.expectations(by="colour")
    assert caught.value.field == "by"
    kr.store.connection.execute("DROP TABLE IF EXISTS person_personas")
    with pytest.raises(ScorecardError, match="no personas yet"):
        kr.expectations(by="persona")
    kr.store.connection.execute(
        "CREATE TABLE person_personas AS SELECT * FROM (VALUES ('p0', 'bargain hunter'), "
        "('p1', 'loyal'), ('p9', 'loyal')) AS v(person_id, persona)"
    )
    by_persona = kr.expectations(by="persona").get("delivery_promise_kept").groups
    assert {g["value"]: (g["cases"], g["breached"]) for g in by_persona} == {
        "(none)": (7, 2),
        "bargain hunter": (1, 1),
        "loyal": (2, 1),
    }


def test_cli_json_and_errors(kr, tmp_path: Path):
    kr.store.append(story(_orders(n_late=1, n_on_time=3)))
    store = str(kr.settings.store)
    kr.close()
    runner = CliRunner()
    result = runner.invoke(app, ["expectations", "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    first = next(e for e in data["expectations"] if e["id"] == "delivery_promise_kept")
    assert {"id", "category", "phase", "cases", "breached", "breach_rate", "effects"} <= set(first)
    assert (first["cases"], first["breached"], first["breach_rate"]) == (4, 1, 0.25)
    no_data = next(e for e in data["expectations"] if e["id"] == "site_fast")
    assert no_data["status"] == "no data" and no_data["breach_rate"] is None

    table = runner.invoke(app, ["expectations", "--store", store, "--by", "carrier"])
    assert table.exit_code == 0 and "delivery_promise_kept" in table.stdout
    assert "no data: site_fast" in table.stdout

    bad = runner.invoke(app, ["expectations", "--store", store, "--by", "colour"])
    assert bad.exit_code == 2 and "by: Input should be 'phase', 'persona'" in bad.output
    bad = runner.invoke(app, ["expectations", "--store", store, "--now", "yesterday"])
    assert bad.exit_code == 2 and "now: not an ISO timestamp" in bad.output
    bad = runner.invoke(app, ["expectations", "--store", store, "--compare", "week"])
    assert bad.exit_code == 2 and "compare: Input should be 'timestamp' or 'day'" in bad.output


def test_closed_form_intervals_agree_with_scipy_and_statsmodels():
    """The intervals are written out so a scorecard imports neither library (seconds per
    process); they must stay what the libraries give."""
    from scipy.stats import binomtest
    from statsmodels.stats.proportion import confint_proportions_2indep

    for n in (1, 2, 5, 10, 37, 200, 5000):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            if not 0 <= k <= n:
                continue
            ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
            low, high = stats.wilson(k, n)
            assert abs(low - ci.low) < 1e-12 and abs(high - ci.high) < 1e-12, (k, n)
    for (n_met, k_met), (n_b, k_b) in [
        ((80, 48), (70, 56)),
        ((5, 0), (7, 7)),
        ((300, 12), (40, 9)),
    ]:
        got = stats.proportion_difference((n_met, k_met / n_met), (n_b, k_b / n_b))
        low, high = confint_proportions_2indep(
            k_b, n_b, k_met, n_met, method="newcomb", compare="diff"
        )
        assert got is not None
        assert (got["low"], got["high"]) == (round(float(low), 4), round(float(high), 4))
