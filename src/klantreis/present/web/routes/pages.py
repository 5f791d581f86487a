"""Expectations, funnels & paths and voice: pages that draw what their analyses return.

Their analyses run in the background cache (see cache.py): a page answers at once, with the
last result or with progress, never after the many seconds an analysis may take.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from klantreis.present.errors import user_message
from klantreis.present.web import charts, page_results
from klantreis.present.web.board import (
    PERIOD_END,
    PERIODS,
    Board,
    NotStored,
    Outcome,
    board_of,
    page_fingerprint,
    routine_every,
    routine_running,
)
from klantreis.present.web.cache import Lookup, ResultCache
from klantreis.present.web.context import Viewer, get_store, render, viewer
from klantreis.present.web.timeline import busy_persons
from klantreis.store.query import Query as SqlQuery

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

ANALYSIS_WORDS = (
    "kept",
    "breached",
    "no data",
    "no_data",
    "flat",
    "improving",
    "worsening",
    "too little data",
)
"""Status and trend words the expectations analysis returns; the page translates them."""


def _board(request: Request) -> Board:
    return Board(request.app.state.settings, get_store(request))


def _app_board(app: FastAPI) -> Board:
    return board_of(app)


def _cut(board: Board, period: str | None, persona: str | None) -> dict[str, Any]:
    since, until = board.period_bounds(period if period in PERIODS else "all")
    return {
        "start": since.isoformat() if since else None,
        "end": until.isoformat() if until else None,
        "persona": persona or None,
    }


def period_choices(lang: Any) -> list[tuple[str, str]]:
    """The dashboard's period selector: its keys (`PERIODS`) and their words."""
    return [
        ("30d", lang.gettext("Last 30 days")),
        ("90d", lang.gettext("Last 90 days")),
        ("365d", lang.gettext("Last 12 months")),
        ("all", lang.gettext("All time")),
    ]


def period_of(app: FastAPI, period: str | None) -> tuple[str, dict[str, Any]]:
    """A page's `?period=` (unknown: all time) and the `start`/`end` it stands for, ending at
    the newest event so an old import still shows its last 30 days."""
    key = period if period in PERIODS else "all"
    cut = _cut(_app_board(app), key, None)
    return key, {"start": cut["start"], "end": cut["end"]}


View = Callable[[Board], Mapping[str, Outcome | None]]
"""A page's view: its analyses, asked of a board (computed, stored or read)."""


def view_key(page: str, params: dict[str, Any]) -> tuple[Any, ...]:
    return (page, *sorted((k, repr(v)) for k, v in params.items()))


def stored_lookup(app: FastAPI, key: tuple[Any, ...], compute: View) -> Lookup | None:
    """A view's analyses as the routine stored them (perhaps stale), or None when one is not
    stored or no routine stores them; nothing is computed."""
    if not routine_running(app):
        return None
    cache: ResultCache = app.state.web_cache
    try:
        fingerprint = page_fingerprint(app)
        # under a key of its own: a value computed here at the same fingerprint before the
        # routine stored its own would otherwise hide the stored one (and its time)
        kept = cache.get(("stored", *key), fingerprint)
        if kept is not None:
            return _found(kept)
        stored = _stored(app, compute, fingerprint)
    except Exception as exc:  # e.g. DuckDB's cap full with the routine's job: asked again
        log.warning("reading the stored %s failed", key[0], exc_info=True)
        return Lookup(pending_since=time.monotonic(), error=user_message(exc))
    if stored is not None and not stored.stale:  # the next request reads it from memory
        cache.put(("stored", *key), fingerprint, stored.value)
    return stored


def in_background(app: FastAPI, page: str, params: dict[str, Any], compute: View) -> Lookup:
    """A page's analyses as the routine stored them, else from the background cache (None:
    not asked for, e.g. a funnel of fewer than two steps)."""
    key = view_key(page, params)
    stored = stored_lookup(app, key, compute)
    if stored is not None:
        return stored
    cache: ResultCache = app.state.web_cache
    board = _app_board(app)
    return cache.lookup(key, page_fingerprint(app), lambda: compute(board))


