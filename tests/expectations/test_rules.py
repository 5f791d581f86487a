"""Rule files: the default set, and errors that name file, line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from klantreis.measure.expectations.kinds.deadline import DeadlineRule
from klantreis.measure.expectations.rules import (
    CATEGORIES,
    RuleError,
    parse_duration,
    parse_rules,
)
from klantreis.measure.expectations.ruleset import (
    ExpectationSettings,
    active_rules,
    default_rules,
)

REQUIRED_DEFAULTS = {
    "delivery_promise_kept",
    "order_confirmed_fast",
    "shipping_updates_sent",
    "payment_confirmed",
    "payment_succeeds",
    "support_first_response",
    "support_resolution",
    "support_no_repeat",
    "return_processed",
    "return_approved_fast",
    "return_not_rejected",
    "search_finds",
    "site_fast",
    "consented_contact_only",
}


def test_default_set_covers_the_issue_and_is_translated():
    rules = default_rules()
    ids = {r.id for r in rules}
    assert ids >= REQUIRED_DEFAULTS
    for rule in rules:
        assert rule.category in CATEGORIES
        assert set(rule.title) == {"en", "nl", "da"}, rule.id
        assert rule.description


def test_durations():
    assert parse_duration("5m") == timedelta(minutes=5)
    assert parse_duration("2.5s") == timedelta(seconds=2.5)
    assert parse_duration("14d") == timedelta(days=14)
    assert parse_duration(90) == timedelta(seconds=90)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


GOOD = """
expectations:
  - id: quick_reply
    kind: deadline
    category: service
    phase: service
    title: {en: Quick reply}
    start: {event: Ticket Created}
    end: {event: Ticket Replied, where: {property: author, op: ne, value: customer}}
    key: ticket_id
    within: 2h
"""


def test_a_rule_parses_with_conditions():
    (rule,) = parse_rules(GOOD, "x.yaml")
    assert isinstance(rule, DeadlineRule)
    assert rule.within == timedelta(hours=2)
    assert rule.end.where[0].op == "ne"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("category: service", "category: vibes"), "x.yaml:3: expectation quick_reply: category"),
        (("within: 2h", "within: 2 hours"), "within: Value error, not a duration"),
        (
            ("    within: 2h", "    within: 2h\n    due: promised_delivery_date"),
            "exactly one of `within` or `due`",
        ),
        (
            ("key: ticket_id", 'key: "id\'); DROP TABLE events; --"'),
            "key: Value error, not a property",
        ),
        (("title: {en: Quick reply}", "title: {nl: Snel}"), "title: Value error, needs at least"),
        (("kind: deadline", "kind: magic"), "x.yaml:3: expectation quick_reply"),
    ],
)
def test_bad_rules_name_file_line_and_field(change, message):
    old, new = change
    with pytest.raises(RuleError) as caught:
        parse_rules(GOOD.replace(old, new), "x.yaml")
    assert message in str(caught.value)


def test_bad_yaml_names_line_and_column():
    with pytest.raises(RuleError, match=r"x.yaml:3:\d+: not valid YAML"):
        parse_rules("expectations:\n  - id: a\n    title: {en: [}\n", "x.yaml")


def test_duplicate_ids_are_refused():
    body = GOOD.split("expectations:\n", 1)[1]
    with pytest.raises(RuleError, match="appears twice"):
        parse_rules("expectations:\n" + body + body, "x.yaml")


def test_shop_rules_override_defaults_and_settings_are_checked(tmp_path: Path, monkeypatch):
    from klantreis.config import load_settings

    (tmp_path / "mine.yaml").write_text(
        GOOD.replace("quick_reply", "support_first_response").replace("2h", "4h")
    )
    config = tmp_path / "klantreis.toml"
    config.write_text(
        '[expectations]\nrules = ["mine.yaml"]\ndisabled = ["site_fast"]\ncompare = "day"\n'
    )
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))
    settings = ExpectationSettings.from_settings(load_settings(tmp_path / "s.duckdb"))
    assert settings.compare == "day"
    rules = {r.id: r for r in active_rules(settings)}
    assert "site_fast" not in rules
    assert rules["support_first_response"].within == timedelta(hours=4)

    config.write_text('[expectations]\ncompare = "week"\n')
    with pytest.raises(RuleError, match=r"\[expectations\] compare: 'timestamp' or 'day'"):
        ExpectationSettings.from_settings(load_settings(tmp_path / "s.duckdb"))
    config.write_text('[expectations]\ndisabled = ["nope"]\n')
    with pytest.raises(RuleError, match="unknown expectation"):
        active_rules(ExpectationSettings.from_settings(load_settings(tmp_path / "s.duckdb")))
