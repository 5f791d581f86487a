"""Intervals and trends for the scorecard, computed from aggregates (never from raw events).

Breach rates get Wilson score intervals (as scipy's `binomtest(...).proportion_ci`), which
stay inside 0..1 and behave for small counts and rates near 0 %. Differences of shares between
persons who met and who did not use Newcombe's interval (as statsmodels'); both in closed form,
so showing a scorecard imports neither library (seconds per process). Differences of means
and of NPS use normal-approximation (Welch) intervals on the group aggregates.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

Z95 = NormalDist().inv_cdf(0.975)


def wilson(breached: int, cases: int) -> tuple[float | None, float | None]:
    """95 % Wilson interval of a breach rate; (None, None) without cases.

    The closed form of Newcombe (1998), as scipy's `binomtest(...).proportion_ci(method=
    "wilson")` computes it (a test compares the two): importing scipy.stats for it took seconds
    in every process that shows a scorecard."""
    if cases <= 0:
        return None, None
    return _wilson(int(breached), int(cases))


def _wilson(count: int, n: int) -> tuple[float, float]:
    p = count / n
    denom = 2 * (n + Z95**2)
    center = (2 * n * p + Z95**2) / denom
    delta = Z95 / denom * math.sqrt(4 * n * p * (1 - p) + Z95**2)
    low = 0.0 if count == 0 else max(0.0, center - delta)
    high = 1.0 if count == n else min(1.0, center + delta)
    return low, high


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def mean_difference(
    met: tuple[int, float | None, float | None], breached: tuple[int, float | None, float | None]
) -> dict[str, Any] | None:
    """Breached minus met of a mean, from (n, mean, sample variance) of each group."""
    (n_met, mean_met, var_met), (n_b, mean_b, var_b) = met, breached
    if not n_met or not n_b or mean_met is None or mean_b is None:
        return None
    difference = mean_b - mean_met
    se = (
        math.sqrt((var_met or 0.0) / n_met + (var_b or 0.0) / n_b)
        if n_met > 1 and n_b > 1
        else float("nan")
    )
    return {
        "difference": _round(difference),
        "low": _round(difference - Z95 * se),
        "high": _round(difference + Z95 * se),
    }


def proportion_difference(
    met: tuple[int, float | None], breached: tuple[int, float | None]
) -> dict[str, Any] | None:
    """Breached minus met of a share, with Newcombe's hybrid score interval (method 10 of
    Newcombe 1998, built from the two Wilson intervals; what statsmodels'
    `confint_proportions_2indep(method="newcomb")` gives, which a test compares), which unlike
    the Wald interval stays honest for small groups and shares of 0 or 1."""
    (n_met, p_met), (n_b, p_b) = met, breached
    if not n_met or not n_b or p_met is None or p_b is None:
        return None
    count_b, count_met = round(p_b * n_b), round(p_met * n_met)
    share_b, share_met = count_b / n_b, count_met / n_met
    low_b, high_b = _wilson(count_b, n_b)
    low_met, high_met = _wilson(count_met, n_met)
    difference = share_b - share_met
    low = difference - math.sqrt((share_b - low_b) ** 2 + (high_met - share_met) ** 2)
    high = difference + math.sqrt((share_met - low_met) ** 2 + (high_b - share_b) ** 2)
    return {
        "difference": _round(p_b - p_met),
        "low": _round(low),
        "high": _round(high),
    }


def nps(n: int, promoters: float | None, detractors: float | None) -> float | None:
    if not n or promoters is None or detractors is None:
        return None
    return 100.0 * (promoters - detractors)


def nps_difference(
    met: tuple[int, float | None, float | None], breached: tuple[int, float | None, float | None]
) -> dict[str, Any] | None:
    """Difference of NPS (in points) with an adjusted-Wald interval.

    The plain Wald interval from the promoter and detractor shares is zero wide when a group's
    answers are all alike (three promoters: variance p + d - (p - d)^2 = 0) and, for a group of a
    few answers, runs past what an NPS difference can be (±200). Rocks (2016), "Interval
    estimation for the Net Promoter Score", The American Statistician 70(4), found the adjusted
    Wald best: each group gets 3 more answers, ¾ of them promoters and ¾ detractors
    (https://arxiv.org/abs/1601.07235). The interval is clipped to ±200; the difference shown
    is the observed one."""
    (n_met, p_met, d_met), (n_b, p_b, d_b) = met, breached
    if not n_met or not n_b or None in (p_met, d_met, p_b, d_b):
        return None
    assert p_met is not None and d_met is not None and p_b is not None and d_b is not None
    difference = 100.0 * ((p_b - d_b) - (p_met - d_met))
    net_met, var_met, n_met_adj = _adjusted_nps(n_met, p_met, d_met)
    net_b, var_b, n_b_adj = _adjusted_nps(n_b, p_b, d_b)
    centre = 100.0 * (net_b - net_met)
    se = 100.0 * math.sqrt(var_met / n_met_adj + var_b / n_b_adj)
    return {
        "difference": _round(difference, 2),
        "low": _round(max(-200.0, centre - Z95 * se), 2),
        "high": _round(min(200.0, centre + Z95 * se), 2),
    }


def _adjusted_nps(n: int, promoters: float, detractors: float) -> tuple[float, float, float]:
    """(net score, variance per answer, answers) with the adjusted-Wald pseudo-answers."""
    answers = n + 3.0
    p = (promoters * n + 0.75) / answers
    d = (detractors * n + 0.75) / answers
    return p - d, p + d - (p - d) ** 2, answers


def trend(points: list[dict[str, Any]], min_cases: int = 20) -> dict[str, Any]:
    """Least-squares slope of the breach rate over periods with enough cases, and its direction.

    `worsening`/`improving` when the slope differs from zero at the 5 % level, else `flat`;
    `too little data` with fewer than three periods of at least `min_cases` cases.
    """
    usable = [(i, p) for i, p in enumerate(points) if p["cases"] >= min_cases]
    if len(usable) < 3:
        return {"slope_per_period": None, "direction": "too little data", "p_value": None}
    from scipy import stats

    xs = [i for i, _ in usable]
    ys = [p["breached"] / p["cases"] for _, p in usable]
    fit = stats.linregress(xs, ys)
    slope, p_value = float(fit.slope), float(fit.pvalue)
    if math.isnan(p_value) or p_value >= 0.05:
        direction = "flat"
    else:
        direction = "worsening" if slope > 0 else "improving"
    return {
        "slope_per_period": _round(slope, 5),
        "direction": direction,
        "p_value": _round(p_value, 4),
    }
