"""`update_voice` finds the unscored texts in few reads: each read scans every text event."""

from __future__ import annotations

from stories import story

from klantreis.measure.voice import stored


def test_texts_are_read_in_large_chunks_and_stored_in_small_batches(kr, monkeypatch) -> None:
    reviews = [
        ("Review Submitted", f"1{i}:00", {"properties": {"rating": 2, "text": f"Te laat, {i}"}})
        for i in range(5)
    ]
    kr.store.append(story({"anna": reviews}))
    monkeypatch.setattr(stored, "BATCH", 2)
    reads = []
    fetch = kr.engine.fetch

    def counting(query, /, **params):
        if getattr(query, "sql", None) and "LIMIT" in str(query.sql()):
            reads.append(query)
        return fetch(query, **params)

    monkeypatch.setattr(kr.engine, "fetch", counting)
    stored_batches = []
    result = stored.update_voice(kr.store, kr.engine, progress=stored_batches.append)
    assert result.scored == 5
    assert stored_batches == [2, 4, 5]  # stored 2 at a time
    assert len(reads) == 2  # one read of all five, one that finds none left
