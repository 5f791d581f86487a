"""Every analysis has one typed query; the Python method, the runner, the CLI command and the
HTTP route all match it, and a bad parameter is the same error on all three presenters.

A new analysis must be listed here: with its command and route, or among those without one.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from servers import Server, cli

import klantreis
from klantreis.config import load_settings
from klantreis.measure.contract import AnalysisQuery, Cli, CutQuery, Positional, QueryError
from klantreis.measure.registry import AnalysisSpec, specs
from klantreis.present.api.app import create_app
from klantreis.present.cli.app import app as cli_app

# analysis -> (command path, the command's own parameters besides the query's fields)
COMMANDS: dict[str, tuple[tuple[str, ...], set[str]]] = {
    "funnel": (("funnel",), {"dropoffs", "store", "as_json"}),
    "paths": (("paths",), {"old_start", "old_end", "store", "as_json"}),
    "retention": (("retention",), {"repeat_purchase", "store", "as_json"}),
    "journey_map": (("map",), {"store", "out", "open_browser", "as_json"}),
    "stats": (("stats",), {"store", "as_json"}),
    "expectations": (("expectations",), {"store", "json"}),
    "at_risk": (("at-risk",), {"store", "json"}),
    "voice": (("voice",), {"store", "json"}),
    "opportunities": (("opportunities",), {"store", "limit", "as_json"}),
    "recommend": (("recommend",), {"store", "as_json"}),
    "survey_scores": (("surveys", "scores"), {"store", "json"}),
    "reputation": (("voice", "reputation"), {"store", "json"}),
    "products": (("products",), {"store", "rules", "limit", "as_json"}),
    "returns": (("returns",), {"store", "as_json"}),
    "search": (("search",), {"store", "as_json"}),
    "value": (("value",), {"store", "as_json"}),
    "recovery": (("recovery",), {"store", "as_json"}),
    "sources": (("sources",), {"store", "as_json"}),
}
WITHOUT_COMMAND = {
    "audience": "`klantreis personas export` writes it as CSV",
    "pain_points": "shown by `klantreis map`",
    "breaches": "rows for the dashboard's timeline",
    "delights": "rows for the dashboard's timeline",
    "time_in_phase": "part of the dashboard's funnels page",
    "phase_transitions": "part of the dashboard's funnels page",
    "emotion_by_phase": "shown by `klantreis map`",
    "evaluate_expectations": "run by `klantreis demo` and the routine",
    "repeat_purchase": "`klantreis retention --repeat-purchase`",
}
# analysis -> (route, the route's own parameters besides the query's public names)
ROUTES: dict[str, tuple[str, set[str]]] = {
    "funnel": ("/api/funnel", {"dropoffs"}),
    "paths": ("/api/paths", {"start", "end"}),
    "retention": ("/api/retention", {"repeat_purchase"}),
    "time_in_phase": ("/api/phase-flow", set()),
    "phase_transitions": ("/api/phase-flow", set()),
    "journey_map": ("/api/map", set()),
    "stats": ("/api/stats", set()),
    "expectations": ("/api/expectations", set()),
    "pain_points": ("/api/pain-points", set()),
    "breaches": ("/api/breaches", set()),
    "delights": ("/api/delights", set()),
    "at_risk": ("/api/at-risk", set()),
    "voice": ("/api/voice", set()),
    "emotion_by_phase": ("/api/voice/emotion", set()),
    "survey_scores": ("/api/surveys/scores", set()),
    "reputation": ("/api/voice/reputation", set()),
    "audience": ("/api/personas/{persona}/audience", {"format"}),
    "products": ("/api/products", {"limit"}),
    "returns": ("/api/returns", set()),
    "search": ("/api/search", set()),
    "value": ("/api/value", set()),
    "recovery": ("/api/recovery", set()),
    "sources": ("/api/sources", set()),
}
WITHOUT_ROUTE = {
    "evaluate_expectations": "writes tables; the routine runs it",
    "opportunities": "read through /api/map",
    "recommend": "per person, for the shop's own back end through Python",
    "repeat_purchase": "`GET /api/retention?repeat_purchase=true`",
}

SPECS = specs()


def _fields(spec: AnalysisSpec) -> dict[str, Any]:
    assert spec.query is not None, f"{spec.name} is registered without a query model"
    return dict(spec.query.model_fields)


def _positional(info: Any) -> bool:
    return any(isinstance(m, Positional) for m in info.metadata)


def _same_default(model_default: Any, default: Any) -> bool:
    if isinstance(model_default, list):
        return list(default) == model_default
    return bool(default == model_default)


def test_every_analysis_is_typed_and_presented_or_said_why_not():
    assert set(SPECS) <= set(COMMANDS) | set(WITHOUT_COMMAND), "list the new analysis above"
    assert set(SPECS) <= set(ROUTES) | set(WITHOUT_ROUTE), "list the new analysis above"
    for spec in SPECS.values():
        assert spec.query is not None and issubclass(spec.query, AnalysisQuery), spec.name
        assert spec.result is not None, spec.name


def test_summaries_are_typed_results_not_bare_json():
    """A summary is an `AnalysisResult` (typed fields, `as_json()` for the presenters), so a
    bare dict or list is no result shape an analysis may choose."""
    from klantreis.measure.contract import AnalysisResult

    bare = sorted(name for name, spec in SPECS.items() if spec.result in (dict, list))
    assert not bare, f"give {bare} a typed result"
    for name in (
        "stats",
        "pain_points",
        "emotion_by_phase",
        "opportunities",
        "recommend",
        "returns",
        "search",
    ):
        result = SPECS[name].result
        assert result is not None and issubclass(result, AnalysisResult), name
    assert issubclass(SPECS["evaluate_expectations"].result or dict, AnalysisResult)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_python_method_and_runner_match_the_query(name: str):
    spec = SPECS[name]
    fields = _fields(spec)
    assert name in vars(klantreis.Klantreis), f"Klantreis.{name} is not a typed method"
    method = inspect.signature(vars(klantreis.Klantreis)[name])
    runner = inspect.signature(spec.function)
    for signature, skip in ((method, "self"), (runner, None)):
        params = (
            list(signature.parameters.values())[1:]
            if skip is None
            else [p for p in signature.parameters.values() if p.name != skip]
        )
        assert {p.name for p in params} == set(fields), f"{name}: {signature}"
        for param in params:
            info = fields[param.name]
            if info.is_required():
                assert param.default is inspect.Parameter.empty, (name, param.name)
            else:
                assert _same_default(info.default, param.default), (name, param.name)
    for param in list(method.parameters.values())[1:]:
        expected = (
            inspect.Parameter.POSITIONAL_OR_KEYWORD
            if _positional(fields[param.name])
            else inspect.Parameter.KEYWORD_ONLY
        )
        assert param.kind is expected, (name, param.name)
    declared = str(method.return_annotation).split("[")[0].split(".")[-1]
    assert declared == spec.result.__name__, name


def _command(path: tuple[str, ...]) -> Any:
    """The command as the CLI runs it (Typer's click command tree)."""
    command: Any = typer.main.get_command(cli_app)
    for part in path:
        command = command.commands[part]
    return command


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_cli_options_are_the_query_fields(name: str):
    spec = SPECS[name]
    path, own = COMMANDS[name]
    query = spec.query
    assert query is not None
    params = {p.name: p for p in _command(path).params}
    fields = _fields(spec)
    assert set(params) - {"help"} == set(fields) | own, path
    for field, info in fields.items():
        param = params[field]
        markers = [m for m in info.metadata if isinstance(m, Cli)]
        if any(isinstance(m, Positional) and m.cli_argument for m in info.metadata):
            assert param.param_type_name == "argument", (name, field)
            continue
        assert param.param_type_name == "option", (name, field)
        names = [*param.opts, *param.secondary_opts]
        public = "--" + query.public_name(field).replace("_", "-")
        wanted = markers[0].decls[0].split("/")[0] if markers else public
        assert wanted in names, (name, field, names)
        if info.description:
            assert info.description.split(" (")[0].rstrip(".") in (param.help or ""), field
        if not info.is_required() and info.default not in (None, []):
            assert param.default == info.default, (name, field)


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("openapi") / "shop.duckdb"
    return create_app(load_settings(path)).openapi()


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_http_parameters_are_the_query_fields(name: str, openapi: dict[str, Any]):
    spec = SPECS[name]
    route, own = ROUTES[name]
    query = spec.query
    assert query is not None
    params = {
        p["name"]: p
        for p in openapi["paths"][route]["get"].get("parameters", [])
        if p["in"] in ("query", "path")
    }
    public = {query.public_name(field): info for field, info in _fields(spec).items()}
    assert set(params) == set(public) | own, route
    for key, info in public.items():
        if params[key]["in"] == "path":
            continue
        assert params[key].get("required", False) == info.is_required(), (route, key)
        if not info.is_required() and info.default is not None:
            assert params[key]["schema"].get("default") == info.default, (route, key)
        if info.description:
            assert params[key].get("description") == info.description, (route, key)


def test_the_cut_has_one_public_name_everywhere():
    for spec in SPECS.values():
        if spec.query is not None and issubclass(spec.query, CutQuery):
            assert spec.query.public_name("start") == "from", spec.name
            assert spec.query.public_name("end") == "to", spec.name


# --- one bad parameter, one error ---------------------------------------------------------

BAD = [
    pytest.param(
        "paths",
        {"steps": 0},
        ["paths", "--steps", "0"],
        ("/api/paths", {"steps": "0"}),
        ("steps", "steps: Input should be greater than or equal to 1"),
        id="range",
    ),
    pytest.param(
        "funnel",
        {"steps": ["Product Viewed", "Order Completed"], "mode": "sideways"},
        ["funnel", "Product Viewed", "Order Completed", "--mode", "sideways"],
        ("/api/funnel", {"step": ["Product Viewed", "Order Completed"], "mode": "sideways"}),
        ("mode", "mode: Input should be 'ordered', 'strict' or 'unordered'"),
        id="choice",
    ),
    pytest.param(
        "at_risk",
        {"now": "soon"},
        ["at-risk", "--now", "soon"],
        ("/api/at-risk", {"now": "soon"}),
        ("now", "now: not an ISO timestamp: 'soon' (e.g. 2026-03-01T12:00)"),
        id="own-wording",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    store = tmp_path_factory.mktemp("contract") / "shop.duckdb"
    with klantreis.open(store):
        pass  # an empty store: a refused parameter never reaches it
    running = Server(store).create_keys().start()
    yield running
    running.stop()


@pytest.mark.parametrize(("name", "python", "command", "http", "expected"), BAD)
def test_a_bad_parameter_is_the_same_error_on_every_presenter(
    server: Server,
    name: str,
    python: dict[str, Any],
    command: list[str],
    http: tuple[str, dict[str, Any]],
    expected: tuple[str, str],
):
    field, message = expected
    own = server.store.with_name("python.duckdb")  # the server holds its store's lock
    with klantreis.open(own) as kr, pytest.raises(QueryError) as caught:
        getattr(kr, name)(**python)
    assert caught.value.field == field and str(caught.value) == message

    result = cli(*command, "--store", str(server.store))
    assert result.returncode == 2, result.stderr
    assert f"error: {message}" in " ".join(result.stderr.split())

    route, params = http
    response = httpx.get(
        f"{server.url}{route}",
        params=params,
        headers={"Authorization": f"Bearer {server.read_key}"},
        timeout=30,
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and response.json()["error"] == message


def test_an_unknown_http_parameter_is_refused_by_name(server: Server):
    response = httpx.get(
        f"{server.url}/api/paths",
        params={"stepz": "3"},
        headers={"Authorization": f"Bearer {server.read_key}"},
        timeout=30,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "stepz"
    assert response.json()["error"] == "stepz: not a parameter of this analysis"


def test_an_untyped_analysis_still_runs_with_a_deprecation_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from klantreis.measure import registry

    monkeypatch.setitem(registry._ANALYSES, "shoe_sizes", lambda kr, size=42: {"size": size})
    with klantreis.open(tmp_path / "shop.duckdb") as kr, pytest.warns(DeprecationWarning):
        assert kr.shoe_sizes(size=43) == {"size": 43}


PERIODS = [
    pytest.param("voice", ["voice"], "/api/voice", {}, id="voice"),
    pytest.param("journey_map", ["map"], "/api/map", {}, id="map"),
    pytest.param(
        "funnel",
        ["funnel", "Product Viewed", "Order Completed"],
        "/api/funnel",
        {"step": ["Product Viewed", "Order Completed"]},
        id="funnel",
    ),
]


@pytest.mark.parametrize(("name", "command", "route", "params"), PERIODS)
@pytest.mark.parametrize(("field", "public"), [("start", "from"), ("end", "to")])
def test_a_bad_period_is_refused_by_the_query_model(
    server: Server,
    name: str,
    command: list[str],
    route: str,
    params: dict[str, Any],
    field: str,
    public: str,
):
    """Not a 400 from the runner after the store was opened: the model refuses it, 422 on
    HTTP with `field`, the option as typed on the CLI."""
    reason = "not an ISO date: '1 March' (e.g. 2026-03-01)"
    with pytest.raises(QueryError) as caught:
        SPECS[name].query.of(**{field: "1 March"})  # type: ignore[union-attr]
    assert caught.value.field == field and str(caught.value) == f"{field}: {reason}"

    result = cli(*command, f"--{public}", "1 March", "--store", str(server.store))
    assert result.returncode == 2, result.stderr
    assert f"error: --{public}: {reason}" in " ".join(result.stderr.split())

    response = httpx.get(
        f"{server.url}{route}",
        params={**params, public: "1 March"},
        headers={"Authorization": f"Bearer {server.read_key}"},
        timeout=30,
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert response.json()["error"] == f"{field}: {reason}"


def test_a_period_is_still_an_iso_date_or_moment():
    from klantreis.measure.contract import CutQuery

    assert CutQuery.of(start="2026-03-01", end="2026-03-01T12:30").end == "2026-03-01T12:30"
    assert CutQuery.model_validate({"from": ""}).start is None
