"""Read API for the journey map, the store's contents and one person's data."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from klantreis.api import Klantreis
from klantreis.measure.journey_map import JourneyMapQuery
from klantreis.measure.store_stats import StatsQuery
from klantreis.model.build import configured_definition
from klantreis.model.definition import DefinitionError, builtin_definitions, load_definition
from klantreis.present.api.deps import ReadAccess, StoreDep
from klantreis.privacy import export_person

router = APIRouter(prefix="/api", tags=["journey"])


def _kr(request: Request, store: Any) -> Klantreis:
    return Klantreis.over(store, request.app.state.settings)


def _named_definition(kr: Klantreis, definition: str | None) -> str | None:
    """The definition a request names, if it is shipped or configured; else a 400.

    A caller of the read API names a definition, never a file: the shipped ones, or the one
    `[journey] definition` configures (by that setting's value or by the `name` in its file).
    A path would let a read key open any file on the server and learn whether it exists.
    """
    shipped = builtin_definitions()
    if definition is None or definition in shipped:
        return definition
    configured = configured_definition(kr)
    names = {configured: configured}
    if configured not in shipped:
        with contextlib.suppress(DefinitionError):  # the map then names what is wrong
            names[load_definition(configured).name] = configured
    if definition in names:
        return names[definition]
    offered = sorted({*shipped, *(n for n in names if n != configured or n in shipped)})
    raise HTTPException(
        400,
        f"unknown journey definition; name one of {', '.join(offered)} (a file is chosen by "
        "the server's [journey] definition setting, not by the request)",
    )


@router.get("/map")
def journey_map(
    request: Request,
    store: StoreDep,
    _who: ReadAccess,
    query: Annotated[JourneyMapQuery, Query()],
) -> dict[str, Any]:
    """The journey map as JSON (the same structure as `klantreis map --json`); `definition`
    names a shipped or the configured definition, never a file."""
    kr = _kr(request, store)
    named = query.model_copy(update={"definition": _named_definition(kr, query.definition)})
    return kr.run("journey_map", named).to_dict()


@router.get("/stats")
def stats(
    request: Request, store: StoreDep, _who: ReadAccess, query: Annotated[StatsQuery, Query()]
) -> dict[str, Any]:
    """What the store holds (the same as `klantreis stats --json`)."""
    return _kr(request, store).run("stats", query).as_json()


@router.get("/persons/{person}/export")
def export(person: str, request: Request, store: StoreDep, _who: ReadAccess) -> dict[str, Any]:
    """Everything stored about one person (any of their ids); on a lake, its files and the
    tables the scheduled jobs wrote too."""
    data = export_person(store, person, request.app.state.settings)
    if not data["tables"]:
        raise HTTPException(404, f"nothing is stored about {person!r}")
    return data
