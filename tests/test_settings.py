"""klantreis.toml sections are typed models: unknown keys and bad values are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from klantreis.act.notify import SmtpConfig
from klantreis.config import ConfigError, SectionSettings, Settings, StoreSettings
from klantreis.measure.expectations.at_risk import AtRiskError, AtRiskSettings
from klantreis.measure.personas.settings import PersonasSettings
from klantreis.model.build import JourneySettings
from klantreis.present.api.routine import DEFAULTS, RoutineSettings
from klantreis.present.api.settings import CollectorSettings
from klantreis.present.web.settings import WebSettings


def settings(**sections: object) -> Settings:
    return Settings(Path("shop.duckdb"), sections=dict(sections))


def test_sections_have_defaults_when_absent():
    assert settings().section(JourneySettings).definition == "six-phase"
    assert settings().section(PersonasSettings).notify == ()
    assert SmtpConfig.from_settings(settings()) is None
    assert settings().section(AtRiskSettings).unshipped_hours == 48.0


@pytest.mark.parametrize(
    ("model", "raw", "field", "text"),
    [
        (SmtpConfig, {"hots": "mail"}, "smtp.hots", "unknown setting 'hots'"),
        (SmtpConfig, {"port": "twenty-five"}, "smtp.port", "port"),
        (PersonasSettings, {"notify": "vips"}, "personas.notify", "a list of persona ids"),
        (PersonasSettings, {"webhook": "ftp://x"}, "personas.webhook", "http(s) URL"),
        (AtRiskSettings, {"unshipped_hours": True}, "at_risk.unshipped_hours", ">= 0"),
        (JourneySettings, {"definition": 6}, "journey.definition", "definition"),
        (CollectorSettings, {"max_pending": 5}, "collector.max_pending", "unknown setting"),
        (CollectorSettings, {"merge_interval_ms": 0}, "collector.merge_interval_ms", "above 0"),
        (CollectorSettings, {"max_pending_events": 2.5}, "collector.max_pending_events", "whole"),
        (CollectorSettings, {"public_url": "shop"}, "collector.public_url", "http(s) URL"),
        (RoutineSettings, {"modle": 60}, "routine.modle", "unknown setting 'modle'"),
        (RoutineSettings, {"voice": -1}, "routine.voice", "seconds between runs"),
        (RoutineSettings, {"enabled": "maybe"}, "routine.enabled", "true or false"),
        (WebSettings, {"warm": "often"}, "web.warm", "true or false"),
        (WebSettings, {"trusted_proxies": ["proxy.x"]}, "web.trusted_proxies", "'proxy.x' is not"),
        (WebSettings, {"login_limit_per_user": "ten"}, "web.login_limit_per_user", "10/15minutes"),
        (WebSettings, {"secure_cookie": True}, "web.secure_cookie", "unknown setting"),
    ],
)
def test_bad_values_name_section_and_key(model, raw, field, text):
    with pytest.raises(ConfigError) as caught:
        settings(**{model.SECTION: raw}).section(model)
    assert caught.value.field == field
    assert f"[{model.SECTION}]" in str(caught.value) and text in str(caught.value)


def test_a_section_may_raise_its_own_error_class():
    with pytest.raises(AtRiskError):
        settings(at_risk={"unshipped_hours": -1}).section(AtRiskSettings)


def test_values_are_converted_to_their_types():
    smtp = SmtpConfig.from_settings(settings(smtp={"host": "mail", "port": 2525}))
    assert smtp is not None and smtp.port == 2525 and smtp.starttls is False


def test_the_server_sections_have_the_documented_defaults():
    collector = settings().section(CollectorSettings)
    assert (collector.max_pending_events, collector.merge_interval, collector.public_url) == (
        100_000,
        0.5,
        None,
    )
    routine = settings().section(RoutineSettings)
    assert routine.enabled and routine.retry == 60
    assert {job: getattr(routine, job) for job in DEFAULTS} == {
        job: every for job, (every, _) in DEFAULTS.items()
    }
    web = settings(web={"trusted_proxies": "10.0.0.2"}).section(WebSettings)
    assert web.warm and web.trusted_proxies == ("10.0.0.2",) and web.secure_cookies is None


def test_serve_refuses_a_bad_server_setting_by_file_section_and_key(tmp_path):
    from servers import cli

    config = tmp_path / "shop.toml"
    for text, named in (
        ("[collector]\nmax_queue_age_ms = -5\n", "[collector] max_queue_age_ms"),
        ("[routine]\nmodel = 'hourly'\n", "[routine] model"),
        ("[web]\nwarm_up = false\n", "[web]: unknown setting 'warm_up'"),
    ):
        config.write_text(text)
        result = cli(
            "serve",
            "--port",
            "0",
            store=tmp_path / "s.duckdb",
            env={"KLANTREIS_CONFIG": str(config)},
        )
        assert result.returncode == 2, result.stderr[-500:]
        assert str(config) in result.stderr and named in result.stderr, result.stderr[-500:]


@pytest.mark.parametrize(
    ("model", "doc", "pattern"),
    [
        (CollectorSettings, "collector.md", "{} ="),
        (RoutineSettings, "live.md", "{} ="),
        (WebSettings, "web.md", "`{}`"),
        (StoreSettings, "scale-out.md", "{} ="),
    ],
)
def test_every_server_setting_is_documented(model, doc, pattern):
    text = (Path(__file__).resolve().parents[1] / "docs" / doc).read_text()
    assert [name for name in model.model_fields if pattern.format(name) not in text] == []


def test_store_kind_is_checked_and_a_lake_keeps_its_state_apart(tmp_path, monkeypatch):
    from klantreis.config import load_settings

    config = tmp_path / "klantreis.toml"
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    monkeypatch.delenv("KLANTREIS_STORE", raising=False)
    config.write_text('[store]\nkind = "lakehouse"\n')
    with pytest.raises(ConfigError, match=r'\[store\] kind: "duckdb" or "lake", not .lakehouse.'):
        load_settings()
    config.write_text('[store]\nkind = "lake"\npath = "lake/"\nstate = "home.duckdb"\n')
    settings = load_settings()
    assert settings.store == Path("home.duckdb")
    assert settings.section(StoreSettings).lake == Path("lake/")
    config.write_text('[store]\npath = "shop.duckdb"\n')
    assert load_settings().store == Path("shop.duckdb")
    assert load_settings().section(StoreSettings).lake is None


def _every_section_model() -> list[type[SectionSettings]]:
    """Every typed section of klantreis.toml: the `SectionSettings` subclasses of every module
    of the package (imported here, so a section declared anywhere is found)."""
    import importlib
    import pkgutil

    import klantreis

    for module in pkgutil.walk_packages(klantreis.__path__, "klantreis."):
        importlib.import_module(module.name)
    found: list[type[SectionSettings]] = []
    todo = list(SectionSettings.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo.extend(model.__subclasses__())
    return sorted(found, key=lambda m: (m.SECTION, m.__qualname__))


SECTION_MODELS = _every_section_model()


def test_the_walk_finds_the_sections_read_by_hand_before():
    sections = {model.SECTION for model in SECTION_MODELS}
    assert {"collector", "web", "expectations", "engine", "store", "smtp"} <= sections


@pytest.mark.parametrize("model", SECTION_MODELS, ids=lambda m: f"{m.SECTION}:{m.__name__}")
def test_every_section_refuses_an_unknown_key_by_file_section_and_key(
    model: type[SectionSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Through `load_settings`, as a user's file is read: the error names the file, the
    section and the key, and every field of the section has its default."""
    from klantreis.config import load_settings

    config = tmp_path / "shop.toml"
    config.write_text(f"[{model.SECTION}]\nno_such_key = 1\n")
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    monkeypatch.delenv("KLANTREIS_ENGINE", raising=False)
    with pytest.raises(ConfigError) as caught:  # [store] is read by load_settings itself
        load_settings(tmp_path / "s.duckdb").section(model)
    assert caught.value.field == f"{model.SECTION}.no_such_key"
    message = str(caught.value)
    assert str(config) in message and f"[{model.SECTION}]" in message, message
    assert "no_such_key" in message, message
    assert Settings(tmp_path / "s.duckdb").section(model) is not None  # all defaults


