"""Runs the registered analyses for the dashboard and says plainly which ones are missing.

Pages never compute numbers of their own: they ask the registry (`measure/registry.py`) by
name, pass only the parameters an analysis declares, and render what comes back. An analysis
that is not installed or fails becomes an `Outcome` with a reason, which the page shows instead
of inventing data.
"""

from __future__ import annotations

import inspect
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlglot import exp

from klantreis.api import Klantreis, Result
from klantreis.config import Settings
from klantreis.measure.registry import get_spec
from klantreis.model.as_built import as_built
from klantreis.present.errors import user_message
from klantreis.present.web import page_results
from klantreis.present.web.context import store_of
from klantreis.store import Store
from klantreis.store.query import Query

log = logging.getLogger(__name__)

PERIODS = {"30d": 30, "90d": 90, "365d": 365, "all": None}


@dataclass
class Outcome:
    name: str
    available: bool
    value: Any = None
    error: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    computed_at: datetime | None = None
    """When the routine computed it, for a stored result (None: computed for this page)."""
    stale: bool = False
    """A stored result the routine has stored newer results since (it computes this one
    again next)."""

    @property
    def ok(self) -> bool:
        return self.available and self.error is None


class NotStored(LookupError):
    """A board that only reads stored results was asked for one that is not stored."""


Stored = Literal["read", "only", "write"]
"""How a board uses the results the routine stores (`page_results`): `read` them where
stored (else compute), `only` read them (else `NotStored`), or `write` them (the routine:
compute what is not stored for the current results, and store it)."""


def rows_of(value: Any) -> list[dict[str, Any]]:
    """Rows of a Result, Arrow table, pandas frame or list of dicts."""
    if isinstance(value, Result):
        return value.to_pylist()
    if hasattr(value, "to_pylist"):
        return list(value.to_pylist())
    if hasattr(value, "to_dict") and hasattr(value, "columns"):
        return list(value.to_dict("records"))
    if isinstance(value, list):
        return [r for r in value if isinstance(r, dict)]
    return []


class Board:
    """The analyses of one request, through the Python API over the server's open store.

    `as_built`: the server's routine keeps the model and the results after it current, so
    the analyses read them as stored (`klantreis.model.as_built`) and a page never waits for
    a model refresh, a judging of the cases or a scoring of texts."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        as_built: bool = False,
        stored: Stored | None = None,
    ) -> None:
        self.kr = Klantreis.over(store, settings)
        self.store = store
        self.as_built = as_built
        self.stored = stored
        self._fingerprint: str | None = None
        self._latest: datetime | None = None
        self.written = 0
        """Results this board stored (`stored="write"`)."""

    def knows(self, fingerprint: str) -> None:
        """The caller read `results_fingerprint` just now: it is not read again."""
        self._fingerprint = fingerprint

    @property
    def fingerprint(self) -> str:
        """The routine's results now (`results_fingerprint`), read once per board."""
        if self._fingerprint is None:
            self._fingerprint = results_fingerprint(self.store)
        return self._fingerprint

    def has(self, name: str) -> bool:
        return get_spec(name) is not None

    def run(self, name: str, **params: Any) -> Outcome:
        """Run an analysis with the page's parameters it takes, validated by its query
        model (an analysis without one is called as it is)."""
        spec = get_spec(name)
        if spec is None:
            return Outcome(name, available=False)
        if spec.query is not None:
            accepted: Any = spec.query.model_fields
            takes_any = False
        else:
            accepted = inspect.signature(spec.function).parameters
            takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
        call = {k: v for k, v in params.items() if v is not None and (takes_any or k in accepted)}
        if self.stored is not None:
            found = page_results.read(self.store, name, call)
            current = found is not None and found.fingerprint == self.fingerprint
            failed = found is not None and isinstance(found.value, page_results.Failure)
            if found is not None and failed and self.stored != "write":
                return Outcome(
                    name,
                    available=True,
                    error=found.value.message,
                    computed_at=found.computed_at,
                    stale=not current,
                )
            if found is not None and (self.stored != "write" or (current and not failed)):
                return Outcome(
                    name,
                    available=True,
                    value=found.value,
                    rows=rows_of(found.value),
                    computed_at=found.computed_at,
                    stale=not current,
                )
            if self.stored == "only":
                raise NotStored(name)
        fingerprint = self.fingerprint if self.stored == "write" else ""
        started = time.perf_counter()
        try:
            with as_built() if self.as_built else nullcontext():
                value = spec.call(self.kr, **call)
        except Exception as exc:  # an analysis failing must not take the page down
            log.exception("analysis %s failed", name)
            if self.stored == "write":  # said at once by the page; tried again next run
                seconds = time.perf_counter() - started
                failure = page_results.Failure(user_message(exc))
                self.written += page_results.write(
                    self.store, name, call, failure, fingerprint, seconds
                )
            return Outcome(name, available=True, error=user_message(exc))
        if self.stored == "write":
            seconds = time.perf_counter() - started
            self.written += page_results.write(self.store, name, call, value, fingerprint, seconds)
        return Outcome(name, available=True, value=value, rows=rows_of(value))

    def has_table(self, name: str) -> bool:
        return self.kr.engine.has_table(name)

    def latest_event(self) -> datetime | None:
        """The newest event, where a period ends. A board reading the routine's stored
        results takes the one the routine's stored period views end at (`PERIOD_END`), so
        "last 30 days" finds them (and is the same period as its figures) until the routine
        stores newer ones; the routine's own board reads it from the events once."""
        if self._latest is not None:
            return self._latest
        if self.stored in ("read", "only"):
            kept = self.store.get_meta(PERIOD_END)
            if kept:
                self._latest = datetime.fromisoformat(kept)
                return self._latest
        if not self.has_table("events"):
            return None
        value = self.kr.engine.scalar(Query("SELECT max(timestamp) FROM events"))
        self._latest = value if isinstance(value, datetime) else None
        return self._latest

    def period_bounds(self, period: str) -> tuple[datetime | None, datetime | None]:
        """(since, until) of a period ending at the newest event, so old imports still work."""
        days = PERIODS.get(period)
        if days is None:  # all time: no bound, and no scan of the events for their newest
            return None, None
        latest = self.latest_event()
        if latest is None:
            return None, None
        return latest - timedelta(days=days), latest + timedelta(seconds=1)


