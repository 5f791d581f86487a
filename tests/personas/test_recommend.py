"""Recommendations: similar persons' purchases first, own purchases never, popular as fill."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
from typer.testing import CliRunner

from klantreis.api import Klantreis
from klantreis.measure.recommend import RecommendError, popular
from klantreis.present.cli.app import app


def test_recommend_from_similar_buyers(sim_kr: Klantreis):
    person = sim_kr.sql(
        "SELECT person_id FROM persons WHERE orders >= 2 ORDER BY person_id LIMIT 1"
    ).to_pylist()[0]["person_id"]
    items = sim_kr.recommend(person, n=10).items
    assert len(items) == 10
    assert items[0].why == "bought by similar persons"
    scores = [i.score for i in items if i.why != "popular"]
    assert scores == sorted(scores, reverse=True)
    bought = {
        r["p"]
        for r in sim_kr.sql(
            "SELECT DISTINCT unnest(json_extract_string(properties, '$.products[*].product_id')) "
            "AS p FROM journey_events WHERE person_id = :id AND event = 'Order Completed'",
            id=person,
        ).to_pylist()
    }
    assert bought and not bought & {i.product_id for i in items}


def test_unknown_person_and_cli(simulated: tuple[Path, pa.Table], sim_kr: Klantreis):
    try:
        sim_kr.recommend("nobody")
    except RecommendError as exc:
        assert "person: no person with id 'nobody'" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected RecommendError")
    assert len(popular(sim_kr, 5)) == 5
    user = simulated[1].column("user_id").drop_null()[0].as_py()
    sim_kr.close()
    result = CliRunner().invoke(
        app, ["recommend", user, "--store", str(simulated[0]), "--n", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3
