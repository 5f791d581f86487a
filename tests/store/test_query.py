"""The query layer: values bound as literal nodes, identifiers quoted in one place, and golden
SQL per dialect for the rewrites each engine declares (`store/engines/*/dialect.py`).

Set KLANTREIS_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change; review the
diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from klantreis.store.engines.duckdb.dialect import to_duckdb
from klantreis.store.engines.spark.dialect import rename_tables, to_spark
from klantreis.store.query import Query, identifier

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "epoch_us": 'SELECT epoch_us("timestamp") AS us, epoch("timestamp") AS s FROM events',
    "quantiles": (
        "SELECT quantile_cont(seconds, 0.9) AS p90, median(seconds) AS p50 FROM durations"
    ),
    "json_wildcard": (
        "SELECT json_extract_string(properties, '$.products[*].sku') AS skus,"
        " json_extract_string(properties, '$.products[*]') AS products FROM events"
    ),
    "average": (
        "SELECT avg(CASE WHEN score >= 9 THEN 1.0 ELSE 0.0 END) AS share,"
        " avg(CAST(score AS DOUBLE)) AS mean FROM answers"
    ),
    "date_diff": (
        "SELECT date_diff('second', started_at, ended_at) / 3600.0 AS hours,"
        " date_diff('day', started_at, ended_at) AS days,"
        " median(date_diff('second', started_at, ended_at)) AS median_seconds FROM cases"
    ),
    "to_days": "SELECT breached_at + to_days(CAST(:days AS INTEGER)) AS until FROM breaches",
    "count_distinct": (
        "SELECT count(DISTINCT person_id) AS persons FROM journey_events"
        ' WHERE "event" IN :names AND "timestamp" >= :start GROUP BY phase'
    ),
    "materialized_cte": (
        'WITH landed AS MATERIALIZED (SELECT epoch_us("timestamp") AS us FROM events)'
        " SELECT a.us FROM landed AS a JOIN landed AS b ON a.us = b.us"
    ),
}
PARAMS = {
    "to_days": {"days": 90},
    "count_distinct": {"names": ["Order Completed", "Product Viewed"], "start": "2026-03-01"},
}
DIALECTS = {"duckdb": to_duckdb, "spark": to_spark}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", CASES)
def test_golden_sql_per_dialect(case: str, dialect: str) -> None:
    sql = DIALECTS[dialect](Query(CASES[case], **PARAMS.get(case, {})).tree)
    pretty = sqlglot.transpile(sql, read=dialect, write=dialect, pretty=True)[0] + "\n"
    path = GOLDEN / dialect / f"{case}.sql"
    if os.environ.get("KLANTREIS_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pretty)
    assert pretty == path.read_text(), f"{path} differs; see the module docstring"


def test_spark_rewrites_keep_counts_and_quantiles_exact() -> None:
    spark = to_spark(
        Query(
            CASES["quantiles"] + " UNION ALL " + CASES["count_distinct"], **PARAMS["count_distinct"]
        ).tree
    )
    assert "PERCENTILE(" in spark and "APPROX" not in spark.upper()
    assert "COUNT(DISTINCT person_id)" in spark


def test_values_are_bound_as_literals_never_as_text() -> None:
    hostile = "x' OR '1'='1"
    query = Query('SELECT * FROM events WHERE "event" = :name', name=hostile)
    condition = query.tree.args["where"].this
    assert condition.expression.is_string and condition.expression.this == hostile
    assert query.sql() == "SELECT * FROM events WHERE \"event\" = 'x'' OR ''1''=''1'"


def test_lists_bind_as_tuples_and_missing_values_are_named() -> None:
    query = Query("SELECT 1 FROM t WHERE a IN :names", names=["a", "b"])
    assert query.sql() == "SELECT 1 FROM t WHERE a IN ('a', 'b')"
    with pytest.raises(KeyError, match=":missing"):
        Query("SELECT 1 FROM t WHERE a = :missing", other=1)


def test_identifiers_are_quoted_in_one_place() -> None:
    assert identifier('odd "name"').sql("duckdb") == '"odd ""name"""'
    assert identifier("journey_events").sql("spark") == "`journey_events`"


def test_spark_keeps_a_nested_with_in_its_scope() -> None:
    """SQLGlot's Spark generator lifted a subquery's `WITH` to the top without renaming it: a
    table read as a query with its own `placed` (`read_as`) collided with the outer `placed`
    (Spark: DUPLICATED_CTE_NAMES). Spark 3+ reads a nested `WITH` where it stands."""
    query = Query(
        "WITH placed AS (SELECT 1 AS x) SELECT i.x + o.x AS x "
        "FROM (WITH placed AS (SELECT 2 AS x) SELECT x FROM placed) AS i CROSS JOIN placed AS o"
    )
    spark = to_spark(query.tree)
    assert spark.count("WITH placed AS") == 2
    assert spark.index("(WITH placed AS (SELECT 2 AS x)") > spark.index("SELECT 1 AS x")


def test_renaming_a_staged_table_leaves_a_nested_one_of_that_name() -> None:
    tree = Query(
        "SELECT x FROM (WITH placed AS (SELECT 2 AS x) SELECT x FROM placed) AS i "
        "UNION ALL SELECT x FROM placed"
    ).tree
    renamed = rename_tables(tree, {"placed": "_kr_placed"}).sql("duckdb")
    assert renamed.count('"_kr_placed"') == 1
    assert renamed.endswith('SELECT x FROM "_kr_placed" AS placed')
