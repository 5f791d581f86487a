"""The journey map page, its PNG/SVG/PDF exports and its read-only share links."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from klantreis.measure.journey_map.stored import stored_at
from klantreis.model.definition import builtin_definitions, load_definition
from klantreis.model.sources import load_rules
from klantreis.present.web import export, security, terms
from klantreis.present.web.board import PERIODS, Board, Outcome, board_of, page_fingerprint
from klantreis.present.web.cache import Lookup, ResultCache
from klantreis.present.web.context import (
    Viewer,
    checked_form,
    get_secret,
    get_store,
    render,
    viewer,
)
from klantreis.present.web.i18n import Lang
from klantreis.present.web.mapview import LANE_LABELS, MapView, draw, view_from
from klantreis.present.web.routes.pages import View, period_choices, stored_lookup
from klantreis.store.query import Query

router = APIRouter(include_in_schema=False)

__all__ = ["LANE_LABELS", "router"]


def map_params(
    persona: str | None, period: str | None, definition: str | None, source: str | None = None
) -> dict[str, Any]:
    """The map's choices, reduced to known values (anything else falls back)."""
    return {
        "persona": persona or None,
        "period": period if period in PERIODS else "all",
        "definition": definition if definition in builtin_definitions() else "six-phase",
        "source": source if source in load_rules().touchpoint_ids else None,
    }


def sources(lang: Lang) -> list[tuple[str, str]]:
    """Acquisition touchpoints to choose from, in the reader's language."""
    rules = load_rules()
    return [(t, rules.label(t, lang.code)) for t in rules.touchpoint_ids]


def persona_label(name: str, size: int, lang: Lang) -> str:
    """A persona as a selector offers it: its name in the reader's language, its size."""
    return f"{terms.persona(name, lang.code)} ({lang.num(size)})"


def personas(board: Board, lang: Lang | None = None) -> list[dict[str, Any]]:
    """Personas to choose from: the personas module's groups, with their names and sizes
    (in `lang`, English without). `name` is as stored (discovery's English); pages that
    render it themselves show it with `t.persona(name)`."""
    if board.has_table("personas"):
        query = Query(
            "SELECT persona, name, size FROM personas ORDER BY source, size DESC, persona"
        )
        rows = board.kr.engine.stored_rows(query, "personas")
        said = lang or Lang("en")
        return [
            {
                "id": str(r["persona"]),
                "label": persona_label(str(r["name"] or r["persona"]), r["size"] or 0, said),
                "name": str(r["name"] or r["persona"]),
                "size": r["size"] or 0,
            }
            for r in rows
        ]
    if board.has_table("person_personas"):
        rows = board.kr.engine.rows(
            Query("SELECT DISTINCT persona FROM person_personas ORDER BY persona")
        )
        return [
            {
                "id": str(r["persona"]),
                "label": terms.persona(str(r["persona"]), (lang or Lang("en")).code),
                "name": str(r["persona"]),
            }
            for r in rows
        ]
    return []


def _map_view(params: dict[str, Any]) -> View:
    """The map's analyses for `params`, as a page view: the map (language-neutral, phase
    names are put in at drawing time) and the service recovery comparison (its own query,
    after the map's, never inside it)."""

    def compute(board: Board) -> dict[str, Outcome]:
        since, until = board.period_bounds(params["period"])
        found = board.run(
            "journey_map",
            language="en",
            definition=params["definition"],
            persona=params["persona"],
            source=params.get("source"),
            start=since.isoformat() if since else None,
            end=until.isoformat() if until else None,
        )
        return {"journey_map": found, "recovery": board.run("recovery")}

    return compute


def _is_cut(params: dict[str, Any]) -> bool:
    return bool(params["persona"] or params.get("source") or params["period"] != "all")


def stored_view(period: str, persona: str | None) -> View:
    """The cut map the routine stores for a period or a persona (the default definition):
    what `lookup` reads for the same choices."""
    return _map_view(map_params(persona, period, None))


def _view(outcomes: Mapping[str, Outcome | None], params: dict[str, Any]) -> MapView:
    found, recovery = outcomes["journey_map"], outcomes["recovery"]
    view = view_from(found, params) if found is not None else MapView(params["definition"], [])
    if recovery is not None and recovery.ok and recovery.value is not None:
        view.recovery = list(recovery.value.as_json()["expectations"])
    return view


def _compute(app: FastAPI, params: dict[str, Any]) -> MapView:
    board = board_of(app)
    view = _view(_map_view(params)(board), params)
    if board.as_built and not _is_cut(params):
        name = load_definition(params["definition"]).name
        view.computed_at = stored_at(board.kr, name, "en")
    return view


def _key(params: dict[str, Any]) -> tuple[Any, ...]:
    return ("journey_map", *sorted((k, str(v)) for k, v in params.items()))


def _fingerprint(app: FastAPI) -> str:
    return page_fingerprint(app)


def lookup(app: FastAPI, params: dict[str, Any]) -> Lookup:
    """The map as the routine stored it (a cut view), else from the background cache
    (computing it there if needed)."""
    if _is_cut(params):
        stored = stored_lookup(app, _key(params), _map_view(params))
        if stored is not None and not stored.ready:  # the store could not be read now
            return stored
        if stored is not None:
            view = _view(stored.value, params)
            view.computed_at = stored.computed_at
            return Lookup(view, stale=stored.stale, computed_at=stored.computed_at)
    cache: ResultCache = app.state.web_cache
    return cache.lookup(_key(params), _fingerprint(app), lambda: _compute(app, params))


