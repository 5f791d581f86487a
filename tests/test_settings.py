"""klantreis.toml sections are typed models: unknown keys and bad values are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from klantreis.act.notify import SmtpConfig
from klantreis.config import ConfigError, Settings
from klantreis.measure.expectations.at_risk import AtRiskError, AtRiskSettings
from klantreis.measure.personas.settings import PersonasSettings
from klantreis.model.build import JourneySettings


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
