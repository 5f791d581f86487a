"""The shop's routine, run by `klantreis serve` itself: the model, voice, cases, alerts, ...

A shop leaves the server running; what used to move only when someone ran a command now runs
on a schedule (`[routine]` in klantreis.toml, seconds between runs, 0 switches a job off):

    [routine]
    model = 60            # incremental-or-full model refresh when events changed
    voice = 300           # sentiment and topics of new texts
    cases = 300           # expectation cases, breaches, delights and the scorecard's figures
    inbox = 300           # open cases (the inbox) from new breaches and other signals
    value = 300           # customer value per buyer (after the model; docs/value.md)
    opportunities = 300   # the ranked key drivers the journey map reads (after the cases)
    alerts = 300          # [[alerts]] rules (only when some are configured)
    review_requests = 3600  # only with [smtp] and review_base_url below
    review_base_url = "https://shop.example/klantreis"
    dashboard = 60        # the map's lanes, then the dashboard's default pages (stored)

After a model refresh, voice, cases, opportunities and dashboard run at once, in that order,
whatever their schedule: the dashboard's pages read what they stored, as it is
(`klantreis.model.as_built`), and never compute it while a visitor waits.

Each run is recorded in the `jobs` table (last start, duration, result, error), shown by
`klantreis status` and on the Settings page. A job that fails is reported and tried again after
`retry` seconds (default 60); it never stops the server. Jobs whose result is a set of derived
tables run in one transaction, so a server killed in the middle of one leaves the previous
result, never half of the new one; every job is safe to run twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field

from klantreis.config import SectionSettings, parse_section
from klantreis.store.schema import TableSpec, register_table
from klantreis.store.store import utcnow

if TYPE_CHECKING:
    from fastapi import FastAPI

    from klantreis.api import Klantreis

log = logging.getLogger(__name__)

JOBS_TABLE = TableSpec(
    "jobs",
    """CREATE TABLE IF NOT EXISTS jobs (
    name VARCHAR PRIMARY KEY,
    status VARCHAR,
    last_started TIMESTAMP,
    last_finished TIMESTAMP,
    duration_seconds DOUBLE,
    result VARCHAR,
    error VARCHAR,
    runs BIGINT,
    failures BIGINT,
    next_run TIMESTAMP
)""",
)
register_table(JOBS_TABLE)


@dataclass(frozen=True)
class Job:
    name: str
    every: float
    run: Callable[[Klantreis, FastAPI], str | None]
    """Does the work; returns a one-line result, or None when there was nothing to do.
    Results made of several tables are written in one transaction by the job itself
    (`Store.transaction`), which is what makes a job killed midway leave no half result."""


INDEXED = "persons indexed"
"""The model job's result when it only made the persons' index again (no model change)."""


def _model(kr: Klantreis, _: FastAPI) -> str | None:
    from klantreis.model import ensure_built
    from klantreis.model.person_index import ensure_person_index

    rebuilt = ensure_built(kr)
    # A full build replaced `journey_events` and its index with it: a person's timeline
    # finds that person's rows by it (model/person_index.py).
    indexed = ensure_person_index(kr)
    if rebuilt:
        return "rebuilt" + (f", {INDEXED}" if indexed else "")
    return INDEXED if indexed else None


def _voice(kr: Klantreis, _: FastAPI) -> str | None:
    from klantreis.measure.voice.stored import update_voice

    update = update_voice(kr.store, kr.engine, retrain=False)
    return f"{update.scored} texts scored" if update.scored else None


def _cases(kr: Klantreis, _: FastAPI) -> str | None:
    from klantreis.measure.expectations.cases import ensure_cases
    from klantreis.measure.expectations.scorecard import build_scorecard

    cases = ensure_cases(kr)
    build_scorecard(kr)  # the uncut scorecard's figures, stored: the page reads them
    return f"{len(cases.rules)} expectations judged" if cases.rebuilt else None


def _inbox(kr: Klantreis, _: FastAPI) -> str | None:
    from klantreis.act.cases.opening import open_cases

    run = open_cases(kr, judge=False)
    return f"{run.total} cases opened" if run.total else None


def _value(kr: Klantreis, _: FastAPI) -> str | None:
    from klantreis.measure.value.table import refresh_values

    fit = refresh_values(kr)
    return None if fit is None else f"{fit.persons} buyers valued ({fit.method})"


def _opportunities(kr: Klantreis, _: FastAPI) -> str | None:
    from klantreis.measure.opportunities import refresh_opportunities

    stored = refresh_opportunities(kr)
    return None if stored is None else f"{stored} opportunities ranked"


def _alerts(kr: Klantreis, _: FastAPI) -> str | None:
    from klantreis.act.alerts import check_alerts

    if not kr.settings.has_section("alerts"):
        return None
    outcomes = check_alerts(kr)
    fired = sum(1 for o in outcomes if getattr(o, "triggered", False))
    return f"{len(outcomes)} rules checked, {fired} triggered"


def _review_requests(kr: Klantreis, _: FastAPI) -> str | None:
    from klantreis.act.notify.smtp import SmtpConfig
    from klantreis.act.review_requests import send_review_requests

    base_url = kr.settings.section(RoutineSettings).review_base_url
    smtp = SmtpConfig.from_settings(kr.settings)
    if not base_url or smtp is None:
        return None
    run = send_review_requests(kr, smtp, base_url=str(base_url))
    return f"{getattr(run, 'sent', 0)} review requests sent"


def _dashboard(kr: Klantreis, app: FastAPI) -> str | None:
    if getattr(app.state, "web_cache", None) is None:
        return None
    from klantreis.measure.journey_map.stored import stored_definitions
    from klantreis.model.build import configured_definition
    from klantreis.model.definition import builtin_definitions
    from klantreis.present.web.board import board_of
    from klantreis.present.web.routes import journey_map, pages

    # The uncut maps of the model as it is now (the model job refreshes it), before the pages,
    # which only read them: in the configured definition, and in each shipped one a map was
    # asked in before (the page offers them; computing one nobody reads would double this
    # job). A map whose results are stored already is a read.
    if kr.engine.has_table("journey_events"):
        asked = [d for d in stored_definitions(kr) if d in builtin_definitions()]
        for definition in dict.fromkeys([configured_definition(kr), *asked]):
            kr.journey_map(definition)
    # The default views of the expectations and voice pages, computed here and stored: a
    # page (also the first after a restart) reads them and never waits for the analyses.
    board = board_of(app, stored="write")
    routine = getattr(app.state, "routine", None)
    stopping = (lambda: routine.stopping) if routine is not None else (lambda: False)
    stored = pages.store_defaults(board, stopping) if board.stored is not None else 0
    journey_map.warm(app)
    pages.warm(app)
    return f"pages queued, {stored} page results stored"


def _changed(result: str | None) -> bool:
    """Whether the model job changed the model (not only indexed its persons again)."""
    return bool(result) and result != INDEXED


AFTER_MODEL = ("voice", "cases", "inbox", "value", "opportunities", "dashboard")
"""Jobs run right after a model refresh (in this order), whatever their schedule: each stores
results of the model that the pages read as they are."""

DEFAULTS: dict[str, tuple[float, Callable[[Klantreis, FastAPI], str | None]]] = {
    "model": (60, _model),
    "voice": (300, _voice),
    "cases": (300, _cases),
    "value": (300, _value),
    "inbox": (300, _inbox),
    "opportunities": (300, _opportunities),
    "alerts": (300, _alerts),
    "review_requests": (3600, _review_requests),
    "dashboard": (60, _dashboard),
}


_Seconds = Annotated[float, Field(ge=0, description="seconds between runs, or 0 for off")]


class RoutineSettings(SectionSettings):
    """`[routine]`: one key per job (seconds between its runs; the defaults are `DEFAULTS`'s),
    whether the routine runs at all, the wait after a failure and the review link's base."""

    SECTION: ClassVar[str] = "routine"

    enabled: Annotated[bool, Field(description="true or false")] = True
    retry: Annotated[
        float, Field(gt=0, description="seconds before a failed job is tried again, above 0")
    ] = 60
    model: _Seconds = DEFAULTS["model"][0]
    voice: _Seconds = DEFAULTS["voice"][0]
    cases: _Seconds = DEFAULTS["cases"][0]
    value: _Seconds = DEFAULTS["value"][0]
    inbox: _Seconds = DEFAULTS["inbox"][0]
    opportunities: _Seconds = DEFAULTS["opportunities"][0]
    alerts: _Seconds = DEFAULTS["alerts"][0]
    review_requests: _Seconds = DEFAULTS["review_requests"][0]
    dashboard: _Seconds = DEFAULTS["dashboard"][0]
    review_base_url: Annotated[
        str | None,
        Field(pattern=r"^https?://\S+$", description="an http(s) URL, e.g. https://shop.example"),
    ] = None


def configured_jobs(section: RoutineSettings | dict[str, Any]) -> list[Job]:
    """The jobs of `[routine]`, in the order they run (the model first: others read it)."""
    if not isinstance(section, RoutineSettings):
        section = parse_section(RoutineSettings, section)
    jobs = []
    for name, (_, run) in DEFAULTS.items():
        seconds = float(getattr(section, name))
        if seconds:
            jobs.append(Job(name, seconds, run))
    return jobs


class Routine:
    """One background thread that runs due jobs one after another and records each run."""

    def __init__(self, app: FastAPI, kr: Klantreis, jobs: list[Job], retry: float = 60) -> None:
        self.app = app
        self.kr = kr
        self.jobs = jobs
        self.retry = retry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="klantreis-routine", daemon=True)
        self._next = {job.name: 0.0 for job in jobs}
        self.results: dict[str, str | None] = {}
        """The last result of each job (None: there was nothing to do)."""

    def start(self) -> Routine:
        with self.kr.store.write_lock:
            self.kr.store.connection.execute(JOBS_TABLE.ddl)
        self._thread.start()
        return self

    @property
    def stopping(self) -> bool:
        """The server is shutting down: a long job stops between its steps."""
        return self._stop.is_set()

    def stop(self, timeout: float = 30) -> None:
        """Let the running job finish (its transaction commits), start no other."""
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            due = [job for job in self.jobs if self._next[job.name] <= now]
            for job in due:
                if self._stop.is_set():
                    return
                ok = self.run_once(job)
                wait = job.every if ok else min(job.every, self.retry)
                self._next[job.name] = time.monotonic() + wait
                if ok and job.name == "model" and _changed(self.results.get(job.name)):
                    self._after_model(due)
            self._stop.wait(0.5)

    def _after_model(self, due: list[Job]) -> None:
        """The model changed: the jobs that store results after it are due now (those due
        anyway run later in this round, in their order)."""
        for job in self.jobs:
            if job.name in AFTER_MODEL and job not in due:
                self._next[job.name] = 0.0

    def run_once(self, job: Job) -> bool:
        """Run `job` now and record it; returns whether it succeeded."""
        started = utcnow()
        self._record(job.name, status="running", last_started=started)
        log.info("routine job %s started", job.name)
        clock = time.monotonic()
        try:
            result = job.run(self.kr, self.app)
        except Exception as exc:
            log.exception("routine job %s failed", job.name)
            self._record(
                job.name,
                status="failed",
                last_finished=utcnow(),
                duration_seconds=time.monotonic() - clock,
                error=f"{type(exc).__name__}: {exc}"[:2000],
                failed=True,
            )
            return False
        self.results[job.name] = result
        log.info("routine job %s done: %s", job.name, result or "nothing to do")
        self._record(
            job.name,
            status="ok",
            last_finished=utcnow(),
            duration_seconds=time.monotonic() - clock,
            result=result or "nothing to do",
            error=None,
        )
        return True

    def _record(self, name: str, *, failed: bool = False, **values: Any) -> None:
        status = values["status"]
        with self.kr.store.write_lock:
            con = self.kr.store.connection
            con.execute(
                "INSERT INTO jobs (name, runs, failures) VALUES (?, 0, 0) ON CONFLICT DO NOTHING",
                [name],
            )
            assignments = ", ".join(f"{column} = ?" for column in values)
            counters = ""
            if status != "running":
                counters = ", runs = runs + 1" + (", failures = failures + 1" if failed else "")
            con.execute(
                f"UPDATE jobs SET {assignments}{counters} WHERE name = ?",  # noqa: S608 - names are ours
                [*values.values(), name],
            )


def job_rows(kr: Klantreis) -> list[dict[str, Any]]:
    """The recorded runs, for `klantreis status` and the Settings page."""
    if not kr.engine.has_table("jobs"):
        return []
    rows = kr.engine.rows(
        "SELECT name, status, last_started, last_finished, duration_seconds, result, error, "
        "runs, failures FROM jobs ORDER BY name"
    )
    return [dict(row) for row in rows]


def start_routine(app: FastAPI, kr: Klantreis) -> Routine | None:
    section = kr.settings.section(RoutineSettings)
    if not section.enabled:
        return None
    jobs = configured_jobs(section)
    if not jobs:
        return None
    return Routine(app, kr, jobs, retry=section.retry).start()
