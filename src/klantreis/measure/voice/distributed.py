"""Voice scoring on an engine that keeps its own tables (Spark over a lake).

The texts never come to the driver: the scorer (lexicons, the shipped review models and the
shop's own model, all plain Python objects) is shipped to the engine's workers and applied to
the text rows in Arrow batches (`Engine.create_table_mapped`, Spark's `mapInArrow`), by the
same `score_rows` the DuckDB store uses. One pass makes text and topic rows together (`kind`),
kept once; `voice` and `voice_topics` are then selected from it, new rows after the ones
scored before, so a second update scores only new texts.
"""

from __future__ import annotations

from functools import partial

import pyarrow as pa

from klantreis.measure.voice.scoring import VoiceScorer
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query

VOICE_COLUMNS = (
    ("message_id", "STRING"),
    ("event", "STRING"),
    ("timestamp", "TIMESTAMP"),
    ("user_id", "STRING"),
    ("anonymous_id", "STRING"),
    ("order_id", "STRING"),
    ("rating", "DOUBLE"),
    ("survey_kind", "STRING"),
    ("survey_score", "DOUBLE"),
    ("language", "STRING"),
    ("sentiment", "DOUBLE"),
    ("label", "STRING"),
    ("topics", "STRING"),
    ("phase", "STRING"),
    ("method", "STRING"),
    ("text", "STRING"),
)
"""The `voice` table's columns (stored.VOICE_TABLE), in its order."""
TOPIC_COLUMNS = (
    ("message_id", "STRING"),
    ("topic", "STRING"),
    ("phase", "STRING"),
    ("user_id", "STRING"),
    ("anonymous_id", "STRING"),
    ("sentiment", "DOUBLE"),
    ("label", "STRING"),
)
SCORED = (("kind", "STRING"), *VOICE_COLUMNS, ("topic", "STRING"))
"""One row per text (`kind` 'text') and per topic of a text (`kind` 'topic')."""
_ARROW = {"STRING": pa.string(), "DOUBLE": pa.float64(), "TIMESTAMP": pa.timestamp("us", "UTC")}
SCORED_SCHEMA = pa.schema([(name, _ARROW[kind]) for name, kind in SCORED])
_SCORED = "_kr_voice_scored"
_SQL_TYPES = {"STRING": "VARCHAR", "DOUBLE": "DOUBLE", "TIMESTAMP": "TIMESTAMP"}


def scored_batch(scorer: VoiceScorer, texts: pa.Table) -> pa.Table:
    """Text rows and topic rows of a batch, in `SCORED_SCHEMA` (run on a worker)."""
    from klantreis.measure.voice.stored import score_rows

    voice, topics = score_rows(texts, scorer)
    parts = []
    for kind, table in (("text", voice), ("topic", topics)):
        columns = {}
        for field in SCORED_SCHEMA:
            if field.name == "kind":
                columns["kind"] = pa.array([kind] * table.num_rows, pa.string())
            elif field.name in table.column_names:
                columns[field.name] = table.column(field.name).cast(field.type)
            else:
                columns[field.name] = pa.nulls(table.num_rows, field.type)
        parts.append(pa.table(columns))
    return pa.concat_tables(parts)


def score_on_engine(engine: Engine, scorer: VoiceScorer, texts: str) -> int:
    """Score `texts` (the texts `engine` has not scored yet) into its `voice` and
    `voice_topics`; returns how many texts were scored."""
    from klantreis.measure.voice.stored import TEXT_EVENTS

    before = engine.has_table("voice")
    schema = ", ".join(f"{name} {kind}" for name, kind in SCORED)
    engine.create_table_mapped(
        _SCORED,
        Query(texts, events=list(TEXT_EVENTS)),
        partial(scored_batch, scorer),
        schema,
    )
    count = f"SELECT count(*) FROM {_SCORED} WHERE kind = 'text'"  # noqa: S608 - constant
    scored = int(engine.scalar(count) or 0)
    if scored or not before:
        for table, columns in (("voice", VOICE_COLUMNS), ("voice_topics", TOPIC_COLUMNS)):
            names = ", ".join(name for name, _ in columns)
            kind = "text" if table == "voice" else "topic"
            sql = f"SELECT {names} FROM {_SCORED} WHERE kind = '{kind}'"  # noqa: S608
            if before:  # constant names only
                sql += f" UNION ALL SELECT {names} FROM {table}"  # noqa: S608
            engine.create_table_as(table, sql)
    engine.execute(f"DROP TABLE {_SCORED}")
    return scored


def ensure_empty_tables(engine: Engine) -> None:
    """Empty `voice` and `voice_topics` on the engine, so a reader before the first update
    finds no texts rather than no table (as on the DuckDB store)."""
    for table, columns in (("voice", VOICE_COLUMNS), ("voice_topics", TOPIC_COLUMNS)):
        if engine.has_table(table):
            continue
        names = ", ".join(f"CAST(NULL AS {_SQL_TYPES[kind]}) AS {name}" for name, kind in columns)
        engine.create_table_as(table, f"SELECT {names} WHERE false")