async def fresh(app: FastAPI, params: dict[str, Any]) -> MapView:
    cache: ResultCache = app.state.web_cache
    value = await run_in_threadpool(
        cache.wait, _key(params), _fingerprint(app), lambda: _compute(app, params)
    )
    return value  # type: ignore[no-any-return]


def warm(app: FastAPI) -> None:
    """Start computing the default map (at start-up and login, so the first view is quick)."""
    lookup(app, map_params(None, None, None))


def _periods(lang: Lang) -> list[tuple[str, str]]:
    return period_choices(lang)


def _title(params: dict[str, Any], lang: Lang) -> str:
    period = dict(_periods(lang))[params["period"]]
    who = params["persona"] or lang.gettext("All customers")
    if params.get("source"):
        who = (
            f"{who} · {lang.gettext('came from')} {load_rules().label(params['source'], lang.code)}"
        )
    label = load_definition(params["definition"]).label.get(lang.code) or params["definition"]
    return f"{who} · {period} · {label}"


def _page(request: Request, who: Viewer, params: dict[str, Any], **extra: Any) -> Response:
    found = lookup(request.app, params)
    jm = found.value
    svg = draw(jm, who.lang, _title(params, who.lang))[0] if jm and jm.phases else ""
    board = Board(request.app.state.settings, get_store(request))
    query = urlencode({k: v for k, v in params.items() if v})
    return render(
        request,
        who,
        "map.html",
        jm=jm,
        svg=Markup(svg),
        params=params,
        query=query,
        found=found,
        personas=personas(board, who.lang),
        periods=_periods(who.lang),
        sources=sources(who.lang),
        definitions=[
            (d, load_definition(d).label.get(who.lang.code) or d) for d in builtin_definitions()
        ],
        persona_note=who.lang.gettext(
            "No personas yet: they appear here once `klantreis personas` has run."
        ),
        subtitle=_title(params, who.lang),
        **extra,
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    viewer(request)
    return RedirectResponse("/map", status_code=303)


@router.get("/map", response_class=HTMLResponse)
def map_page(
    request: Request,
    persona: str | None = None,
    period: str | None = None,
    definition: str | None = None,
    source: str | None = None,
) -> Response:
    who = viewer(request)
    return _page(request, who, map_params(persona, period, definition, source), shared=False)


@router.get("/map/share")
def back_to_map() -> Response:
    return RedirectResponse("/map", status_code=303)


@router.post("/map/share", response_class=HTMLResponse)
async def share(request: Request) -> Response:
    who = viewer(request)
    form = await checked_form(request, who)
    params = map_params(
        form.get("persona"), form.get("period"), form.get("definition"), form.get("source")
    )
    token = security.sign_share(
        get_secret(request), {"view": "map", **params, "lang": who.lang.code}
    )
    url = str(request.base_url).rstrip("/") + f"/share/{token}"
    return _page(request, who, params, shared=False, share_url=url)


def _shared_params(request: Request, token: str) -> tuple[dict[str, Any], Lang]:
    data = security.read_share(get_secret(request), token)
    params = map_params(
        data.get("persona"), data.get("period"), data.get("definition"), data.get("source")
    )
    lang = data.get("lang")
    return params, Lang(lang if isinstance(lang, str) and lang in ("nl", "en", "da") else "en")


@router.get("/share/{token}", response_class=HTMLResponse)
def shared_map(request: Request, token: str) -> Response:
    who = viewer(request, require_login=False)
    try:
        params, lang = _shared_params(request, token)
    except security.ShareLinkError as exc:
        return render(request, who, "message.html", status=403, message=str(exc))
    who.lang = lang
    return _page(request, who, params, shared=True, token=token)


async def _export(
    request: Request, lang: Lang, params: dict[str, Any], kind: Literal["svg", "png", "pdf"]
) -> Response:
    jm = await fresh(request.app, params)
    svg, geo = draw(jm, lang, _title(params, lang))
    name = f"journey-map-{params['definition']}.{kind}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "X-Content-Type-Options": "nosniff",
    }
    if not jm.phases:
        return Response(
            lang.gettext("There is no journey map to export yet."),
            404,
            media_type="text/plain; charset=utf-8",
        )
    if kind == "svg":
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg
        return Response(body, media_type="image/svg+xml", headers=headers)
    try:
        data = await export.render(
            svg, geo["width"], geo["height"], kind, request.app.state.settings
        )
    except export.ExportUnavailable as exc:
        return Response(str(exc), 503, media_type="text/plain; charset=utf-8")
    media = "image/png" if kind == "png" else "application/pdf"
    return Response(data, media_type=media, headers=headers)


@router.get("/map.{kind}")
async def map_export(
    request: Request,
    kind: Literal["svg", "png", "pdf"],
    persona: str | None = None,
    period: str | None = None,
    definition: str | None = None,
    source: str | None = None,
) -> Response:
    who = viewer(request)
    params = map_params(persona, period, definition, source)
    return await _export(request, who.lang, params, kind)


@router.get("/share/{token}/map.{kind}")
async def shared_export(
    request: Request, token: str, kind: Literal["svg", "png", "pdf"]
) -> Response:
    try:
        params, lang = _shared_params(request, token)
    except security.ShareLinkError as exc:
        return Response(str(exc), 403, media_type="text/plain; charset=utf-8")
    return await _export(request, lang, params, kind)
