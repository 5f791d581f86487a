"""What differs when klantreis's DuckDB-dialect trees run on Spark SQL.

Like a dialect compiler that only declares differences: SQLGlot generates Spark SQL, and these
rewrites cover the functions it leaves alone or maps to a non-exact Spark function.
"""

from __future__ import annotations

from sqlglot import exp


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


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        # Spark has no `AS MATERIALIZED` (a DuckDB plan hint); it plans each reference itself.
        # Changed in place (`to_spark` transforms a copy), so the CTE's body is rewritten too.
        node.set("materialized", None)
        return node
    if isinstance(node, exp.JSONExtractScalar) and (wildcard := _json_wildcard(node)) is not None:
        return wildcard
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