def _found(value: Mapping[str, Outcome | None]) -> Lookup:
    """A page's outcomes as a request gets them: stale when the routine stored newer results
    since one was computed, as old as the oldest (both only for stored results)."""
    stored = [o for o in value.values() if o is not None and o.computed_at is not None]
    return Lookup(
        dict(value),
        stale=any(o.stale for o in stored),
        computed_at=min((o.computed_at for o in stored if o.computed_at), default=None),
    )


def _stored(app: FastAPI, compute: View, fingerprint: str) -> Lookup | None:
    """Every analysis of the page read from `page_results` (a few rows), or None when one is
    not stored (or no routine stores them): nothing is computed here."""
    board = board_of(app, stored="only")
    if board.stored is None:
        return None
    board.knows(fingerprint)
    try:
        return _found(compute(board))
    except NotStored:
        return None


def one_analysis(app: FastAPI, analysis: str, **params: Any) -> Lookup:
    """A page that shows one analysis: `analysis` run with `params` in the background cache."""

    return in_background(app, analysis, params, _one(analysis, params))


def _one(analysis: str, params: dict[str, Any]) -> View:
    def compute(board: Board) -> dict[str, Outcome]:
        return {analysis: board.run(analysis, **params)}

    return compute


def answer(found: Lookup, analysis: str) -> tuple[Any, str | None]:
    """What `one_analysis` found: (its value or None, its error or None); both None until ready."""
    if not found.ready:
        return None, None
    result = found.value[analysis]
    return (result.value, None) if result.ok else (None, result.error)


def _show(request: Request, who: Viewer, template: str, found: Lookup, **context: Any) -> Response:
    return render(request, who, template, found=found, **(found.value or {}), **context)


def cut_choices(
    request: Request,
    who: Viewer,
    period: str,
    persona: str,
    keep: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """What a page's persona and period selectors offer and show chosen (`_cut_filters.html`),
    the map's choices: a shop owner reaches the views the routine stores for each of them.
    `keep`: the page's other parameters (a funnel's steps), sent again with a choice."""
    from klantreis.present.web.routes import journey_map

    return {
        "personas": journey_map.personas(_board(request), who.lang),
        "periods": period_choices(who.lang),
        "cut": {"period": period if period in PERIODS else "all", "persona": persona or None},
        "keep": keep or [],
        "persona_note": who.lang.gettext(
            "No personas yet: they appear here once `klantreis personas` has run."
        ),
    }


def _expectations_compute(cut: dict[str, Any]) -> Callable[[Board], dict[str, Outcome]]:
    def compute(board: Board) -> dict[str, Outcome]:
        return {
            "scorecard": board.run("expectations", **cut),
            "pains": board.run("pain_points", **cut),
            # acted-on against left-alone breached customers (over all time: it has no cut)
            "recovery": board.run("recovery"),
        }

    return compute


def expectations_data(app: FastAPI, period: str = "all", persona: str = "") -> Lookup:
    cut = _cut(_app_board(app), period, persona)
    return in_background(app, "expectations", cut, _expectations_compute(cut))


@router.get("/expectations", response_class=HTMLResponse)
def expectations_page(request: Request, period: str = "all", persona: str = "") -> Response:
    who = viewer(request)
    found = expectations_data(request.app, period, persona)
    view = None
    if found.ready and found.value["scorecard"].ok:
        view = charts.expectation_trends(found.value["scorecard"].value, who.lang)
    return _show(
        request,
        who,
        "expectations.html",
        found,
        trends=view,
        scorecard_rows=_scorecard_rows(found),
        pain_rows=_pain_rows(found),
        recovery_rows=_recovery_rows(found),
        **cut_choices(request, who, period, persona),
    )


def _recovery_rows(found: Lookup) -> list[dict[str, Any]]:
    if not found.ready or "recovery" not in found.value or not found.value["recovery"].ok:
        return []
    value = found.value["recovery"].value
    return list(value.as_json()["expectations"]) if value is not None else []


def _as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "to_dict"):
        result = value.to_dict()
        if isinstance(result, dict):
            return result
    return value if isinstance(value, dict) else {}


def _scorecard_rows(found: Lookup) -> list[dict[str, Any]]:
    if not found.ready or not found.value["scorecard"].ok:
        return []
    return list(_as_dict(found.value["scorecard"].value).get("expectations") or [])


