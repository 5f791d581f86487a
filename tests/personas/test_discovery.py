"""Discovered personas on the simulator: the built-in personas come back, stably."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score

from klantreis.api import Klantreis
from klantreis.measure.personas import Discovery, DiscoveryError, assign_new, discover


def truth_of(kr: Klantreis, truth: pa.Table) -> pd.DataFrame:
    """The simulator's persona per stitched person (through any of their anonymous ids)."""
    ids = kr.sql("SELECT id, person_id FROM identities WHERE id_kind = 'anonymous_id'")
    frame = truth.select(["anonymous_ids", "persona"]).to_pandas().explode("anonymous_ids")
    frame = frame.merge(ids.to_pandas(), left_on="anonymous_ids", right_on="id")
    return frame.drop_duplicates("person_id")[["person_id", "persona"]]


def agreement(kr: Klantreis, found: Discovery, truth: pa.Table) -> float:
    joined = found.labels.merge(truth_of(kr, truth), on="person_id", suffixes=("", "_truth"))
    assert len(joined) > 0.8 * len(found.labels)
    return float(adjusted_rand_score(joined["persona_truth"], joined["persona"]))


@pytest.mark.slow
def test_simulator_personas_are_recovered(sim_kr: Klantreis, simulated: tuple[Path, pa.Table]):
    auto = discover(sim_kr, "auto", seed=7)
    ari_auto = agreement(sim_kr, auto, simulated[1])
    found = discover(sim_kr, 5, seed=7)
    ari = agreement(sim_kr, found, simulated[1])
    print(
        f"adjusted Rand index vs simulator truth ({found.persons} persons): "
        f"k=5 {ari:.3f}; auto k={auto.k} {ari_auto:.3f} (silhouette {auto.scores})"
    )
    assert ari > 0.5
    assert ari_auto > 0.4
    names = {p.persona for p in found.personas}
    assert len(names) == 5
    assert {"careful-comparers", "bargain-hunters", "service-seekers"} <= names
    careful = next(p for p in found.personas if p.persona == "careful-comparers")
    assert "more filter use" in careful.description or "more searching" in careful.description
    stored = sim_kr.sql(
        "SELECT persona, count(*) AS n FROM person_personas WHERE source = 'discovered' "
        "GROUP BY persona"
    ).to_pylist()
    assert {r["persona"]: r["n"] for r in stored} == {p.persona: p.size for p in found.personas}


@pytest.mark.slow
def test_same_seed_same_groups_and_auto_k_states_its_scores(sim_kr: Klantreis):
    first = discover(sim_kr, "auto", seed=3)
    second = discover(sim_kr, "auto", seed=3)
    assert first.criterion.startswith("silhouette")
    assert set(first.scores) == set(range(3, 9))
    assert first.k == max(first.scores, key=lambda k: first.scores[k])
    assert first.labels.equals(second.labels)
    assert [p.description for p in first.personas] == [p.description for p in second.personas]


@pytest.mark.slow
def test_new_persons_are_assigned_with_the_stored_model(sim_kr: Klantreis):
    found = discover(sim_kr, 4, seed=7)
    assert assign_new(sim_kr) == 0
    before = found.labels.set_index("person_id")["persona"]
    dropped = before.index[:25].tolist()
    sim_kr.store.connection.execute(
        "DELETE FROM person_personas WHERE source = 'discovered' AND person_id IN "
        "(SELECT unnest(?))",
        [dropped],
    )
    assert assign_new(sim_kr) == 25
    after = dict(
        sim_kr.sql("SELECT person_id, persona FROM person_personas WHERE source = 'discovered'")
        .to_pandas()
        .values
    )
    assert all(after[p] == before[p] for p in dropped)


def test_bad_k_is_named(sim_kr: Klantreis):
    with pytest.raises(DiscoveryError, match="k: must be between 2 and 20"):
        discover(sim_kr, 1)


