"""The shop as a stream of chunks, in one process or several: the events `simulate` gives for
the same seed, in the order one process makes them, with the same truth and catalogue."""

from __future__ import annotations

import pyarrow as pa
import pytest

from klantreis.collect.simulator import ShopStream, SimulatorConfig, parallel, shop, simulate

# many households and shared computers: the first person of a range takes them over from a
# person simulated by another process
SHARING = SimulatorConfig(persons=120, seed=5, family_email_share=0.5, shared_device_share=0.5)


def test_the_stream_holds_the_events_simulate_sorts() -> None:
    config = SimulatorConfig(persons=80, seed=3)
    stream = ShopStream(config)
    events = pa.concat_tables(list(stream))
    whole = simulate(config)
    assert events.num_rows == whole.events.num_rows
    by_time = events.sort_by([("timestamp", "ascending"), ("message_id", "ascending")])
    assert by_time.equals(whole.events)
    assert stream.truth is not None and stream.truth.equals(whole.truth)
    assert stream.products is not None and stream.products.equals(whole.products)


@pytest.mark.slow
def test_processes_make_the_events_of_one_process_in_its_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shop, "CHUNK", 9)
    one = ShopStream(SHARING)
    serial = pa.concat_tables(list(one))
    monkeypatch.setattr(parallel, "CHUNK", 7)  # ranges of 7 persons and 60 visitors
    monkeypatch.setattr(parallel, "VISITOR_RANGE", 60)
    seen: list[tuple[int, int]] = []
    two = ShopStream(SHARING, progress=lambda done, total: seen.append((done, total)), workers=2)
    chunks = list(two)
    assert len(chunks) > 20
    assert pa.concat_tables(chunks).equals(serial)
    assert two.truth is not None and one.truth is not None and two.truth.equals(one.truth)
    assert two.products is not None and two.products.equals(one.products)
    total = SHARING.persons * (1 + SHARING.visitors_per_person)
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)
