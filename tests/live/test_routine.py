"""The server's routine: jobs run by themselves, are visible in `klantreis status`, and a
server killed in the middle of a job leaves its previous result or the new one, never half."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from servers import NO_WARM_UP, Server, cli, forwarded

import klantreis
from klantreis.collect.simulator import SimulatorConfig, simulate
from klantreis.present.api.routine import configured_jobs
from klantreis.store import Store
from live.load import Load

pytestmark = pytest.mark.slow

MODEL_TABLES = ("identities", "phase_map", "journey_events", "sessions", "journeys", "persons")


def _shop(path: Path, persons: int) -> Path:
    with klantreis.open(path) as kr:
        for batch in simulate(SimulatorConfig(persons=persons, seed=3)).iter_batches(20_000):
            kr.store.append(batch)
    return path


def _routine(**every: float) -> str:
    lines = ["[web]", "warm = false", "[routine]", "retry = 1"]
    lines += [f"{name} = {seconds}" for name, seconds in every.items()]
    return "\n".join(lines) + "\n"


def test_configured_jobs_defaults_and_errors() -> None:
    names = [job.name for job in configured_jobs({})]
    assert names[0] == "model" and {"voice", "cases", "alerts", "dashboard"} <= set(names)
    assert "voice" not in [job.name for job in configured_jobs({"voice": 0})]
    with pytest.raises(ValueError, match=r"\[routine\].*unknown setting 'modle'"):
        configured_jobs({"modle": 5})
    with pytest.raises(ValueError, match=r"\[routine\] model: seconds between runs"):
        configured_jobs({"model": -1})


NAMES = ("model", "voice", "cases")


def test_jobs_run_by_themselves_and_show_in_status(tmp_path: Path) -> None:
    store = _shop(tmp_path / "shop.duckdb", 120)
    config = _routine(model=1, voice=1, cases=1, alerts=0, review_requests=0, dashboard=0)
    server = Server(store, config=config).create_keys()
    server.start()
    try:
        # Until each job has run once: on a loaded machine that takes minutes. A failed model
        # job or a server that exits ends the wait; the ceiling only guards against a hang.
        ceiling = time.monotonic() + 1200
        jobs: dict[str, dict] = {}
        while time.monotonic() < ceiling:
            assert server.proc is not None and server.proc.poll() is None, "the server exited"
            result = forwarded("status", "--json", server=server)
            assert result.returncode == 0, result.stderr
            jobs = {row["name"]: row for row in json.loads(result.stdout)}
            assert jobs.get("model", {}).get("failures", 0) == 0, jobs["model"]
            if all(jobs.get(n, {}).get("runs", 0) >= 1 for n in NAMES):
                break
            time.sleep(1)
        assert set(NAMES) <= set(jobs)
        assert all(jobs[n]["status"] in ("ok", "running") for n in NAMES)
        assert jobs["model"]["failures"] == 0
        table = cli("status", store=store, env=server.env)
        assert "model" in table.stdout and "voice" in table.stdout
    finally:
        server.stop()
    assert not any(row[0] == "running" for row in server.stored("SELECT status FROM jobs")), (
        "a stopped server leaves no job marked running"
    )


def _time_job_on_a_copy(store: Path, job: str) -> float:
    """How long the job takes on this store (on a copy, in this process)."""
    import shutil

    from klantreis.measure.expectations.cases import ensure_cases
    from klantreis.model import ensure_built

    copy = store.with_name("copy.duckdb")
    shutil.copy(store, copy)
    with klantreis.open(copy) as kr:
        started = time.monotonic()
        ensure_built(kr)
        if job == "cases":
            started = time.monotonic()
            ensure_cases(kr)
        return time.monotonic() - started


JOB_TABLES = {
    "model": (MODEL_TABLES, "model_fingerprint"),
    "cases": (("expectation_cases", "breaches", "delights"), "expectations_fingerprint"),
}


@pytest.mark.parametrize("job", sorted(JOB_TABLES))
def test_a_server_killed_mid_job_leaves_no_half_result(tmp_path: Path, job: str) -> None:
    tables, meta_key = JOB_TABLES[job]
    store = _shop(tmp_path / "shop.duckdb", 600)
    config = _routine(
        model=3600,
        voice=0,
        cases=3600 if job == "cases" else 0,
        alerts=0,
        review_requests=0,
        dashboard=0,
    )
    took = _time_job_on_a_copy(store, job)
    server = Server(store, config=config)
    server.start()
    deadline = time.monotonic() + 180
    while f"routine job {job} started" not in server.log.read_text():
        assert time.monotonic() < deadline, f"the {job} job never started"
        time.sleep(0.01)
    time.sleep(took / 2)  # halfway through, when part of the result would be written
    server.kill()
    with Store(store, read_only=True) as handle:
        found = handle.connection.execute(
            "SELECT table_name FROM information_schema.tables"
        ).fetchall()
        present = {name for (name,) in found}
        built = [t for t in tables if t in present]
        assert built in ([], list(tables)), f"half a result of {job}: {built}"
        assert (handle.get_meta(meta_key) is None) == (built == [])
    # the next start completes it
    server.start()
    deadline = time.monotonic() + 180
    while f"routine job {job} done" not in server.log.read_text().rsplit("Started server", 1)[-1]:
        assert time.monotonic() < deadline, f"the {job} job did not finish after a restart"
        time.sleep(0.1)
    server.stop()
    assert server.stored(f"SELECT count(*) FROM {tables[-1]}")[0][0] >= 0


def test_sigterm_under_load_loses_no_acknowledged_event(tmp_path: Path) -> None:
    store = _shop(tmp_path / "shop.duckdb", 50)
    server = Server(store, config=NO_WARM_UP).create_keys()
    server.start()
    with Load(server) as load:
        time.sleep(2)
        server.stop()  # SIGTERM while batches are in flight
    rows = server.stored("SELECT message_id, count(*) FROM events GROUP BY 1")
    counts = {mid: n for mid, n in rows if mid.startswith("live-")}
    assert load.acknowledged and set(load.acknowledged) <= set(counts)
    assert all(n == 1 for n in counts.values())
