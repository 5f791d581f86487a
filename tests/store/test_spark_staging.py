"""Which common table expressions Spark computes once (`store/engines/spark/staging.py`), on
parsed trees, and on a Spark session: the query reads the staged views and answers the same."""

from __future__ import annotations

import pytest
from sqlglot import exp

from klantreis.store.engines.spark.staging import references, staged, to_stage
from klantreis.store.query import Query

FUNNEL = """
WITH entered AS (SELECT person_id, min(ts) AS at FROM events WHERE event = 'a' GROUP BY 1),
     viewed AS (SELECT e.person_id, min(v.ts) AS at FROM entered AS e
                JOIN events AS v ON v.person_id = e.person_id AND v.ts >= e.at
                WHERE v.event = 'b' GROUP BY 1),
     names AS (SELECT * FROM steps WHERE kind = 'funnel'),
     once AS (SELECT count(*) AS n FROM events)
SELECT 'entered' AS step, count(*) AS persons FROM entered
UNION ALL SELECT 'viewed', count(*) FROM viewed
UNION ALL SELECT name, n FROM names, once
UNION ALL SELECT name, 0 FROM names
"""


def test_a_parsed_query_keeps_its_ctes_under_with_() -> None:
    """SQLGlot 30 and later: a query's `WITH` is the arg `with_` (reading `with` found none,
    and no expression was ever staged)."""
    tree = Query(FUNNEL).tree
    assert tree.args.get("with") is None
    assert isinstance(tree.args.get("with_"), exp.With)


def test_only_expressions_read_twice_and_more_than_a_scan_are_staged() -> None:
    tree = Query(FUNNEL).tree
    assert references(tree) == {"entered": 2, "viewed": 1, "names": 2, "once": 1}
    # `names` is read twice but is a filtered scan; `viewed` and `once` are read once
    assert to_stage(tree) == ["entered"]


def test_a_stage_carries_the_unstaged_expressions_before_it_and_reads_earlier_stages() -> None:
    tree = Query(
        "WITH a AS (SELECT x FROM t), b AS (SELECT x, count(*) AS n FROM a GROUP BY x), "
        "c AS (SELECT b.x FROM b JOIN b AS b2 USING (x)) "
        "SELECT * FROM c UNION ALL SELECT x FROM c UNION ALL SELECT x FROM a"
    ).tree
    stages, rest = staged(tree, "_kr_")
    assert [s.view for s in stages] == ["_kr_b", "_kr_c"]
    assert stages[0].query.sql("duckdb") == (
        "WITH a AS (SELECT x FROM t), b AS (SELECT x, COUNT(*) AS n FROM a GROUP BY x) "
        "SELECT * FROM b"
    )
    assert stages[1].query.sql("duckdb") == (
        'WITH a AS (SELECT x FROM t), c AS (SELECT b.x FROM "_kr_b" AS b '
        'JOIN "_kr_b" AS b2 USING (x)) SELECT * FROM c'
    )
    assert rest.sql("duckdb") == (
        'WITH a AS (SELECT x FROM t) SELECT * FROM "_kr_c" AS c '
        'UNION ALL SELECT x FROM "_kr_c" AS c UNION ALL SELECT x FROM a'
    )


def test_a_nested_expression_of_the_same_name_is_not_counted_nor_renamed() -> None:
    tree = Query(
        "WITH p AS (SELECT x, count(*) AS n FROM t GROUP BY x) "
        "SELECT x FROM (WITH p AS (SELECT 2 AS x) SELECT x FROM p) AS i "
        "UNION ALL SELECT x FROM p"
    ).tree
    assert references(tree) == {"p": 1}
    assert staged(tree, "_kr_") == ([], tree)


def test_an_expression_reading_a_costly_one_costs_as_much() -> None:
    """`b` only projects `a`, but `a` is an aggregate read once: each read of `b` computed
    the aggregate again."""
    tree = Query(
        "WITH a AS (SELECT x, count(*) AS n FROM t GROUP BY x), "
        "b AS (SELECT x, n + 1 AS m FROM a), c AS (SELECT * FROM s), d AS (SELECT * FROM c) "
        "SELECT x FROM b UNION ALL SELECT m FROM b "
        "UNION ALL SELECT 1 FROM d UNION ALL SELECT 2 FROM d"
    ).tree
    assert to_stage(tree) == ["b"]  # `d` is a scan of a scan


