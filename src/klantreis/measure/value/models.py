"""BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV")
fitted by maximum likelihood with scipy.

Why not a library: `lifetimes` (the reference implementation) is unmaintained since 2020 and
fails on current pandas (its summary helper computes recencies larger than the customer's age);
`btyd` is a beta fork of it; `pymc-marketing`'s CLV module brings PyMC and PyTensor (hundreds of
megabytes, a compiler at first use) for a fit that is two closed-form likelihoods. The formulas
below are those of the papers; `tests/value/test_cdnow.py` checks that they recover the
published CDNOW estimates.

Time is in weeks (the unit of the papers, so α and the published values compare directly).
Each customer is (x, t_x, T): repeat purchases (purchase days after the first), the week of the
last purchase and the customer's age, both counted from the first purchase.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

EDGE = 1e4
"""A fitted parameter above this (or below its inverse) has run off to the edge of the fit:
the likelihood is flat that way and the data do not pin it down. Published fits lie far inside
(CDNOW: r 0.24, α 4.4, a 0.79, b 2.4); when a and b both run off, the Beta dropout has
collapsed to one probability for every buyer, a/(a+b), and who stops early is not identified."""


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD: purchase rate ~ Gamma(r, α), dropout probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def params(self) -> dict[str, float]:
        return asdict(self)

    def at_boundary(self) -> list[str]:
        """The parameters that ran off to the edge of the fit (`EDGE`), by name."""
        fitted = {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}
        return [name for name, value in fitted.items() if not 1 / EDGE <= value <= EDGE]

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
        """Probability that the customer has not dropped out by now (1 without repeats)."""
        x, t_x, age = (np.asarray(v, dtype=float) for v in (x, t_x, age))
        ratio = self._dropped_ratio(x, t_x, age)
        return 1.0 / (1.0 + ratio)

    def expected_purchases(
        self, horizon: float, x: np.ndarray, t_x: np.ndarray, age: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in the next `horizon` weeks, given the customer's history
        (FHL 2005, equation 10)."""
        x, t_x, age = (np.asarray(v, dtype=float) for v in (x, t_x, age))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + age + horizon)
        hyper = hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        left = (a + b + x - 1.0) / (a - 1.0)
        bracket = 1.0 - ((alpha + age) / (alpha + age + horizon)) ** (r + x) * hyper
        return left * bracket / (1.0 + self._dropped_ratio(x, t_x, age))

    def _dropped_ratio(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = a / (b + x - 1.0) * ((alpha + age) / (alpha + t_x)) ** (r + x)
        return np.where(x > 0, ratio, 0.0)


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend model: spend per purchase ~ Gamma(p, ν), ν ~ Gamma(q, γ)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float

    def params(self) -> dict[str, float]:
        return asdict(self)

    def expected_value(self, x: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
        """Expected spend per future purchase: the customer's own mean repeat spend shrunk to
        the population mean by how many repeat purchases it rests on."""
        x = np.asarray(x, dtype=float)
        m = np.nan_to_num(np.asarray(mean_value, dtype=float))
        p, q, g = self.p, self.q, self.gamma
        population = p * g / (q - 1.0) if q > 1 else np.nan
        weight = p * x / (p * x + q - 1.0)
        return (1.0 - weight) * population + weight * m


def _bgnbd_ll(
    log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray, n: np.ndarray
) -> float:
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1.0, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return float(np.sum(n * (a1 + a2 + np.logaddexp(a3, a4))))


def _grouped(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows and how often each occurs: customers share (x, t_x, T) often (same week
    counts), and the likelihood needs each distinct row once, weighted."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> BgNbd:
    """Maximum-likelihood BG/NBD on (x, t_x, T) per customer (weeks)."""
    (gx, gt, ga), n = _grouped(x, t_x, age)
    start = np.log([1.0, max(float(np.mean(age)), 1e-3), 1.0, 1.0])
    result = minimize(
        lambda p: -_bgnbd_ll(p, gx, gt, ga, n) / n.sum(),
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 8000, "maxfev": 8000},
    )
    r, alpha, a, b = np.exp(result.x)
    return BgNbd(float(r), float(alpha), float(a), float(b), -float(result.fun) * n.sum())


def _gg_ll(log_params: np.ndarray, x: np.ndarray, m: np.ndarray, n: np.ndarray) -> float:
    p, q, g = np.exp(log_params)
    px = p * x
    values = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + x * m)
    )
    return float(np.sum(n * values))


def fit_gamma_gamma(x: np.ndarray, mean_value: np.ndarray) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on repeat buyers: x > 0 repeat purchases with a mean
    repeat spend above zero (the caller keeps only those)."""
    (gx, gm), n = _grouped(x, mean_value)
    start = np.log([1.0, 1.0, max(float(np.mean(mean_value)), 1e-3)])
    result = minimize(
        lambda p: -_gg_ll(p, gx, gm, n) / n.sum(),
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 8000, "maxfev": 8000},
    )
    p, q, g = np.exp(result.x)
    return GammaGamma(float(p), float(q), float(g), -float(result.fun) * n.sum())
