"""Rule kinds are self-describing units: every kind keeps the contract, and a kind registered
in a test alone is read, compiled, judged, scored and shown on the settings page."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from fastapi.testclient import TestClient
from sqlglot import exp
from stories import story

import klantreis
from klantreis.config import Settings
from klantreis.measure.expectations.cases import _NO_CASES, ensure_cases
from klantreis.measure.expectations.compile import Context, case_query, cases_query
from klantreis.measure.expectations.conditions import json_path, selector_tree
from klantreis.measure.expectations.kinds import (
    BUILT_IN,
    RuleKindError,
    kind_of,
    kinds,
    register_kind,
    unregister_kind,
)
from klantreis.measure.expectations.kinds.base import (
    EVENTS_TABLE,
    Phrase,
    RuleKind,
    common,
    template,
)
from klantreis.measure.expectations.rules import RuleSpec, Selector, parse_rules
from klantreis.measure.expectations.ruleset import default_rules
from klantreis.present.api.app import create_app
from klantreis.present.web import terms
from klantreis.present.web.auth import create_user
from klantreis.store import Store
from klantreis.store.query import Query

DOC = (Path(__file__).resolve().parents[2] / "docs" / "expectations.md").read_text()
CTX = Context(as_of=datetime(2026, 3, 1), phases=("orientation", "purchase", "service"))


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_kind_keeps_the_contract(name: str) -> None:
    kind = kinds()[name]
    assert kind.name == name
    assert kind.spec.model_fields["kind"].annotation == Literal[name]
    assert kind.has_delight == ("delight" in kind.spec.model_fields), name
    assert all(kind.label(lang) for lang in ("en", "nl", "da"))
    assert f"**`{name}`**" in DOC, f"docs/expectations.md does not describe {name}"
    examples = [r for r in default_rules() if r.kind == name]
    assert examples, f"no default rule shows the {name} kind"
    for rule in examples:
        assert kind_of(rule) is kind
        for phrase in kind.threshold(rule):
            texts = kind.terms["rule_phrase"][phrase.text]
            for lang in ("en", "nl", "da"):
                assert _placeholders(texts[lang]) == set(phrase.values), (name, lang, phrase)
        margin = kind.delight_margin(rule)
        assert (margin is not None) == (getattr(rule, "delight", None) is not None)
        sql = case_query(rule, CTX).sql("spark")
        assert "->>" not in sql and "?" not in sql, rule.id


def test_case_queries_have_the_columns_of_expectation_cases(kr) -> None:
    kr.store.append(story({"ann": [("Page Viewed", "09:00")]}))
    ensure_cases(kr)
    columns = kr.engine.fetch(_NO_CASES).column_names
    for rule in default_rules():
        found = kr.engine.fetch(Query(case_query(rule, CTX).tree.limit(0))).column_names
        assert found == columns, rule.id


def test_the_shared_pass_reads_the_properties_text_once() -> None:
    """Case queries read properties from `expectation_events`' own columns, extracted once."""
    tree = cases_query(default_rules(), CTX).tree
    sql = tree.sql("duckdb")
    reads = re.findall(r"(?<![.\w])properties\b", sql)
    extracted = re.findall(r"THEN properties ->> '\$\.\w+' END AS _p\d+", sql)
    assert reads and len(reads) == len(extracted)
    assert len(list(tree.find_all(exp.Table))) >= len(default_rules())
    scans = [t for t in tree.find_all(exp.Table) if t.name == "journey_events"]
    assert len(scans) == 1


def test_shared_pass_gives_each_rule_the_cases_it_gives_alone(demo_kr) -> None:
    """Rule by rule on the simulated shop: the shared pass against the rule's own query over
    `journey_events` with the whole properties text, as each rule was judged before."""
    case_set = ensure_cases(demo_kr)
    ctx = Context(as_of=case_set.as_of, compare=case_set.compare, phases=CTX_PHASES)
    judged = [r for r in case_set.rules if r.id not in case_set.no_data]
    assert len(judged) >= 12
    for rule in judged:
        alone = exp.select("*").from_(kind_of(rule).cases(rule, ctx).tree.subquery("c"))
        alone = alone.with_(EVENTS_TABLE, as_="SELECT * FROM journey_events")
        shared = Query("SELECT * FROM expectation_cases WHERE expectation_id = :r", r=rule.id)
        expected = sorted(map(repr, demo_kr.engine.rows(Query(alone))))
        got = sorted(map(repr, demo_kr.engine.rows(shared)))
        assert expected and got == expected, rule.id


CTX_PHASES = ("awareness", "orientation", "consideration", "purchase", "service", "evaluation")


# -- a kind of the test's own --------------------------------------------------------------
FLAGGED = """
WITH shaped AS (
    SELECT message_id AS case_id, person_id, journey_id, phase AS event_phase, channel,
           order_id, NULL AS case_key, timestamp AS started_at, NULL AS due_at, NULL AS ended_at,
           CASE WHEN properties ->> :path = 'true' THEN 'breached' ELSE 'met' END AS status,
           CASE WHEN properties ->> :path = 'true' THEN 'flagged' END AS detail,
           NULL AS value, NULL AS delighted
    FROM :events WHERE :cases_filter
)
SELECT * FROM shaped
"""