def _pain_rows(found: Lookup) -> list[dict[str, Any]]:
    if not found.ready or not found.value["pains"].ok:
        return []
    from klantreis.measure.expectations.analyses import PainPoints

    value = found.value["pains"].value
    rows = (
        [row.as_json() for items in value.phases.values() for row in items]
        if isinstance(value, PainPoints)
        else (found.value["pains"].rows)
    )
    return sorted(rows, key=lambda r: -(r.get("size") or r.get("persons") or 0))


@router.get("/expectations/{expectation}", response_class=HTMLResponse)
def expectation_persons(request: Request, expectation: str) -> Response:
    """Drill-down: the persons an expectation was breached for, each linked to their timeline."""
    who = viewer(request)
    board = _board(request)
    breaches = board.run("breaches", expectation=expectation, limit=500)
    values = board.run("value", expectation=expectation, limit=500)
    found = values.value.as_json() if values.ok and values.value is not None else None
    return render(
        request,
        who,
        "expectation_persons.html",
        expectation=expectation,
        breaches=breaches,
        values=found,
        value_of={p["person_id"]: p for p in (found or {}).get("persons_listed", [])},
    )


EVENT_NAMES = "event_names"
"""The funnels page's step choices as the routine stores them (`page_results`)."""


def names_of(app: FastAPI) -> list[str]:
    """The event names a funnel step can be, most frequent first. A scan of every event
    (seconds at 10M), so it is kept in memory until the events (no routine) or the routine's
    results change, and read from what the routine stored where it did."""
    return [str(name) for name in plain_value(app, EVENT_NAMES)]


def plain_value(app: FastAPI, name: str) -> list[Any]:
    """A value of `PLAIN_VALUES` kept in memory until the events (no routine) or the
    routine's results change; read from what the routine stored where it did (as it is: a
    list to choose from, not figures), else computed."""
    cache: ResultCache = app.state.web_cache
    fingerprint = page_fingerprint(app)
    kept = cache.get((name,), fingerprint)
    if kept is not None:
        return list(kept)
    board = _app_board(app)
    stored = page_results.read(board.store, name, {}) if routine_running(app) else None
    value = list(stored.value) if stored is not None else PLAIN_VALUES[name](board)
    cache.put((name,), fingerprint, value)
    return value


def event_names(board: Board) -> list[str]:
    if not board.has_table("events"):
        return []
    rows = board.store.engine.rows(
        SqlQuery(
            "SELECT event, count(*) AS n FROM events WHERE event IS NOT NULL "
            "AND type NOT IN ('identify', 'group', 'alias') GROUP BY event ORDER BY n DESC, event"
        )
    )
    return [str(r["event"]) for r in rows]


def suggestions(board: Board) -> list[dict[str, Any]]:
    return busy_persons(board.store)


SUGGESTIONS = "timeline_suggestions"
"""The timeline page's suggested persons as the routine stores them (`page_results`): they
group every journey event by person (5 s at 10M events), never while a visitor waits."""
PLAIN_VALUES: dict[str, Callable[[Board], list[Any]]] = {
    EVENT_NAMES: event_names,
    SUGGESTIONS: suggestions,
}
"""Lists a page chooses from, stored by the routine as plain JSON (`page_results`)."""


DEFAULT_STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]


FUNNEL_BREAKDOWNS = {
    "acquisition": "Came from",
    "source": "Source",
    "medium": "Medium",
    "campaign": "Campaign",
}
"""Where the persons of a funnel came from (docs/sources.md), as the page offers them."""


def funnels_data(
    app: FastAPI, steps: list[str], period: str = "all", persona: str = "", breakdown: str = ""
) -> Lookup:
    cut = _cut(_app_board(app), period, persona)
    split = {"breakdown": breakdown} if breakdown in FUNNEL_BREAKDOWNS else {}
    compute = _funnels_compute(cut, steps, split)
    return in_background(app, "funnels", {**cut, **split, "steps": steps}, compute)


