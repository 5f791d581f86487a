"""After a model refresh the jobs that store results of the model run at once, in order,
whatever their schedule, so the pages (which read those results as they are) catch up."""

from __future__ import annotations

import time
from pathlib import Path

import klantreis
from klantreis.present.api.routine import Job, Routine


def test_a_model_refresh_runs_the_jobs_after_it_at_once(tmp_path: Path) -> None:
    ran: list[str] = []
    refreshes = iter([None, "rebuilt"])

    def model(kr, app):
        ran.append("model")
        return next(refreshes, None)

    def job(name: str):
        def run(kr, app):
            ran.append(name)

        return Job(name, 1000, run)

    jobs = [Job("model", 0.3, model), job("cases"), job("alerts"), job("dashboard")]
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        routine = Routine(None, kr, jobs).start()  # type: ignore[arg-type]
        try:
            deadline = time.monotonic() + 30
            while ran.count("dashboard") < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            routine.stop()
    assert ran[:4] == ["model", "cases", "alerts", "dashboard"]  # the first round: all due
    second = ran.index("model", 1)
    # the refresh found nothing to do: nothing else ran; the next one rebuilt the model
    after = ran[ran.index("model", second + 1) + 1 :]
    assert after[:2] == ["cases", "dashboard"], ran  # alerts is not a result of the model


def test_indexing_persons_alone_runs_nothing_after_the_model(tmp_path: Path) -> None:
    """The model job that only indexed `journey_events` by person again (the model itself as
    it was) is no refresh: the jobs after the model wait for their own schedule."""
    ran: list[str] = []
    results = iter([None, "persons indexed"])

    def model(kr, app):
        ran.append("model")
        return next(results, None)

    def job(name: str):
        def run(kr, app):
            ran.append(name)

        return Job(name, 1000, run)

    jobs = [Job("model", 0.3, model), job("cases"), job("dashboard")]
    with klantreis.open(tmp_path / "s.duckdb") as kr:
        routine = Routine(None, kr, jobs).start()  # type: ignore[arg-type]
        try:
            deadline = time.monotonic() + 30
            while ran.count("model") < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            routine.stop()
    assert ran[:3] == ["model", "cases", "dashboard"]  # the first round: all due
    assert ran.count("model") >= 4 and set(ran[3:]) == {"model"}, ran
