"""The product's own fit on the CDNOW sample gives the published BG/NBD and Gamma-Gamma
estimates (Fader, Hardie & Lee 2005), and says how the 39-week holdout came out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import cli_here

import klantreis
from klantreis.collect.imports.cdnow import import_cdnow

pytestmark = pytest.mark.slow

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def calibrated(cdnow_store: Path) -> dict:
    with klantreis.open(cdnow_store) as kr:
        return kr.value(now="1997-09-30", horizon_weeks=39).as_json()


def test_bgnbd_estimates_are_the_published_ones(calibrated: dict) -> None:
    assert calibrated["method"] == "bgnbd"
    assert calibrated["persons"] == 2357 and calibrated["repeat_buyers"] == 946
    for name, published in PUBLISHED_BGNBD.items():
        assert calibrated["bgnbd"][name] == pytest.approx(published, rel=0.005), name
    assert calibrated["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.5)
    # CDNOW's buyers pin every parameter down: nothing to warn about
    assert calibrated["at_boundary"] == [] and calibrated["identified"] is True


def test_gamma_gamma_estimates_are_the_published_ones(calibrated: dict) -> None:
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert calibrated["gamma_gamma"][name] == pytest.approx(published, rel=0.005), name


def test_holdout_predicted_against_actual(calibrated: dict) -> None:
    holdout = calibrated["holdout"]
    assert holdout["start"] == "1997-09-30T00:00:00" and holdout["end"] == "1998-06-30T00:00:00"
    assert holdout["complete"]
    assert holdout["actual_purchases"] == 1882
    # The conditional expectation summed over the 2,357 customers: 1,653 (12 % under).
    assert holdout["predicted_purchases"] == pytest.approx(1653.4, abs=1)


def test_value_command_on_cdnow(cdnow_store: Path) -> None:
    done = cli_here(
        "value",
        "--now",
        "1997-09-30",
        "--horizon-weeks",
        "39",
        "--json",
        store=cdnow_store,
        check=True,
    )
    found = json.loads(done.stdout)
    assert found["currency"] == "USD"
    assert found["bgnbd"]["r"] == pytest.approx(0.243, rel=0.005)
    shown = cli_here(
        "value", "--now", "1997-09-30", "--horizon-weeks", "39", store=cdnow_store, check=True
    )
    assert "r=0.243 α=4.414 a=0.793 b=2.426" in shown.stdout
    assert "predicted 1,653.4 purchases, actual 1,882" in shown.stdout


def test_a_bad_line_is_quarantined_and_the_rest_kept(tmp_path: Path) -> None:
    log = tmp_path / "cdnow.txt"
    log.write_text(
        " 00001 19970101  1   11.77\n 00001 1997-01-02  1   9.00\n 00002 19970112  2\n"
        " 00002 19970113  1   12.00\n"
    )
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        summary = import_cdnow(kr.store, log)
        again = import_cdnow(kr.store, log)
        quarantined = kr.sql("SELECT line, column_name, reason FROM quarantine ORDER BY line")
    assert summary.events_stored == 2 and summary.quarantined == 2
    assert again.events_stored == 0 and again.duplicates == 2
    rows = quarantined.to_pylist()
    assert [(r["line"], r["column_name"]) for r in rows] == [(2, "date"), (3, "line")]
    assert "1997-01-02" in rows[0]["reason"]


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    done = cli_here("import", "cdnow", str(tmp_path / "nope.txt"), store=tmp_path / "s.duckdb")
    assert done.returncode == 2
    assert "nope.txt: no such file" in done.stderr
