"""Score every text event in the store into the `voice` and `voice_topics` tables.

Incremental: only messages not scored yet are read, in batches, so re-running after an import
costs only the new texts. The texts are copied as given (untrusted; escaped where rendered).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from klantreis.measure.voice.language import language_hint
from klantreis.measure.voice.scoring import TextScore, VoiceScorer
from klantreis.measure.voice.sentiment import readings_kept
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
"""Texts scored between two progress reports."""
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

_WORDED = "text IS NOT NULL AND length(trim(text)) > 0"
NEW_TEXTS = (
    f"SELECT *, {_WORDED} AS worded FROM ("  # noqa: S608 - fixed text of this module
    + _TEXTS.format(unscored=_NOT_SCORED).replace(f"WHERE {_WORDED}", "")
    + ") ORDER BY message_id\n"
)
"""Every text event not scored yet, in one read, each marked whether it has words (those
without are counted, never scored): finding them reads every text event's properties, so
reading them a batch at a time would repeat that pass once per batch. The texts are small
(about 70 MB for the 390,000 of the 100,000-person demo)."""


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
    one, it reads every text (one pass over the text events' properties). Either way the count
    is kept in `meta` with what it rests on and read back while that is unchanged."""
    if not engine.capabilities.writable or store.read_only:
        return _count_unscored(store, engine)
    scored = engine.scalar("SELECT count(*) FROM voice") if engine.has_table("voice") else None
    basis = f"{store.events_fingerprint()}|{scored}|{store.get_meta(WORDLESS_META)}"
    counted = store.get_meta(UNSCORED_META)
    if counted is not None and counted.rpartition("|")[0] == basis:
        return int(counted.rpartition("|")[2])
    waiting = _count_unscored(store, engine)
    store.set_meta(UNSCORED_META, f"{basis}|{waiting}")
    return waiting


UNSCORED_META = "voice_unscored_texts"
"""The last count of `unscored_texts` with what it rests on (the events, the scored texts, the
wordless ones): counting reads the text events (seconds at shop scale), and a map or a page
asks for it while none of these changed."""


def _count_unscored(store: Store, engine: Engine) -> int:
    wordless = store.get_meta(WORDLESS_META) if engine.has_table("voice") else None
    if wordless is None:
        texts = _TEXTS.format(unscored=_NOT_SCORED if engine.has_table("voice") else "")
        sql = f"SELECT count(*) FROM ({texts})"  # noqa: S608 - fixed text of this module
        return int(engine.scalar(Query(sql, events=list(TEXT_EVENTS))) or 0)
    waiting = int(engine.scalar(Query(_WAITING, events=list(TEXT_EVENTS))) or 0)
    return max(0, waiting - int(wordless))


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
    """Score the texts stored since the last run; retrain the shop model first if asked.

    Each distinct text (with its language hint) is scored once, however often it was written:
    scoring is a function of the text alone, and customers repeat themselves ("Top!", "Dank
    je", a survey's stock answers), the simulated shop's phrase banks much more so. The scores
    are stored in one transaction: a run cut short stores nothing and the next scores it all.
    """
    engine = engine or store.engine
    ensure_voice_tables(store)
    with readings_kept():  # a rated review is read for training, then scored
        return _update(store, engine, retrain, progress)


def _update(
    store: Store, engine: Engine, retrain: bool, progress: Callable[[int], None] | None
) -> VoiceUpdate:
    model, note = _current_model(store, engine, retrain)
    scorer = VoiceScorer(model)  # type: ignore[arg-type]
    result = VoiceUpdate(model="model" if model is not None else "lexicon", note=note)
    if not engine.capabilities.writable:  # a distributed engine scores where the texts are
        from klantreis.measure.voice.distributed import score_on_engine

        unscored = _NOT_SCORED if engine.has_table("voice") else ""
        result.scored = score_on_engine(engine, scorer, _TEXTS.format(unscored=unscored))
        return result
    read = engine.fetch(Query(NEW_TEXTS, events=list(TEXT_EVENTS)))
    worded = read.column("worded")
    pending = read.filter(worded).drop_columns(["worded"])
    if pending.num_rows:
        scores = _score_distinct(pending, scorer, progress)
        _store(store, pending, scores)
        result.scored = pending.num_rows
    # remembered so that `unscored_texts` need not read any text
    store.set_meta(WORDLESS_META, str(read.num_rows - pending.num_rows))
    return result


