"""Rule personas from YAML: structured conditions, clear errors with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from stories import event_row, story

import klantreis
from klantreis.measure.personas.rules import RuleError, apply_rules, load_rules
from klantreis.store import Store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    with Store(path) as store:
        store.append(
            story(
                {
                    "anna": [
                        ("Product Viewed", "09:00"),
                        ("Order Completed", "09:30", {"properties": {"order_id": "A1"}}),
                    ],
                    "bram": [
                        ("Order Completed", "10:00", {"properties": {"order_id": "B1"}}),
                        ("Order Completed", "2026-03-09T10:00", {"properties": {"order_id": "B2"}}),
                        (
                            "Return Requested",
                            "2026-03-12T10:00",
                            {"properties": {"order_id": "B2"}},
                        ),
                    ],
                    "cor": [("Product Viewed", "11:00")],
                }
            )
        )
        import pyarrow as pa

        from klantreis.store.schema import EVENT_ARROW_SCHEMA

        store.append(
            pa.Table.from_pylist(
                [
                    event_row(
                        "bram",
                        "Identify",
                        "08:00",
                        type="identify",
                        traits={"company": {"name": "Bakkerij Bram"}, "email": "b@example.nl"},
                    )
                ],
                schema=EVENT_ARROW_SCHEMA,
            )
        )
    return path


def members(kr: klantreis.Klantreis, persona: str) -> set[str]:
    rows = kr.sql(
        "SELECT p.user_id FROM person_personas AS pp JOIN persons AS p USING "
        "(person_id) WHERE pp.persona = :p AND pp.source = 'rule'",
        p=persona,
    )
    return {r["user_id"] for r in rows.to_pylist()}


def test_builtin_rules(store_path: Path):
    with klantreis.open(store_path) as kr:
        sizes = apply_rules(kr)
        assert members(kr, "first-time-buyers") == {"anna"}
        assert members(kr, "repeat-buyers") == {"bram"}
        assert members(kr, "business-customers") == {"bram"}
        assert members(kr, "never-bought") == {"cor"}
        assert members(kr, "returners") == {"bram"}
        assert sizes["repeat-buyers"] == 1
        # the journey map can be cut by a rule persona
        assert kr.journey_map(persona="repeat-buyers").to_dict()["phases"]


def test_own_rules_with_any_and_in(store_path: Path, tmp_path: Path):
    rules = tmp_path / "personas.yaml"
    rules.write_text(
        "personas:\n"
        "  - id: named\n"
        "    any:\n"
        "      - {field: user_id, op: in, value: [anna, cor]}\n"
        "      - {event: Return Requested}\n"
    )
    with klantreis.open(store_path) as kr:
        apply_rules(kr, rules)
        assert members(kr, "named") == {"anna", "bram", "cor"}
        assert members(kr, "repeat-buyers") == set()  # rules of another file are replaced


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "personas:\n  - id: x\n    all:\n      - {field: orders, op: equals, value: 1}\n",
            r"rules\.yaml:4:9: op: unknown operator 'equals'",
        ),
        (
            "personas:\n  - id: x\n    all:\n      - {field: secret, op: eq, value: 1}\n",
            r":4:9: field: unknown field 'secret'",
        ),
        (
            'personas:\n  - id: x\n    all:\n      - {trait: "a\'b", op: present}\n',
            r":4:9: trait: a plain name",
        ),
        ("personas:\n  - id: Bad Id\n    all: []\n", r":2:5: id: lower-case"),
        ("personas:\n  - id: x\n    all: [\n", r"rules\.yaml:4:1: not valid YAML"),
    ],
)
def test_bad_rules_name_file_line_and_column(tmp_path: Path, text: str, message: str):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(RuleError, match=message):
        load_rules(path)


def test_values_are_bound_not_pasted(store_path: Path, tmp_path: Path):
    rules = tmp_path / "personas.yaml"
    rules.write_text(
        "personas:\n  - id: sneaky\n    all:\n"
        "      - {field: user_id, op: eq, value: \"x' OR '1'='1\"}\n"
    )
    with klantreis.open(store_path) as kr:
        assert apply_rules(kr, rules) == {"sneaky": 0}