def test_a_shaped_model_query_is_staged_as_its_body() -> None:
    """The model's tables are `SELECT CAST(...) FROM (WITH ... SELECT ...) AS shaped`
    (`model/contract.py`): their expressions are staged as if the `WITH` were the query's."""
    from klantreis.model.contract import shaped
    from klantreis.model.sources import load_rules, session_sources_query
    from klantreis.store.schema import TableSpec, columns

    spec = TableSpec("t", columns=columns(("x", "BIGINT")))
    tree = shaped(
        spec,
        "WITH a AS (SELECT x, count(*) AS n FROM t GROUP BY x) "
        "SELECT x FROM a UNION ALL SELECT n FROM a",
    ).tree
    stages, rest = staged(tree, "_kr_")
    assert [s.view for s in stages] == ["_kr_a"]
    assert rest.sql("duckdb") == (
        'SELECT CAST("x" AS BIGINT) AS "x" FROM (SELECT x FROM "_kr_a" AS a '
        'UNION ALL SELECT n FROM "_kr_a" AS a) AS shaped'
    )
    # the journey sources' landing visits, a join of every event, read three times
    sources = session_sources_query(load_rules(None)).tree
    assert [s.view for s in staged(sources, "_kr_")[0]] == ["_kr_hosted", "_kr_names"]


def test_a_shaped_query_reading_a_table_beside_its_body_is_left_as_it_is() -> None:
    tree = Query(
        "SELECT x, (SELECT max(y) FROM a) AS top FROM "
        "(WITH a AS (SELECT x, count(*) AS y FROM t GROUP BY x) "
        "SELECT x FROM a UNION ALL SELECT y FROM a) AS shaped"
    ).tree
    assert staged(tree, "_kr_") == ([], tree)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_reads_a_staged_expression_and_answers_as_unstaged() -> None:
    pytest.importorskip("pyspark")
    import pyarrow as pa

    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import engine_session

    config = SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
    engine = SparkEngine(engine_session(config), config)
    try:
        engine.register_arrow(
            "events",
            pa.table(
                {
                    "person_id": ["p1", "p1", "p2", "p3"],
                    "event": ["a", "b", "a", "b"],
                    "ts": [1, 2, 5, 1],
                }
            ),
        )
        engine.register_arrow("steps", pa.table({"name": ["s"], "kind": ["funnel"]}))
        tree = Query(FUNNEL).tree
        with engine._staged(tree) as ran:
            sql = ran.sql("duckdb")
            views = {t.name for t in engine.session.catalog.listTables()}
        assert "FROM entered" not in sql
        assert [v for v in views if v.startswith("_kr_") and v.endswith("_entered")]
        rows = {(r["step"], r["persons"]) for r in engine.rows(FUNNEL)}
        assert rows == {("entered", 2), ("viewed", 1), ("s", 4), ("s", 0)}
        assert not [t for t in engine.session.catalog.listTables() if t.name.startswith("_kr_")]
    finally:
        engine.close()


@pytest.mark.spark
@pytest.mark.slow
def test_a_staged_expressions_rows_are_let_go_of_when_its_query_ends() -> None:
    """A stage's checkpointed rows are persisted blocks of the block store (in local mode the
    driver's heap): released as the query ends, not kept until the driver's next garbage
    collection beside every later query's work."""
    pytest.importorskip("pyspark")
    import pyarrow as pa

    from klantreis.store.engines.spark import SparkEngine
    from klantreis.store.engines.spark.configuration import SparkConfiguration
    from klantreis.store.engines.spark.factory import engine_session

    config = SparkConfiguration(master="local[2]", shuffle_partitions=2, driver_memory="2g")
    engine = SparkEngine(engine_session(config), config)
    context = engine.session.sparkContext

    def persisted() -> set[int]:
        return {int(k) for k in context._jsc.getPersistentRDDs().keySet().toArray()}

    try:
        engine.register_arrow(
            "events",
            pa.table({"person_id": ["p1", "p1", "p2"], "event": ["a", "b", "a"], "ts": [1, 2, 5]}),
        )
        engine.register_arrow("steps", pa.table({"name": ["s"], "kind": ["funnel"]}))
        before = persisted()
        seen: set[int] = set()
        with engine._staged(Query(FUNNEL).tree):
            seen = persisted() - before
        assert seen  # the stage `entered`, checkpointed while the query runs
        rows = {(r["step"], r["persons"]) for r in engine.rows(FUNNEL)}
        assert rows == {("entered", 2), ("viewed", 1), ("s", 3), ("s", 0)}
        engine.create_table_as("funnel", FUNNEL)
        assert persisted() - before == persisted() & set(_cached_ids(engine))
    finally:
        engine.close()


def _cached_ids(engine: object) -> list[int]:
    """The RDD ids of the engine's own derived tables (kept on purpose, `create_table_as`)."""
    ids = []
    for frame in engine._cached.values():  # type: ignore[attr-defined]
        plan = frame._jdf.queryExecution().analyzed()
        ids.append(int(plan.rdd().id()))
    return ids
