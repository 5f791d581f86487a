"""The steps of a long command, each with its wall and CPU time.

A user waiting minutes for `klantreis demo` at shop scale deserves to see which step runs and,
at the end, what each one took; the same figures tell where to cut next (docs/scaling.md).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.progress import Progress, TaskID
from rich.table import Table


def cpu_seconds() -> float:
    """User + system CPU of this process (its engine threads included) and of the children
    it has waited for (the simulator's worker processes, counted once they have ended)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class StepTime:
    label: str
    wall: float
    cpu: float
    detail: bool = False
    """A part of the step before it (shown indented, not added to the total)."""


class StepClock:
    """Progress tasks that remember their wall and CPU seconds."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.times: list[StepTime] = []

    @contextmanager
    def step(self, label: str, total: float | None = 1) -> Iterator[TaskID]:
        """A progress task for the step; completed and timed when the block ends."""
        task = self.progress.add_task(label, total=total)
        wall, cpu = time.perf_counter(), cpu_seconds()
        yield task
        done = self.progress.tasks[task].completed if total is None else total
        self.progress.update(task, total=done or 1, completed=done or 1)
        self.record(label, time.perf_counter() - wall, cpu_seconds() - cpu)

    def record(self, label: str, wall: float, cpu: float, detail: bool = False) -> None:
        self.times.append(StepTime(label, wall, cpu, detail))
        console = self.progress.console
        if not console.is_terminal:  # a log shows no progress bars until the command ends
            console.print(
                f"{label}: {wall:.1f} s ({cpu:.1f} s of CPU)", highlight=False, markup=False
            )

    def table(self) -> Table:
        table = Table(title="Time per step", title_justify="left")
        table.add_column("step")
        table.add_column("wall s", justify="right")
        table.add_column("CPU s", justify="right")
        for step in self.times:
            label = f"  {step.label}" if step.detail else step.label
            table.add_row(label, f"{step.wall:.1f}", f"{step.cpu:.1f}")
        steps = [s for s in self.times if not s.detail]
        table.add_row(
            "total",
            f"{sum(s.wall for s in steps):.1f}",
            f"{sum(s.cpu for s in steps):.1f}",
            style="bold",
        )
        return table
