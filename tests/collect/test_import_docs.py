"""docs/mappings.md stays in step with the example and built-in mappings."""

from __future__ import annotations

from importing import EXAMPLES, REPO

from klantreis.collect.imports import builtin_mappings, load_mapping

DOC = (REPO / "docs" / "mappings.md").read_text()


def test_every_example_mapping_loads_and_is_documented():
    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert {p.stem for p in examples} >= {"orders", "shipments", "tickets", "reviews"}
    for path in examples:
        load_mapping(path)
        assert f"(mappings/{path.name})" in DOC, path.name


def test_every_builtin_mapping_loads_and_is_documented():
    assert "rees46" in builtin_mappings()
    for name in builtin_mappings():
        load_mapping(name)
        assert f"`{name}`" in DOC


def test_every_mapping_key_is_documented():
    from klantreis.collect.imports.mapping import EventMapping, Filter, Mapping, Value

    for model in (Mapping, EventMapping, Value, Filter):
        for name, field in model.model_fields.items():
            key = field.alias or name
            assert f"`{key}`" in DOC or f"{key}:" in DOC, f"{model.__name__}.{key}"
