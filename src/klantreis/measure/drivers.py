"""Many one-driver regressions that share their controls, solved in one pass.

A key-driver analysis fits, per driver, `y ~ 1 + driver + controls` by ordinary least squares
with heteroskedasticity-robust (HC3) standard errors. Fitting them one by one repeats the same
work on the controls for every driver. By the Frisch–Waugh–Lovell theorem a driver's coefficient
is the regression of the controls-residualised outcome on the controls-residualised driver, and
the row of (X'X)⁻¹X' that gives it is that residualised driver divided by its sum of squares, so
the HC3 sandwich for it needs only the residualised columns and each row's leverage (the
controls' leverage plus the driver's share). All drivers are then a few matrix products: one
projection onto the controls, then column sums. The estimates, standard errors and intervals are
those of the separate fits (statsmodels `OLS(...).fit(cov_type="HC3")`, normal intervals), which
`tests/personas/test_drivers.py` checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import erfc, sqrt
from statistics import NormalDist

import numpy as np
from threadpoolctl import threadpool_limits

Z95 = NormalDist().inv_cdf(0.975)
CHUNK = 64
"""Drivers per block at most, so the n × drivers work arrays stay small."""
BLOCK_CELLS = 1 << 21
"""Rows × drivers per block at most (16 MiB per float work array; about six of them live at
once): with many rows the block narrows, so the work arrays do not grow with the orders. At
half a million orders 64 drivers a block were six arrays of 256 MiB."""


@dataclass
class DriverFits:
    """Per driver (in column order): coefficient, HC3 standard error, 95 % interval, p-value."""

    effect: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray


def _basis(controls: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of [1, controls], dropping directions that are
    (numerically) not there, as the pseudo-inverse statsmodels uses would.

    Built from the small Gram matrix (k × k) rather than an SVD of the n × k design: two rounds
    of X·V·w^-½ (the second removes what the first lost to rounding), a fraction of the time.
    """
    n = controls.shape[0]
    basis = np.column_stack([np.ones(n), controls]) if controls.size else np.ones((n, 1))
    for _ in range(2):
        w, v = np.linalg.eigh(basis.T @ basis)
        keep = w > w.max() * 1e-12
        basis = basis @ (v[:, keep] / np.sqrt(w[keep]))
    return basis


def one_pass_fits(y: np.ndarray, drivers: np.ndarray, controls: np.ndarray) -> DriverFits:
    """OLS with HC3 errors of `y ~ 1 + drivers[:, j] + controls`, for every column j.

    BLAS runs on one thread here: the products are thin (n × a few dozen), where threads
    gain little and, on a busy machine, wait on each other for seconds.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fits(y, drivers, controls)


def _fits(y: np.ndarray, drivers: np.ndarray, controls: np.ndarray) -> DriverFits:
    y = np.asarray(y, dtype=float)
    # Kept in their own type (booleans: one byte a cell); widened to floats a block at a time.
    drivers = np.asarray(drivers).reshape(len(y), -1)
    controls = np.asarray(controls, dtype=float).reshape(len(y), -1)
    q = _basis(controls)
    leverage = np.einsum("ij,ij->i", q, q)
    y_res = y - q @ (q.T @ y)
    width = drivers.shape[1]
    effect, se = np.full(width, np.nan), np.full(width, np.nan)
    step = max(1, min(CHUNK, BLOCK_CELLS // max(len(y), 1)))
    for start in range(0, width, step):
        block = drivers[:, start : start + step].astype(float)
        d = block - q @ (q.T @ block)
        squares = np.einsum("ij,ij->j", d, d)
        usable = squares > 1e-9 * max(len(y), 1)
        ss = np.where(usable, squares, 1.0)
        beta = (d.T @ y_res) / ss
        d2 = d * d
        residual = y_res[:, None] - d * beta
        hat = leverage[:, None] + d2 / ss
        with np.errstate(divide="ignore", invalid="ignore"):
            omega = (residual / (1.0 - hat)) ** 2
            variance = np.einsum("ij,ij->j", d2, omega) / ss**2
        effect[start : start + step] = np.where(usable, beta, np.nan)
        se[start : start + step] = np.where(usable, np.sqrt(variance), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(effect / se)
    # Two-sided normal p-value, erfc(|z|/√2), without importing scipy.stats (seconds to load).
    p_value = np.array([erfc(v / sqrt(2)) if np.isfinite(v) else np.nan for v in z])
    return DriverFits(
        effect=effect,
        se=se,
        ci_low=effect - Z95 * se,
        ci_high=effect + Z95 * se,
        p_value=p_value,
    )