class FlaggedRule(RuleSpec):
    kind: Literal["flagged"]
    cases: Selector
    flag: str

    def named_events(self) -> list[str]:
        return list(self.cases.event)


class Flagged(RuleKind):
    """A case is breached when its event carries `flag: true`."""

    name = "flagged"
    spec = FlaggedRule
    terms: ClassVar = {
        "rule_kind": {"flagged": {"en": "flagged", "nl": "gemarkeerd", "da": "markeret"}},
        "rule_phrase": {
            "never {property}": {
                "en": "never {property}",
                "nl": "nooit {property}",
                "da": "aldrig {property}",
            }
        },
    }

    def cases(self, rule: FlaggedRule, ctx: Context) -> Query:
        return Query(
            template(FLAGGED),
            **common(rule, ctx),
            path=json_path(rule.flag),
            cases_filter=selector_tree(rule.cases),
        )

    def threshold(self, rule: FlaggedRule) -> list[Phrase]:
        return [Phrase("never {property}", {"property": rule.flag})]


TOY_RULES = """
expectations:
  - id: parcel_intact
    kind: flagged
    category: product quality
    phase: service
    title: {en: Parcel arrives intact, nl: Pakket komt heel aan, da: Pakken kommer hel frem}
    cases: {event: Parcel Inspected}
    flag: damaged
    target: 0.1
"""


@pytest.fixture
def flagged() -> Iterator[Flagged]:
    kind = register_kind(Flagged())
    yield kind
    unregister_kind("flagged")


def _inspected(at: str, damaged: bool) -> tuple:
    return ("Parcel Inspected", at, {"properties": {"damaged": damaged, "order_id": at}})


def test_a_kind_registered_in_a_test_is_compiled_judged_scored_and_shown(
    flagged: Flagged, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule_file = tmp_path / "toy.yaml"
    rule_file.write_text(TOY_RULES)
    config = tmp_path / "klantreis.toml"
    config.write_text(f'[expectations]\nrules = ["{rule_file}"]\n')
    monkeypatch.setenv("KLANTREIS_CONFIG", str(config))

    (rule,) = parse_rules(TOY_RULES, "toy.yaml")
    assert isinstance(rule, FlaggedRule) and kind_of(rule) is flagged
    assert "'$.damaged'" in case_query(rule, CTX).sql()

    store = tmp_path / "s.duckdb"
    kr = klantreis.open(store)
    kr.store.append(
        story(
            {
                "ann": [_inspected("2026-03-02T09:00", False)],
                "ben": [_inspected("2026-03-02T10:00", True), ("Page Viewed", "2026-03-03")],
            }
        )
    )
    ensure_cases(kr)
    rows = kr.sql(
        "SELECT person_id, status, detail FROM expectation_cases "
        "WHERE expectation_id = 'parcel_intact' ORDER BY person_id"
    ).to_pylist()
    assert [(r["person_id"], r["status"], r["detail"]) for r in rows] == [
        ("ann", "met", None),
        ("ben", "breached", "flagged"),
    ]
    score = kr.expectations().get("parcel_intact")
    assert (score.kind, score.cases, score.breached, score.status) == ("flagged", 2, 1, "breached")
    assert score.delight_margin is None and score.overall is None
    kr.close()

    assert terms.term("rule_kind", "flagged", "nl") == "gemarkeerd"
    with Store(store) as opened:
        create_user(opened, "nora", "a long enough password", "nl")
    settings = Settings(
        store, sections={"web": {"warm": False}, "expectations": {"rules": [str(rule_file)]}}
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login)
        client.post(
            "/login",
            data={
                "username": "nora",
                "password": "a long enough password",
                "csrf_token": token.group(1) if token else "",
            },
        )
        html = client.get("/settings").text
    row = html[html.index("Pakket komt heel aan") :].split("</tr>")[0]
    assert "<td>gemarkeerd</td>" in row and "nooit damaged" in row


def test_a_kind_without_a_label_in_every_language_is_refused() -> None:
    class Unlabelled(Flagged):
        name = "unlabelled"
        terms: ClassVar = {"rule_kind": {"unlabelled": {"en": "unlabelled"}}}

    with pytest.raises(RuleKindError, match="no label in nl, da"):
        register_kind(Unlabelled())
    assert "unlabelled" not in kinds()


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"x.yaml:2: expectation a: kind: 'magic' is no rule kind"):
        parse_rules("expectations:\n  - id: a\n    kind: magic\n    category: speed\n", "x.yaml")


def test_unchanged_rules_are_compiled_once(kr, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page asks for the cases; building and printing every rule's tree each time cost a
    second or two, so the compiled query is kept per ruleset and moment judged at."""
    from klantreis.measure.expectations import cases

    calls = []
    real = cases.cases_query

    def counted(rules, ctx, persons=None):
        calls.append(len(rules))
        return real(rules, ctx, persons)

    monkeypatch.setattr(cases, "cases_query", counted)
    cases._compiled.cache_clear()
    searched = ("Products Searched", "09:00", {"properties": {"results": 0}})
    kr.store.append(story({"ann": [searched]}))
    ensure_cases(kr)
    ensure_cases(kr)
    assert len(calls) == 1
    ensure_cases(kr, compare="day")
    assert len(calls) == 2
