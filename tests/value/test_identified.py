"""A BG/NBD fit whose dropout parameters run off to the edge says so (`at_boundary`,
`identified`), through Python, the CLI and JSON, instead of showing its figures as if the data
had pinned them down."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from servers import cli_here

import klantreis
from klantreis.measure.value.models import EDGE, fit_bgnbd


def _homogeneous_dropout(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) of buyers who all stop after a purchase with the same chance (0.2), with
    Gamma-distributed purchase rates, over 52 weeks: nothing tells who stops early."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(1.0, 1 / 5.0, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i, rate in enumerate(rates):
        t = rng.exponential(1 / rate)
        while t <= 52:
            x[i], t_x[i] = x[i] + 1, t
            if rng.random() < 0.2:
                break
            t += rng.exponential(1 / rate)
    return x, t_x, np.full(n, 52.0)


def test_one_dropout_chance_for_all_runs_a_and_b_off_to_the_edge() -> None:
    fit = fit_bgnbd(*_homogeneous_dropout(2000, seed=3))
    assert fit.a > EDGE and fit.b > EDGE
    assert fit.at_boundary() == ["a", "b"]
    assert fit.a / (fit.a + fit.b) == pytest.approx(0.2, abs=0.03)  # the one chance is found


@pytest.mark.slow
def test_the_simulated_shop_is_flagged_on_every_presenter(shop_store: Path) -> None:
    with klantreis.open(shop_store, read_only=True) as kr:
        found = kr.value(limit=1)
    assert found.method == "bgnbd" and found.at_boundary == ["a", "b"]
    assert found.identified is False and found.as_json()["identified"] is False
    printed = cli_here("value", "--json", store=shop_store)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["at_boundary"] == ["a", "b"]
    said = cli_here("value", store=shop_store)
    assert said.returncode == 0, said.stderr
    assert "Not identified: these buyers do not show who stops buying" in " ".join(
        said.stdout.split()
    )