class _Scores:
    """The scores of the distinct texts of a read, and which of them each text has."""

    def __init__(self, of_text: np.ndarray, scores: list[TextScore]) -> None:
        self.of_text = of_text
        self.scores = scores


def _score_distinct(
    pending: pa.Table, scorer: VoiceScorer, progress: Callable[[int], None] | None
) -> _Scores:
    texts = pending.column("text").to_pylist()
    hints = [language_hint(h) for h in pending.column("language_hint").to_pylist()]
    first: dict[tuple[str, str | None], int] = {}
    of_text = np.fromiter(
        (first.setdefault(key, len(first)) for key in zip(texts, hints, strict=True)),
        dtype=np.int64,
        count=len(texts),
    )
    distinct = list(first)
    scores: list[TextScore] = []
    for offset in range(0, len(distinct), BATCH):
        part = distinct[offset : offset + BATCH]
        scores.extend(scorer.score_many([t for t, _ in part], [h for _, h in part]))
        if progress is not None:  # texts done: those whose distinct text is scored
            progress(int((of_text < len(scores)).sum()))
    return _Scores(of_text, scores)


TOPIC_SCHEMA = pa.schema(
    [(c, pa.string()) for c in ("message_id", "topic", "phase", "user_id", "anonymous_id")]
    + [("sentiment", pa.float64()), ("label", pa.string())]
)


def _rows(pending: pa.Table, scored: _Scores) -> tuple[pa.Table, pa.Table]:
    """The rows of `voice` and `voice_topics` for every text, built column by column from the
    distinct texts' scores (`take` by each text's distinct number)."""
    scores, of_text = scored.scores, pa.array(scored.of_text)

    def column(values: list[object], type_: pa.DataType) -> pa.Array:
        return pa.array(values, type=type_).take(of_text)

    voice_table = pa.table(
        {
            **{
                name: pending.column(name)
                for name in (
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
            },
            "language": column([s.language for s in scores], pa.string()),
            "sentiment": column([s.sentiment for s in scores], pa.float64()),
            "label": column([s.label for s in scores], pa.string()),
            "topics": column([",".join(s.topics) for s in scores], pa.string()),
            # the phase the text is mainly about (its first topic's); per-topic phases are in
            # voice_topics, the phase it was written in comes from journey_events
            "phase": column([s.phases[0] if s.phases else None for s in scores], pa.string()),
            "method": column([s.method for s in scores], pa.string()),
            "text": pending.column("text"),
        }
    )
    # voice_topics: one row per text and topic, in the order of the texts
    per_score = np.array([len(s.topic_sentiment) for s in scores], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(per_score)[:-1])).astype(np.int64)
    counts = per_score[scored.of_text]
    text_of_row = np.repeat(np.arange(len(scored.of_text)), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    flat = pa.array(np.repeat(starts[scored.of_text], counts) + within)
    found = [item for s in scores for item in s.topic_sentiment]
    rows = pa.array(text_of_row)
    topic_table = pa.Table.from_arrays(
        [
            pending.column("message_id").take(rows),
            pa.array([t for t, _, _ in found], pa.string()).take(flat),
            pa.array([PHASE_OF_TOPIC[t] for t, _, _ in found], pa.string()).take(flat),
            pending.column("user_id").take(rows),
            pending.column("anonymous_id").take(rows),
            pa.array([v for _, v, _ in found], pa.float64()).take(flat),
            pa.array([lab for _, _, lab in found], pa.string()).take(flat),
        ],
        schema=TOPIC_SCHEMA,
    )
    return voice_table, topic_table


def score_rows(batch: pa.Table, scorer: VoiceScorer) -> tuple[pa.Table, pa.Table]:
    """The `voice` and `voice_topics` rows of a batch of texts (`NEW_TEXTS`' columns): the
    one scoring step, on DuckDB's store and on a Spark worker alike."""
    return _rows(batch, _score_distinct(batch, scorer, None))


def _store(store: Store, pending: pa.Table, scored: _Scores) -> None:
    voice_table, topic_table = _rows(pending, scored)
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
