"""`update_voice` finds the unscored texts in one read (each read scans every text event) and
scores each distinct text once; what it stores is what scoring every text alone gives."""

from __future__ import annotations

from stories import story

from klantreis.measure.voice import stored
from klantreis.measure.voice.scoring import VoiceScorer


def test_texts_are_read_once_and_each_distinct_text_scored_once(kr, monkeypatch) -> None:
    said = [f"Te laat, {i}" for i in range(5)] + ["Top!", "Top!", "Te laat, 1", "Slecht"]
    reviews = [
        ("Review Submitted", f"1{i}:00", {"properties": {"rating": 2, "text": text}})
        for i, text in enumerate(said)
    ]
    kr.store.append(story({"anna": reviews[:5], "bram": reviews[5:]}))
    monkeypatch.setattr(stored, "BATCH", 2)
    reads = []
    fetch = kr.engine.fetch

    def counting(query, /, **params):
        if "voice AS v" in str(getattr(query, "sql", lambda: "")()):
            reads.append(query)
        return fetch(query, **params)

    scored: list[str] = []
    score_many = VoiceScorer.score_many

    def recording(self, texts, languages=None):
        scored.extend(texts)
        return score_many(self, texts, languages)

    monkeypatch.setattr(kr.engine, "fetch", counting)
    monkeypatch.setattr(VoiceScorer, "score_many", recording)
    progress: list[int] = []
    result = stored.update_voice(kr.store, kr.engine, progress=progress.append)
    assert result.scored == len(said)
    assert len(reads) == 1
    assert sorted(scored) == sorted(set(said))  # 7 distinct texts, each scored once
    assert progress[-1] == len(said) and progress == sorted(progress) and len(progress) == 4
    monkeypatch.undo()

    rows = kr.store.connection.execute(
        "SELECT v.message_id, v.text, v.language, v.sentiment, v.label, v.topics, v.phase, "
        "v.method, "
        "list(t.topic ORDER BY t.topic), list(t.sentiment ORDER BY t.topic) "
        "FROM voice AS v LEFT JOIN voice_topics AS t USING (message_id) "
        "GROUP BY ALL ORDER BY v.text, v.message_id"
    ).fetchall()
    alone = VoiceScorer(None)
    assert len(rows) == len(said)
    for _, text, language, sentiment, label, topics, phase, method, names, values in rows:
        expected = alone.score(text)
        assert (language, sentiment, label, method) == (
            expected.language,
            expected.sentiment,
            expected.label,
            expected.method,
        )
        assert topics == ",".join(expected.topics)
        assert phase == (expected.phases[0] if expected.phases else None)
        found = sorted((t, s) for t, s, _ in expected.topic_sentiment)
        assert [(n, v) for n, v in zip(names, values, strict=True) if n is not None] == found