PERIOD_END = "dashboard_period_end"
"""`meta` key: the newest event when the routine last stored the pages' period views."""


def board_of(app: Any, stored: Stored = "read") -> Board:
    """A board over the server's store, reading `as_built` and the stored page results when
    its routine keeps the results current (without a routine nothing else would, so the
    analyses refresh them and nothing is read from `page_results`)."""
    routine = routine_running(app)
    return Board(
        app.state.settings,
        store_of(app),
        as_built=routine or on_lake(app),
        stored=stored if routine else None,
    )


def routine_running(app: Any) -> bool:
    return getattr(app.state, "routine", None) is not None


def routine_every(app: Any, job: str) -> float | None:
    """Seconds between the runs of one of the routine's jobs; None when it does not run
    (no routine, or the job is off in `[routine]`)."""
    routine = getattr(app.state, "routine", None)
    jobs = getattr(routine, "jobs", None) or []
    return next((float(j.every) for j in jobs if j.name == job), None)


def on_lake(app: Any) -> bool:
    """A lake's dashboard: scheduled jobs keep the model and the results after it, so the
    pages read them as built, like a server's routine's (`present/api/app.py`)."""
    return bool(getattr(app.state, "lake_dashboard", False))


def page_fingerprint(app: Any) -> str:
    """When a page's cached result is out of date: with a routine, when its stored results
    changed; without one, when events did."""
    store = store_of(app)
    if routine_running(app):
        return results_fingerprint(store)
    if on_lake(app):  # the lake's files and the versions its jobs wrote
        from klantreis.store.lake_reader import reader_for

        return reader_for(app.state.settings).pages_fingerprint()
    return store.events_fingerprint()


_STORED_META = (
    "model_fingerprint",
    "expectations_fingerprint",
    "customer_values_fingerprint",
    "customer_values_fit",
)
"""`meta` keys of what the pages rest on: the model, the judged cases and the customer
values (the scorecard's and the pain points' revenue at risk read `customer_values`; the
value job refits them after the model, and its fit is stored with them)."""
_STORED_TABLES = {
    "journey_map_lanes": "max(computed_at)",
    "journey_maps": "max(computed_at)",
    "expectation_scorecards": "max(computed_at)",
    "opportunity_results": "max(computed_at)",
    "customer_values": "count(*)",
    "personas": "max(created_at)",
    "person_personas": "count(*)",
}
"""Tables the pages read, each with a cheap figure that changes when they are written (a
count of a DuckDB table is read from its metadata, not scanned)."""


def results_fingerprint(store: Store) -> str:
    """What the pages of a server whose routine keeps the results current rest on: the model,
    the judged cases, the stored lanes, scorecard figures and opportunities, the customer
    values, the personas and the scored texts. New events alone do not change it; the
    routine's results do (a few reads of small tables)."""
    engine = store.engine
    parts = [str(store.get_meta(key)) for key in _STORED_META]
    for table, figure in _STORED_TABLES.items():
        if engine.has_table(table):
            stamp = Query(f"SELECT {figure} FROM :table", table=exp.to_table(table))  # noqa: S608
            parts.append(f"{table}={engine.scalar(stamp)}")
    if engine.has_table("voice"):
        parts.append(str(engine.scalar("SELECT count(*) FROM voice")))
    return "|".join(parts)