def _funnels_compute(cut: dict[str, Any], steps: list[str], split: dict[str, str]) -> View:
    def compute(board: Board) -> dict[str, Outcome | None]:
        return {
            "funnel": board.run("funnel", steps=steps, **cut, **split) if len(steps) >= 2 else None,
            "paths": board.run("paths", steps=5, **cut),
            "flow": board.run("phase_transitions", **cut),
        }

    return compute


def default_steps(names: list[str]) -> list[str]:
    return [s for s in DEFAULT_STEPS if s in names]


@router.get("/funnels", response_class=HTMLResponse)
def funnels_page(
    request: Request,
    step: list[str] = Query(default=[]),  # noqa: B008
    period: str = "all",
    persona: str = "",
    breakdown: str = "",
) -> Response:
    who = viewer(request)
    names = names_of(request.app)
    steps = [s for s in step if s in names] or default_steps(names)
    breakdown = breakdown if breakdown in FUNNEL_BREAKDOWNS else ""
    found = funnels_data(request.app, steps, period, persona, breakdown)
    funnel_chart = sankey = path_sankey = None
    if found.ready:
        funnel = found.value["funnel"]
        if funnel is not None and funnel.ok and not breakdown:
            funnel_chart = charts.funnel(funnel.rows, steps, who.lang)
        flow, paths = found.value["flow"], found.value["paths"]
        if flow.ok:
            sankey = charts.phase_sankey(flow.rows, who.lang)
        if paths.ok:
            path_sankey = charts.path_sankey(paths.value, who.lang)
    return _show(
        request,
        who,
        "funnels.html",
        found,
        names=names,
        steps=steps or names[:2],
        breakdown=breakdown,
        breakdowns=FUNNEL_BREAKDOWNS,
        funnel_chart=funnel_chart,
        sankey=sankey,
        path_sankey=path_sankey,
        **cut_choices(
            request,
            who,
            period,
            persona,
            keep=[("step", s) for s in steps] + ([("breakdown", breakdown)] if breakdown else []),
        ),
    )


def _voice_compute(cut: dict[str, Any]) -> Callable[[Board], dict[str, Outcome]]:
    def compute(board: Board) -> dict[str, Outcome]:
        return {
            "voice": board.run("voice", **cut),
            "emotion": board.run("emotion_by_phase", **cut),
            "surveys": board.run("survey_scores", by="all"),
        }

    return compute


def voice_data(app: FastAPI, period: str = "all", persona: str = "") -> Lookup:
    cut = _cut(_app_board(app), period, persona)
    return in_background(app, "voice", cut, _voice_compute(cut))


def warm(app: FastAPI) -> None:
    """Queue the default view of every page (after the map) so first visits are quick."""
    expectations_data(app)
    funnels_data(app, default_steps(names_of(app)))
    voice_data(app)


ALL_TIME: dict[str, Any] = {"start": None, "end": None, "persona": None}
"""The default view's cut (`_cut` of all time and every persona)."""

PERIOD_PAGES: dict[str, dict[str, Any]] = {
    "products": {"outcome": "low_review"},
    "search": {"limit": 25},
    "returns": {},
}
"""Pages of one analysis with a period selector, and their other parameters' defaults."""
PLAIN_PAGES: dict[str, dict[str, Any]] = {
    "sources": {"by": "touchpoint", "touch": "first"},
    "value": {"limit": 25},
}
"""Pages of one analysis without one, in their default view."""


def stored_views(board: Board, names: list[str]) -> list[View]:
    """Every view the routine computes and stores, most asked first: each page's default
    view, then each period the pages offer, then each persona the map offers (all time).

    Each is what the page would ask (the same analyses with the same parameters), so a
    page finds it. Combinations (a persona in a period, a source, another funnel) are left
    to the page: their number grows with every choice, their use does not."""
    from klantreis.present.web.routes import journey_map
    from klantreis.present.web.routes.products import has_catalogue
    from klantreis.present.web.settings import WebSettings

    steps = default_steps(names)
    periodic = {k: v for k, v in PERIOD_PAGES.items() if k != "products" or has_catalogue(board)}
    choices: list[tuple[str, str | None]] = []
    if board.kr.settings.section(WebSettings).stored_views == "all":
        choices += [(p, None) for p in PERIODS if p != "all"]
        choices += [("all", p["id"]) for p in journey_map.personas(board)]
    views: list[View] = [
        _expectations_compute(ALL_TIME),
        _voice_compute(ALL_TIME),
        _funnels_compute(ALL_TIME, steps, {}),
        *(_one(page, {**params, "start": None, "end": None}) for page, params in periodic.items()),
        *(_one(page, params) for page, params in PLAIN_PAGES.items()),
    ]
    for period, persona in choices:
        cut = _cut(board, period, persona)
        views += [
            journey_map.stored_view(period, persona),
            _expectations_compute(cut),
            _voice_compute(cut),
            _funnels_compute(cut, steps, {}),
        ]
        if persona is None:
            bounds = {"start": cut["start"], "end": cut["end"]}
            views += [_one(page, {**params, **bounds}) for page, params in periodic.items()]
    return views


