"""The demo's time per step: what each step took, parts shown under their step, one total."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import Progress

from klantreis.present.cli.steps import StepClock, cpu_seconds


def test_steps_are_timed_and_parts_are_not_counted_twice() -> None:
    console = Console(width=100, record=True, force_terminal=False)
    with Progress(console=console, transient=True) as progress:
        clock = StepClock(progress)
        with clock.step("working"):
            deadline = time.process_time() + 0.05
            while time.process_time() < deadline:  # spends CPU, so the step has some
                pass
        clock.record("both at once", 2.0, 3.0)
        clock.record("one part", 1.5, 1.0, detail=True)
    working, both, part = clock.times
    assert working.label == "working" and working.cpu >= 0.04 and working.wall >= working.cpu / 2
    assert (both.wall, both.cpu, part.detail) == (2.0, 3.0, True)
    console.print(clock.table())
    text = console.export_text()
    total = next(line for line in text.splitlines() if "total" in line)
    cells = [cell.strip() for cell in total.strip("│ ").split("│")]
    assert float(cells[2]) == round(working.cpu + 3.0, 1)  # the part is not added again
    assert "  one part" in text


def test_cpu_seconds_grow_with_work() -> None:
    before = cpu_seconds()
    sum(i * i for i in range(300_000))
    assert cpu_seconds() > before
