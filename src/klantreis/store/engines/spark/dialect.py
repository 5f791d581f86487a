"""What differs when klantreis's DuckDB-dialect trees run on Spark SQL.

Like a dialect compiler that only declares differences: SQLGlot generates Spark SQL, and these
rewrites cover the functions it leaves alone or maps to a non-exact Spark function.
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.generators.spark import SparkGenerator


class _Spark3(Spark):
    """Spark SQL as Spark 3 and later read it: a `WITH` may stand inside a subquery or inside
    another common table expression.

    SQLGlot's Spark generator inherits Hive's (and Spark 2's) lifting of every nested `WITH` to
    the top of the statement, without renaming what it lifts. A table read in another way
    (`store/query.py` `read_as`, e.g. the model read in another journey definition) is such a
    subquery with common table expressions of its own: lifted, its `placed` collided with the
    emotion by phase's own `placed` (DUPLICATED_CTE_NAMES), and a lifted expression's reading of
    a model table could be taken by an outer expression of that name. Left in place, each name
    is read in its own scope, as on DuckDB.
    """

    class Generator(SparkGenerator):
        EXPRESSIONS_WITHOUT_NESTED_CTES: ClassVar[set[type[exp.Expr]]] = set()


_SPARK = _Spark3()


def _is_wildcard(part: exp.Expression) -> bool:
    return isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, exp.JSONPathWildcard)


def _json_wildcard(node: exp.JSONExtractScalar) -> exp.Expression | None:
    """`json_extract_string(doc, '$.items[*].id')` as a Spark array of text.

    DuckDB gives a list per wildcard; Spark's GET_JSON_OBJECT gives one JSON text (and a bare
    value when one element matches). So the array is parsed with FROM_JSON as ARRAY<STRING>
    (Spark keeps each object as its JSON text) and the rest of the path is read per element.
    """
    path = node.expression
    if not isinstance(path, exp.JSONPath):
        return None
    parts = path.expressions
    at = next((i for i, part in enumerate(parts) if _is_wildcard(part)), None)
    if at is None or any(_is_wildcard(part) for part in parts[at + 1 :]):
        return None
    elements = exp.FromJson(
        this=exp.JSONExtractScalar(
            this=node.this.copy(),
            expression=exp.JSONPath(expressions=[p.copy() for p in parts[:at]]),
        ),
        expression=exp.Literal.string("ARRAY<STRING>"),
    )
    rest = parts[at + 1 :]
    if not rest:
        return elements
    element = exp.to_identifier("json_element")
    return exp.Transform(
        this=elements,
        expression=exp.Lambda(
            this=exp.JSONExtractScalar(
                this=element.copy(),
                expression=exp.JSONPath(
                    expressions=[exp.JSONPathRoot(), *(p.copy() for p in rest)]
                ),
            ),
            expressions=[element],
        ),
    )


_MICROS = {"MICROSECOND": 1, "MILLISECOND": 1_000, "SECOND": 1_000_000}
_MICROS |= {"MINUTE": 60 * _MICROS["SECOND"], "HOUR": 3600 * _MICROS["SECOND"]}


def _boundaries(node: exp.DateDiff) -> exp.Expression | None:
    """DuckDB's `date_diff(unit, a, b)` counts the unit's boundaries crossed from a to b;
    Spark's DATEDIFF(unit, ...) counts whole units elapsed, one less when the two moments'
    fractions of the unit are the other way round (a late-delivery of 2660.6 s was 2661 s on
    DuckDB and 2660 s on Spark). Here: the difference of the moments truncated to the unit."""
    unit = node.unit.name.upper() if node.unit else "DAY"
    if unit == "DAY":
        return exp.Anonymous(
            this="DATEDIFF",
            expressions=[
                exp.cast(_inner(node.this), "DATE"),
                exp.cast(_inner(node.expression), "DATE"),
            ],
        )
    size = _MICROS.get(unit)
    if size is None:
        return None

    def units(moment: exp.Expression) -> exp.Expression:
        micros = exp.Anonymous(
            this="UNIX_MICROS", expressions=[exp.cast(_inner(moment), "TIMESTAMP")]
        )
        return exp.Floor(this=exp.Div(this=micros, expression=exp.Literal.number(size)))

    return exp.Sub(this=units(node.this), expression=units(node.expression))


def _inner(node: exp.Expression) -> exp.Expression:
    """A child of a replaced node, rewritten too (`transform` does not descend into the
    nodes a rewrite returns: a `date_diff` inside `median` stayed DuckDB's)."""
    return node.transform(_rewrite, copy=True)


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        # Spark has no `AS MATERIALIZED` (a DuckDB plan hint); it plans each reference itself.
        # Changed in place (`to_spark` transforms a copy), so the CTE's body is rewritten too.
        node.set("materialized", None)
        return node
    if (
        isinstance(node, exp.DateDiff)
        and node.args.get("date_part_boundary")
        and (counted := _boundaries(node)) is not None
    ):
        return exp.paren(counted, copy=False)
    if isinstance(node, exp.JSONExtractScalar) and (wildcard := _json_wildcard(node)) is not None:
        return wildcard
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
        # UNIX_MICROS wants a session-zone TIMESTAMP; the session zone is UTC.
        return exp.Anonymous(
            this="UNIX_MICROS", expressions=[exp.cast(_inner(node.expressions[0]), "TIMESTAMP")]
        )
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch":
        return exp.Anonymous(
            this="UNIX_SECONDS", expressions=[exp.cast(_inner(node.expressions[0]), "TIMESTAMP")]
        )
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
        # PERCENTILE is Spark's exact, linearly interpolated quantile (= DuckDB quantile_cont).
        return exp.Anonymous(
            this="PERCENTILE", expressions=[_inner(node.this), _inner(node.expression)]
        )
    if isinstance(node, exp.Avg) and not isinstance(node.this, (exp.Distinct, exp.Cast)):
        # DuckDB averages a DECIMAL (a literal such as 1.0 is one) as DOUBLE, Spark as DECIMAL:
        # the share `avg(CASE ... THEN 1.0 ELSE 0.0 END)` came back as a Python Decimal.
        return exp.Avg(this=exp.cast(_inner(node.this), "DOUBLE"))
    if (
        isinstance(node, exp.Div)
        and isinstance(node.expression, exp.Literal)
        and node.expression.is_number
        and "." in node.expression.this
    ):
        # `x / 3600.0` is a DOUBLE on DuckDB and a DECIMAL rounded to 6 places on Spark.
        return exp.Div(
            this=_inner(node.this), expression=exp.cast(node.expression.copy(), "DOUBLE")
        )
    if isinstance(node, exp.ToDays):
        # DuckDB's to_days(n) is an interval of n days; Spark's TO_DAYS does not exist.
        return exp.Anonymous(this="MAKE_DT_INTERVAL", expressions=[_inner(node.this)])
    if isinstance(node, exp.Median):
        return exp.Anonymous(this="PERCENTILE", expressions=[_inner(node.this), exp.convert(0.5)])
    return node


def _shadowed(table: exp.Table) -> bool:
    """Whether a common table expression of a query around `table` has its name: there it
    reads that expression, not the table (a subquery's own `WITH`, see `_Spark3`)."""
    scope = table.parent
    while scope is not None:
        with_ = scope.args.get("with_") if isinstance(scope, exp.Query) else None
        if isinstance(with_, exp.With) and any(c.alias == table.name for c in with_.expressions):
            return True
        scope = scope.parent
    return False


def rename_tables(tree: exp.Expression, names: dict[str, str]) -> exp.Expression:
    """The tree with references to the named tables pointed at other (view) names; a
    reference to a nested common table expression of the same name is left alone."""

    def swap(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Table)
            and not node.args.get("db")
            and node.name in names
            and not _shadowed(node)
        ):
            # keeps the name as an alias: `b.x` still reads the renamed `b`
            alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
            renamed = exp.Table(this=exp.to_identifier(names[node.name], quoted=True))
            renamed.set("alias", alias.copy())
            return renamed
        return node

    return tree.transform(swap, copy=True)


def to_spark(tree: exp.Expression) -> str:
    """Spark SQL text for a DuckDB-dialect tree."""
    return tree.transform(_rewrite, copy=True).sql(dialect=_SPARK)
