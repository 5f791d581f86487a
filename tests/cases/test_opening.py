"""Signals open cases: one per signal, never twice, reading only new signals."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import story

from klantreis.act.cases import open_cases
from klantreis.act.cases.rules import CaseRuleError, active_case_rules
from klantreis.api import Klantreis
from klantreis.config import load_settings


def _opened(kr: Klantreis) -> set[tuple[str, str]]:
    return {(c["rule_id"], c["person_id"]) for c in kr.cases.list(limit=1000)}


def test_each_kind_of_signal_opens_its_case(shop: Klantreis) -> None:
    run = open_cases(shop)
    assert run.skipped == {}
    assert _opened(shop) == {
        ("delivery_breach", "ann"),
        ("nps_detractor", "ben"),
        ("unanswered_question", "cas"),
        ("service_breach", "cas"),  # no first response within the expected time either
        ("order_at_risk", "eva"),
        ("negative_review", "fay"),
    }
    late = shop.cases.list(kind="breach", person="ann")[0]
    assert late["expectation_id"] == "delivery_promise_kept"
    assert late["order_id"] == "O-ann" and late["status"] == "open"
    assert late["priority"] == "high" and late["message"] == "apology"
    assert late["due_at"] > late["signal_at"]
    question = shop.cases.list(kind="unanswered")[0]
    assert question["case_key"] == "T-cas" and "24 h" in question["reason"]


def test_opening_again_opens_nothing_and_keeps_what_was_done(shop: Klantreis) -> None:
    first = open_cases(shop)
    assert first.total == 6
    case_id = shop.cases.list(kind="detractor")[0]["case_id"]
    shop.cases.resolve([case_id], note="called her")
    again = open_cases(shop)
    assert again.total == 0
    assert len(shop.cases.list(limit=1000)) == 6
    assert shop.cases.show(case_id)["status"] == "resolved"


def test_each_run_reads_only_signals_after_the_last_one(shop: Klantreis) -> None:
    open_cases(shop)
    scanned = shop.store.get_meta("cases.scanned.nps_detractor")
    assert scanned == "2026-03-10T09:00:00"

    def detractor(person: str, when: str) -> None:
        shop.store.append(
            story(
                {person: [("Survey Answered", when, {"properties": {"kind": "nps", "score": 1}})]}
            )
        )

    detractor("old", "2026-01-20T10:00")  # older than 30 days: never a case
    detractor("late", "2026-03-09T18:00")  # arrived late, within the grace of 48 hours
    detractor("new", "2026-03-11T10:00")  # after the last run
    run = open_cases(shop)
    assert run.opened["nps_detractor"] == 2
    assert {p for r, p in _opened(shop) if r == "nps_detractor"} == {"ben", "late", "new"}


def test_the_shop_overrides_and_switches_off_rules(
    shop: Klantreis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cases.yaml").write_text(
        "rules:\n  - id: nps_detractor\n    kind: detractor\n    max_score: 2\n    owner: anna\n"
    )
    (tmp_path / "klantreis.toml").write_text(
        '[cases]\nrules = ["cases.yaml"]\ndisabled = ["unanswered_question"]\n'
    )
    shop.settings = load_settings(shop.settings.store)
    ids = [r.id for r in active_case_rules(shop.settings)]
    assert "unanswered_question" not in ids and "nps_detractor" in ids
    open_cases(shop)
    kinds = {rule for rule, _ in _opened(shop)}
    assert "nps_detractor" not in kinds  # ben's 3 is above the shop's 2
    assert "unanswered_question" not in kinds


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("rules:\n  - id: x\n    kind: breach\n    max_score: 11\n", "rule x: max_score"),
        ("rules:\n  - id: x\n    kind: complaint\n", "rule x: kind"),
        ("rules:\n  - id: x\n    kind: breach\n    colour: red\n", "rule x: colour"),
        ("rules: [\n", "not valid YAML"),
    ],
)
def test_a_bad_rule_file_names_the_file_the_rule_and_the_key(
    kr: Klantreis, tmp_path: Path, text: str, wanted: str
) -> None:
    (tmp_path / "mine.yaml").write_text(text)
    (tmp_path / "klantreis.toml").write_text('[cases]\nrules = ["mine.yaml"]\n')
    with pytest.raises(CaseRuleError) as error:
        active_case_rules(load_settings(kr.settings.store))
    assert str(tmp_path / "mine.yaml") in str(error.value)
    assert wanted in str(error.value)


def test_an_unknown_disabled_rule_is_refused(kr: Klantreis, tmp_path: Path) -> None:
    (tmp_path / "klantreis.toml").write_text('[cases]\ndisabled = ["nps_detractors"]\n')
    with pytest.raises(CaseRuleError, match=r"\[cases\] disabled: unknown case rule"):
        active_case_rules(load_settings(kr.settings.store))