def store_defaults(board: Board, stopping: Callable[[], bool] = lambda: False) -> int:
    """The routine's part, on a board that writes (`stored="write"`): compute the analyses of
    each view of `stored_views` whose stored result is missing or older than the results
    they rest on, and store them (`page_results`), with the funnels page's event names and
    the timeline's suggestions (`PLAIN_VALUES`);
    returns how many it stored (0: every one was current). The period views end at the
    newest event now; pages look for them there once they are all stored (`PERIOD_END`).
    Between views it asks `stopping` (the server shutting down) and leaves the rest."""
    stored: dict[str, list[Any]] = {}
    for name, compute_value in PLAIN_VALUES.items():
        found = page_results.read(board.store, name, {})
        if found is not None and found.fingerprint == board.fingerprint:
            stored[name] = list(found.value)
            continue
        started = time.perf_counter()
        stored[name] = compute_value(board)
        seconds = time.perf_counter() - started
        page_results.write(board.store, name, {}, stored[name], board.fingerprint, seconds)
    names = [str(name) for name in stored[EVENT_NAMES]]
    for compute in stored_views(board, names):
        if stopping():  # the server stops: the next run stores the rest
            return board.written
        compute(board)
    latest = board.latest_event()
    if latest is not None:
        board.store.set_meta(PERIOD_END, latest.isoformat())
    return board.written


def texts_left_out(found: Lookup) -> int:
    """Customer texts the voice page's figures leave out, as its `voice` result counted them
    when it was computed (its meta, stored with it): the page reads no event for it."""
    if not found.ready or not found.value["voice"].ok:
        return 0
    value = found.value["voice"].value
    meta = getattr(value, "meta", None) or {}
    return int(meta.get("unscored_texts") or 0)


def unscored_note(lang: Any, texts: int, every: float | None) -> list[str]:
    """What the voice page says while customer texts wait to be scored: how many, what they
    are missing from, and what scores them (the routine on its own, or the command)."""
    if texts <= 0:
        return []
    if texts == 1:
        count = lang.gettext(
            "1 customer text is waiting to be scored for sentiment and topics: the emotion, "
            "the topics and the quotes on this page leave it out."
        )
    else:
        count = lang.gettext(
            "{texts} customer texts are waiting to be scored for sentiment and topics: the "
            "emotion, the topics and the quotes on this page leave them out.",
            texts=lang.num(texts),
        )
    if every is None:
        fill = lang.gettext(
            "Run `klantreis voice update` to score them (the server's routine does not: "
            "its voice job is off)."
        )
    else:
        fill = lang.gettext(
            "The server scores new texts by itself every {interval} and right after each "
            "model refresh; `klantreis voice update` scores them now.",
            interval=lang.duration(every),
        )
    return [count, fill]


@router.get("/voice", response_class=HTMLResponse)
def voice_page(request: Request, period: str = "all", persona: str = "") -> Response:
    who = viewer(request)
    found = voice_data(request.app, period, persona)
    topics = emotion = None
    if found.ready:
        topics = charts.topics(found.value["voice"].rows, who.lang)
        emotion = charts.emotion(found.value["emotion"], who.lang)
    waiting = texts_left_out(found)
    return _show(
        request,
        who,
        "voice.html",
        found,
        topics_chart=topics,
        emotion_chart=emotion,
        unscored=unscored_note(who.lang, waiting, routine_every(request.app, "voice")),
        **cut_choices(request, who, period, persona),
    )
