"""Score every text event in the store into the `voice` and `voice_topics` tables.

Incremental: only messages not scored yet are read, in batches, so re-running after an import
costs only the new texts. The texts are copied as given (untrusted; escaped where rendered).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from klantreis.measure.voice.language import language_hint
from klantreis.measure.voice.scoring import VoiceScorer
from klantreis.measure.voice.topics import PHASE_OF_TOPIC
from klantreis.measure.voice.training import (
    NotEnoughData,
    count_rated_reviews,
    load_shop_model,
    train_shop_model,
)
from klantreis.store import Store
from klantreis.store.engines.base import Engine
from klantreis.store.query import Query
from klantreis.store.schema import TableSpec, register_table

VOICE_TABLE = register_table(
    TableSpec(
        "voice",
        """CREATE TABLE IF NOT EXISTS voice (
    message_id VARCHAR PRIMARY KEY,
    event VARCHAR,
    timestamp TIMESTAMP,
    user_id VARCHAR,
    anonymous_id VARCHAR,
    order_id VARCHAR,
    rating DOUBLE,
    survey_kind VARCHAR,
    survey_score DOUBLE,
    language VARCHAR,
    sentiment DOUBLE,
    label VARCHAR,
    topics VARCHAR,
    phase VARCHAR,
    method VARCHAR,
    text VARCHAR
)""",
        person_columns=("user_id", "anonymous_id"),
    )
)
TOPICS_TABLE = register_table(
    TableSpec(
        "voice_topics",
        """CREATE TABLE IF NOT EXISTS voice_topics (
    message_id VARCHAR,
    topic VARCHAR,
    phase VARCHAR,
    user_id VARCHAR,
    anonymous_id VARCHAR,
    sentiment DOUBLE,
    label VARCHAR
)""",
        person_columns=("user_id", "anonymous_id"),
    )
)

TEXT_EVENTS = (
    "Review Submitted",
    "Product Reviewed",
    "Survey Answered",
    "Ticket Created",
    "Ticket Replied",
    "Live Chat Message Sent",
    "Social Mention",
)
"""Events that carry the customer's own words (agent replies and agent chat lines excluded).
Beyond these, any other event with a `text` property is voice too (`_CARRIES_TEXT`): a phone
note, a store visit's note, a marketplace message, a shop's own custom event."""

_CARRIES_TEXT = """(e.event IN :events OR (e.properties LIKE '%"text"%'
    AND e.event NOT IN ('Live Chat Message Received', 'Ticket Replied')))"""
"""Which events are read as voice: the listed ones, and any other whose properties name a
`text` (a plain string search first, so only those rows are parsed as JSON)."""

BATCH = 2000
"""Texts scored and stored per transaction."""
READ = 50_000
"""Texts read per query: finding the unscored ones reads every text event's properties, so
reading them 2,000 at a time would repeat that pass 25 times as often."""

_TEXTS_SQL = """
SELECT * FROM (
    SELECT
        e.message_id, e.event, e.timestamp, e.user_id, e.anonymous_id,
        json_extract_string(e.properties, '$.order_id') AS order_id,
        TRY_CAST(json_extract_string(e.properties, '$.rating') AS DOUBLE) AS rating,
        json_extract_string(e.properties, '$.kind') AS survey_kind,
        TRY_CAST(json_extract_string(e.properties, '$.score') AS DOUBLE) AS survey_score,
        json_extract_string(e.properties, '$.language') AS language_hint,
        CASE
            WHEN e.event IN ('Review Submitted', 'Product Reviewed') THEN concat_ws('. ',
                nullif(trim(json_extract_string(e.properties, '$.title')), ''),
                nullif(trim(coalesce(json_extract_string(e.properties, '$.text'),
                                     json_extract_string(e.properties, '$.review_body'))), ''))
            WHEN e.event = 'Ticket Created' THEN concat_ws('. ',
                nullif(trim(json_extract_string(e.properties, '$.subject')), ''),
                nullif(trim(json_extract_string(e.properties, '$.text')), ''))
            WHEN e.event = 'Survey Answered' THEN json_extract_string(e.properties, '$.comment')
            WHEN e.event = 'Live Chat Message Sent'
                THEN json_extract_string(e.properties, '$.message_body')
            ELSE json_extract_string(e.properties, '$.text')
        END AS text
    FROM events AS e
    WHERE {carries_text}
      AND NOT (e.event = 'Ticket Replied'
               AND coalesce(json_extract_string(e.properties, '$.author'), 'customer')
                   <> 'customer')
      {unscored}
) AS t
WHERE text IS NOT NULL AND length(trim(text)) > 0
"""
_TEXTS = _TEXTS_SQL.replace("{carries_text}", _CARRIES_TEXT)
_NOT_SCORED = "AND NOT EXISTS (SELECT 1 FROM voice AS v WHERE v.message_id = e.message_id)"

NEW_TEXTS = _TEXTS.format(unscored=_NOT_SCORED) + "ORDER BY message_id\nLIMIT :batch\n"
"""The next batch of texts not scored yet."""


_WAITING = """
SELECT count(*) FROM events AS e
WHERE {carries_text}
  AND CASE WHEN e.event = 'Ticket Replied'
           THEN coalesce(json_extract_string(e.properties, '$.author'), 'customer') = 'customer'
           ELSE true END
  AND NOT EXISTS (SELECT 1 FROM voice AS v WHERE v.message_id = e.message_id)
