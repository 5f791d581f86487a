"""Learn the shop's own sentiment model from its rated reviews, and keep it in the store.

The model lives in the `voice_models` table of the store it was trained on, so it travels with
the shop's data and is never mixed with another shop's. Too few rated reviews and we keep to
the lexicons (`NotEnoughData`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import orjson

from klantreis.measure.voice.language import detect_language, language_hint
from klantreis.measure.voice.model import NotEnoughData, SentimentModel, rating_label
from klantreis.store import Store
from klantreis.store.engines.base import Engine
from klantreis.store.privacy import ErasureStep, PersonIds, Searched, register_erasure_step
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table

MODELS_TABLE = register_table(
    TableSpec(
        "voice_models",
        """CREATE TABLE IF NOT EXISTS voice_models (
    model_id VARCHAR PRIMARY KEY,
    trained_at TIMESTAMP,
    examples BIGINT,
    languages VARCHAR,
    label_counts VARCHAR,
    model BLOB
)""",
    )
)

_FED_BY = """
SELECT count(*) FROM events
WHERE event IN ('Review Submitted', 'Product Reviewed')
  AND (user_id IN :ids OR anonymous_id IN :ids)
  AND TRY_CAST(json_extract_string(properties, '$.rating') AS DOUBLE) IS NOT NULL
"""


def _fed_by(store: Searched, who: PersonIds) -> bool:
    """Whether the person's rated reviews can have been training examples."""
    return bool(store.engine.scalar(Query(_FED_BY, ids=sorted(who.ids))))


def _forget_models(store: Store) -> int:
    """Drop every stored model: its word and character n-grams may hold the person's words.
    Scoring falls back to the lexicons until the next `update_voice` trains without them."""
    with store.write_lock:
        dropped = store.engine.scalar(Query("SELECT count(*) FROM voice_models"))
        store.engine.execute(Query("DELETE FROM voice_models"))
    return int(dropped or 0)


register_erasure_step(ErasureStep("voice_models", _fed_by, _forget_models))

RATED_REVIEWS = Query(
    """
    SELECT text, rating, language_hint FROM (
        SELECT
            concat_ws('. ',
                nullif(trim(json_extract_string(properties, '$.title')), ''),
                nullif(trim(coalesce(json_extract_string(properties, '$.text'),
                                     json_extract_string(properties, '$.review_body'))), '')
            ) AS text,
            TRY_CAST(json_extract_string(properties, '$.rating') AS DOUBLE) AS rating,
            json_extract_string(properties, '$.language') AS language_hint
        FROM events
        WHERE event IN ('Review Submitted', 'Product Reviewed')
    ) AS reviews
    WHERE rating IS NOT NULL AND text IS NOT NULL AND length(trim(text)) > 0
    """
)


@dataclass(frozen=True)
class TrainingSummary:
    model_id: str
    examples: int
    languages: dict[str, int]
    label_counts: dict[str, int]


def count_rated_reviews(engine: Engine) -> int:
    """How many reviews could be training examples (cheap: counted in the engine)."""
    table = engine.fetch(
        Query("SELECT count(*) AS n FROM (" + RATED_REVIEWS.sql() + ") AS r")  # noqa: S608
    )
    return int(table.column("n")[0].as_py())


def rated_reviews(engine: Engine) -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, languages) of every review with both a rating and a text."""
    table = engine.fetch(RATED_REVIEWS)
    texts = [str(t) for t in table.column("text").to_pylist()]
    ratings = [float(r) for r in table.column("rating").to_pylist()]
    hints = table.column("language_hint").to_pylist()
    scale_max = 10.0 if ratings and max(ratings) > 5 else 5.0
    labels = [rating_label(r, scale_max) for r in ratings]
    languages = [
        language_hint(hint) or detect_language(text)[0]
        for text, hint in zip(texts, hints, strict=True)
    ]
    return texts, labels, languages


def train_shop_model(store: Store, engine: Engine | None = None) -> TrainingSummary:
    """Train on the store's rated reviews and keep the model; `NotEnoughData` if too few."""
    texts, labels, languages = rated_reviews(engine or store.engine)
    model = SentimentModel.train(texts, labels, languages)
    model_id = uuid.uuid4().hex
    with store.write_lock:
        store.connection.execute(MODELS_TABLE.ddl)
        store.connection.execute(
            "INSERT INTO voice_models VALUES (?, ?, ?, ?, ?, ?)",
            [
                model_id,
                model.trained_at,
                model.examples,
                orjson.dumps(model.languages).decode(),
                orjson.dumps(model.label_counts).decode(),
                model.to_bytes(),
            ],
        )
    return TrainingSummary(model_id, model.examples, model.languages, model.label_counts)


def load_shop_model(store: Store) -> SentimentModel | None:
    """The store's most recently trained model, or None (then the lexicons score)."""
    con = store.connection
    # fetchall, not fetchone: DuckDB 2 refuses new work on a cursor with unread rows.
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'voice_models'"
    ).fetchall()
    if not exists[0][0]:
        return None
    rows = con.execute("SELECT model FROM voice_models ORDER BY trained_at DESC LIMIT 1").fetchall()
    return SentimentModel.from_bytes(bytes(rows[0][0])) if rows else None


__all__ = [
    "NotEnoughData",
    "TrainingSummary",
    "load_shop_model",
    "rated_reviews",
    "train_shop_model",
]