def test_olist_personas_use_what_olist_has(olist_store: Path):
    import klantreis

    with klantreis.open(olist_store) as kr:
        found = discover(kr, 3, seed=7, min_events=1)
    assert "searches_per_session" not in found.features
    assert "order_value" in found.features
    assert sum(p.size for p in found.personas) == found.persons


@pytest.mark.slow
def test_cli_discover_list_assign(simulated: tuple[Path, pa.Table]):
    import json

    from typer.testing import CliRunner

    from klantreis.present.cli.app import app

    runner = CliRunner()
    store = ["--store", str(simulated[0])]
    result = runner.invoke(app, ["personas", "discover", "--k", "4", "--json", *store])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["k"] == 4 and len(found["personas"]) == 4
    listed = json.loads(runner.invoke(app, ["personas", "list", "--json", *store]).stdout)
    assert {p["persona"] for p in listed if p["source"] == "discovered"} == {
        p["persona"] for p in found["personas"]
    }
    assert all(len(p["examples"]) == 3 for p in listed if p["source"] == "discovered")
    assigned = runner.invoke(app, ["personas", "assign", *store])
    assert assigned.exit_code == 0 and "0 new persons" in assigned.output
    bad = runner.invoke(app, ["personas", "discover", "--k", "many", *store])
    assert bad.exit_code == 2 and "--k: a number or 'auto'" in bad.output


@pytest.mark.slow
def test_sampled_fit_assigns_every_person_page_by_page(
    sim_kr: Klantreis, monkeypatch: pytest.MonkeyPatch
):
    """Above `FIT_SAMPLE` persons the model is fitted on a fixed sample and every person is
    assigned a page at a time: the pages change nothing (same groups, sizes, examples as one
    page), every person gets a persona, and the groups agree with a fit on everyone."""
    from klantreis.measure.personas import features

    everyone = discover(sim_kr, 4, seed=7)
    assert everyone.labels is not None
    persons = everyone.persons
    monkeypatch.setattr(features, "FIT_SAMPLE", persons // 2)
    monkeypatch.setattr(features, "PAGE", persons)
    one_page = discover(sim_kr, 4, seed=7)
    stored = sim_kr.sql(
        "SELECT person_id, persona FROM person_personas WHERE source = 'discovered'"
    ).to_pandas()
    monkeypatch.setattr(features, "PAGE", persons // 3 + 1)
    paged = discover(sim_kr, 4, seed=7)
    again = sim_kr.sql(
        "SELECT person_id, persona FROM person_personas WHERE source = 'discovered'"
    ).to_pandas()
    assert one_page.labels is None and paged.labels is None  # not held for every person

    def shown(found: Discovery) -> list[tuple[object, ...]]:
        # The means behind the traits are summed page by page: equal up to rounding.
        return [(p.persona, p.description, p.size, p.examples) for p in found.personas]

    assert shown(paged) == shown(one_page)
    pd.testing.assert_frame_equal(
        stored.sort_values("person_id", ignore_index=True),
        again.sort_values("person_id", ignore_index=True),
    )
    assert len(again) == persons == again["person_id"].nunique()
    assert sum(p.size for p in paged.personas) == persons
    joined = everyone.labels.merge(again, on="person_id", suffixes=("", "_sampled"))
    assert adjusted_rand_score(joined["persona"], joined["persona_sampled"]) > 0.8


def test_a_group_that_hardly_filters_or_searches_has_a_name() -> None:
    """The largest group of a shop is often its browsers, set apart only by hardly using
    filters: a shop owner reads "Casual browsers", not "Group 1"."""
    from klantreis.measure.personas.description import Trait, name_groups

    browsers = [Trait("filters_per_session", "low", -0.4, 0.01, 0.2)]
    comparers = [Trait("filters_per_session", "high", 2.1, 2.7, 0.2)]
    plain: list[Trait] = []
    assert name_groups([browsers, comparers, plain]) == [
        "Casual browsers",
        "Careful comparers",
        "Group 3",
    ]