"""
_WAITING = _WAITING.replace("{carries_text}", _CARRIES_TEXT)
"""Customer text events without a score: new texts, and texts without words (never scored)."""

WORDLESS_META = "voice_wordless_texts"
"""Text events without words, counted by the last `update_voice` (they are never scored)."""


def unscored_texts(store: Store, engine: Engine) -> int:
    """How many customer texts are stored but not scored yet (all of them before the first
    `update_voice`): what a reader of emotion and topics must be told is missing from them.

    It scores nothing, so any analysis may ask. After a first `update_voice` it reads no
    text: the text events without a score, less those the last update found without words
    (a wordless text that arrived since counts until the next update sees it has none). Before
    one, it reads every text (one pass over the text events' properties)."""
    wordless = store.get_meta(WORDLESS_META) if engine.has_table("voice") else None
    if wordless is None:
        texts = _TEXTS.format(unscored=_NOT_SCORED if engine.has_table("voice") else "")
        sql = f"SELECT count(*) FROM ({texts})"  # noqa: S608 - fixed text of this module
        return int(engine.scalar(Query(sql, events=list(TEXT_EVENTS))) or 0)
    waiting = int(engine.scalar(Query(_WAITING, events=list(TEXT_EVENTS))) or 0)
    return max(0, waiting - int(wordless))


def _count_wordless(store: Store, engine: Engine) -> None:
    """Remember how many text events have no words, so `unscored_texts` needs no text."""
    texts = _TEXTS.format(unscored=_NOT_SCORED).replace(
        "WHERE text IS NOT NULL AND length(trim(text)) > 0", ""
    )
    sql = (
        "SELECT count(*) FILTER (WHERE text IS NULL OR length(trim(text)) = 0) "  # noqa: S608
        f"FROM ({texts})"
    )
    wordless = int(engine.scalar(Query(sql, events=list(TEXT_EVENTS))) or 0)
    store.set_meta(WORDLESS_META, str(wordless))


@dataclass
class VoiceUpdate:
    scored: int = 0
    model: str = "lexicon"
    """`model` when the shop's own model scored texts in its languages."""
    note: str = ""


RETRAIN_GROWTH = 0.1
"""Retrain when the number of rated reviews changed by this share since the last model."""


def _current_model(store: Store, engine: Engine, retrain: bool) -> tuple[object | None, str]:
    model = load_shop_model(store)
    if not retrain:
        return model, "existing shop model" if model is not None else "lexicons only"
    rated = count_rated_reviews(engine)
    if model is not None and abs(rated - model.examples) <= RETRAIN_GROWTH * model.examples:
        return model, f"shop model of {model.examples} rated reviews"
    try:
        summary = train_shop_model(store, engine)
    except NotEnoughData as exc:
        return model, f"lexicons only: {exc}" if model is None else "existing shop model"
    return load_shop_model(store), f"trained on {summary.examples} rated reviews"


def ensure_voice_tables(store: Store, engine: Engine | None = None) -> None:
    """Create the (empty) voice tables, and add the columns older stores lack, so analyses
    can read them before the first texts are scored (on `engine` too when it keeps its own
    tables)."""
    if engine is not None and not engine.capabilities.writable:
        from klantreis.measure.voice.distributed import ensure_empty_tables

        ensure_empty_tables(engine)
    with store.write_lock:
        store.connection.execute(VOICE_TABLE.ddl)
        # stores scored before `phase` was a column get it added (empty for old rows)
        store.connection.execute("ALTER TABLE voice ADD COLUMN IF NOT EXISTS phase VARCHAR")
        store.connection.execute(TOPICS_TABLE.ddl)
        # stores scored before topics had their own sentiment get the columns (empty for old
        # rows; the analyses fall back to the text's sentiment there)
        store.connection.execute(
            "ALTER TABLE voice_topics ADD COLUMN IF NOT EXISTS sentiment DOUBLE"
        )
        store.connection.execute("ALTER TABLE voice_topics ADD COLUMN IF NOT EXISTS label VARCHAR")


def update_voice(
    store: Store,
    engine: Engine | None = None,
    *,
    retrain: bool = True,
    progress: Callable[[int], None] | None = None,
) -> VoiceUpdate:
    """Score the texts stored since the last run; retrain the shop model first if asked."""
    engine = engine or store.engine
    ensure_voice_tables(store)
    model, note = _current_model(store, engine, retrain)
    scorer = VoiceScorer(model)  # type: ignore[arg-type]
    result = VoiceUpdate(model="model" if model is not None else "lexicon", note=note)
    if not engine.capabilities.writable:  # a distributed engine scores where the texts are
        from klantreis.measure.voice.distributed import score_on_engine

        unscored = _NOT_SCORED if engine.has_table("voice") else ""
        result.scored = score_on_engine(engine, scorer, _TEXTS.format(unscored=unscored))
        return result
    while True:
        pending = engine.fetch(Query(NEW_TEXTS, events=list(TEXT_EVENTS), batch=READ))
        if pending.num_rows == 0:
            break
        for offset in range(0, pending.num_rows, BATCH):
            batch = pending.slice(offset, BATCH)
            _store_batch(store, batch, scorer)
            result.scored += batch.num_rows
            if progress is not None:
                progress(result.scored)
    if engine.capabilities.writable:
        _count_wordless(store, engine)
    return result


_TEXT_COLUMNS = (
    "message_id",
    "event",
    "timestamp",
    "user_id",
    "anonymous_id",
    "order_id",
    "rating",
    "survey_kind",
    "survey_score",
)
TOPIC_SCHEMA = pa.schema(
    [(c, pa.string()) for c in ("message_id", "topic", "phase", "user_id", "anonymous_id")]
    + [("sentiment", pa.float64()), ("label", pa.string())]
)


def score_rows(batch: pa.Table, scorer: VoiceScorer) -> tuple[pa.Table, pa.Table]:
    """The `voice` and `voice_topics` rows of a batch of texts (`NEW_TEXTS`' columns): the
    one scoring step, on DuckDB's store and on a Spark worker alike."""
    rows = batch.to_pylist()
    scores = scorer.score_many(
        [r["text"] for r in rows], [language_hint(r["language_hint"]) for r in rows]
    )
    voice_rows = []
    topic_rows = []
    for row, s in zip(rows, scores, strict=True):
        voice_rows.append(
            {
                **{k: row[k] for k in _TEXT_COLUMNS},
                "language": s.language,
                "sentiment": s.sentiment,
                "label": s.label,
                "topics": ",".join(s.topics),
                # the phase the text is mainly about (its first topic's); per-topic phases
                # are in voice_topics, the phase it was written in comes from journey_events
                "phase": s.phases[0] if s.phases else None,
                "method": s.method,
                "text": row["text"],
            }
        )
        for topic, sentiment, label in s.topic_sentiment:
            topic_rows.append(
                {
                    "message_id": row["message_id"],
                    "topic": topic,
                    "phase": PHASE_OF_TOPIC[topic],
                    "user_id": row["user_id"],
                    "anonymous_id": row["anonymous_id"],
                    "sentiment": sentiment,
                    "label": label,
                }
            )
    return pa.Table.from_pylist(voice_rows), pa.Table.from_pylist(topic_rows, schema=TOPIC_SCHEMA)


def _store_batch(store: Store, batch: pa.Table, scorer: VoiceScorer) -> None:
    voice_table, topic_table = score_rows(batch, scorer)
    with store.write_lock:
        con = store.connection
        con.register("_voice_batch", voice_table)
        con.register("_voice_topics_batch", topic_table)
        try:
            con.execute("BEGIN")
            con.execute("INSERT OR IGNORE INTO voice BY NAME SELECT * FROM _voice_batch")
            con.execute("INSERT INTO voice_topics BY NAME SELECT * FROM _voice_topics_batch")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("_voice_batch")
            con.unregister("_voice_topics_batch")
