"""What differs when klantreis's DuckDB-dialect trees run on Spark SQL.

Like a dialect compiler that only declares differences: SQLGlot generates Spark SQL, and these
rewrites cover the functions it leaves alone or maps to a non-exact Spark function.
"""

from __future__ import annotations

from sqlglot import exp


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
        # UNIX_MICROS wants a session-zone TIMESTAMP; the session zone is UTC.
        return exp.Anonymous(
            this="UNIX_MICROS", expressions=[exp.cast(node.expressions[0].copy(), "TIMESTAMP")]
        )
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch":
        return exp.Anonymous(
            this="UNIX_SECONDS", expressions=[exp.cast(node.expressions[0].copy(), "TIMESTAMP")]
        )
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
        # PERCENTILE is Spark's exact, linearly interpolated quantile (= DuckDB quantile_cont).
        return exp.Anonymous(
            this="PERCENTILE", expressions=[node.this.copy(), node.expression.copy()]
        )
    if isinstance(node, exp.Median):
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this.copy(), exp.convert(0.5)])
    return node


def rename_tables(tree: exp.Expression, names: dict[str, str]) -> exp.Expression:
    """The tree with references to the named tables pointed at other (view) names."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
            renamed = exp.Table(this=exp.to_identifier(names[node.name], quoted=True))
            if node.args.get("alias"):
                renamed.set("alias", node.args["alias"].copy())
            return renamed
        return node

    return tree.transform(swap, copy=True)


def to_spark(tree: exp.Expression) -> str:
    """Spark SQL text for a DuckDB-dialect tree."""
    return tree.transform(_rewrite, copy=True).sql(dialect="spark")