def test_the_known_sections_are_the_models_sections():
    from klantreis.config import SECTIONS

    assert {model.SECTION for model in SECTION_MODELS} | {"alerts"} == SECTIONS


def test_an_unknown_section_is_refused_by_file_and_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`[colector]` for `[collector]`: the file and the section are named, with the likely
    one, instead of the collector quietly running on its defaults."""
    from klantreis.config import load_settings

    config = tmp_path / "shop.toml"
    config.write_text('[colector]\nmax_batch_bytes = 1000\n\n[store]\npath = "s.duckdb"\n')
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert str(config) in message and "[colector]" in message, message
    assert "did you mean [collector]" in message, message
    assert caught.value.field == "colector"


def test_no_module_reads_a_section_as_a_dict():
    """`settings.sections` is read only by `config.py`; every other module asks for its typed
    section (`settings.section(Model)`). `[[alerts]]` is a list of tables, each an `AlertRule`."""
    import ast

    allowed = {"config.py", "act/alerts.py"}
    src = Path(__file__).resolve().parents[1] / "src" / "klantreis"
    readers = []
    for path in sorted(src.rglob("*.py")):
        name = path.relative_to(src).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "sections" and name not in allowed:
                readers.append(f"{name}:{node.lineno}")
    assert readers == []
