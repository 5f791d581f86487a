"""The state beside a lake's derived tables (`_model.json`) keeps what every process wrote.

A scheduled build and a dashboard process each hold a Spark engine over the same
`tables_path`; each writes its keys (the model's fingerprint, a stored map's, the judged cases')
as they finish. Before, each wrote the whole state it had read at start, so the later writer
removed the keys the other had written meanwhile, and the next process rebuilt what was stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from klantreis.store.engines.spark.lake import Shelf

WRITER = """
import sys
from pathlib import Path
from klantreis.store.engines.spark.lake import Shelf

shelf = Shelf(Path(sys.argv[1]))
for i in range(40):
    shelf.update_state({f"{sys.argv[2]}-{i}": str(i)})
"""


def test_two_processes_writing_the_state_lose_no_key(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    shelf.update_state({"model_fingerprint": "abc"})
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name])
        for name in ("build", "dashboard")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    state = shelf.get_state()
    assert state["model_fingerprint"] == "abc"
    assert {k for k in state if k != "model_fingerprint"} == {
        f"{name}-{i}" for name in ("build", "dashboard") for i in range(40)
    }


def test_a_writer_keeps_keys_written_after_it_read_the_state(tmp_path: Path) -> None:
    early, late = Shelf(tmp_path), Shelf(tmp_path)
    early.get_state()  # what an engine reads when it opens
    late.update_state({"journey_map:six": "f1"})
    assert early.update_state({"model_fingerprint": "f2"}) == {
        "journey_map:six": "f1",
        "model_fingerprint": "f2",
    }
