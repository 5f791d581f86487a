"""Demo shop simulator: time and events per size, and the per-event baseline it avoids.

Prints the machine, then for each size the median of three runs and events per second, to show
that the time grows linearly with persons. The baseline, measured in the same run, is the
general way into the store: validating the same messages one by one with
`collect.events.canonical_event` (Pydantic), which the simulator skips because it writes
canonical rows directly.

    python benchmarks/simulator.py            # 1,000 / 2,000 / 4,000 / 8,000 persons
    python benchmarks/simulator.py --quick    # 500 / 1,000 persons
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime

import orjson

from klantreis.collect.events import canonical_event
from klantreis.collect.simulator import SimulatorConfig, simulate


def machine() -> str:
    return (
        f"{platform.platform()} | Python {sys.version.split()[0]} | "
        f"{os.cpu_count()} CPUs | {platform.processor() or platform.machine()}"
    )


def timed(persons: int, runs: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds (CPU time too, since the machine may be shared)."""
    wall, cpu, rows = [], [], 0
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        shop = simulate(SimulatorConfig(persons=persons, seed=7))
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        rows = shop.events.num_rows
    return statistics.median(wall), statistics.median(cpu), rows


def pydantic_baseline(sample: int) -> float:
    """Seconds per event through `canonical_event` for `sample` simulated events."""
    events = simulate(SimulatorConfig(persons=200, seed=7)).events.slice(0, sample).to_pylist()
    messages = []
    for row in events:
        message = {
            "type": row["type"],
            "messageId": row["message_id"],
            "userId": row["user_id"],
            "anonymousId": row["anonymous_id"],
            "previousId": row["previous_id"],
            "groupId": row["group_id"],
            "event": row["event"],
            "timestamp": row["timestamp"].isoformat(),
        }
        for column in ("properties", "traits", "context"):
            if row[column] is not None:
                message[column] = orjson.loads(row[column])
        messages.append({k: v for k, v in message.items() if v is not None})
    now = datetime(2027, 1, 1)
    started = time.perf_counter()
    for message in messages:
        canonical_event(message, received_at=now, source="demo")
    return (time.perf_counter() - started) / len(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (500, 1000) if args.quick else (1000, 2000, 4000, 8000)
    print(f"machine: {machine()}")
    print("inputs: SimulatorConfig(seed=7, start=2026-01-01, days=180), 3 runs per size")
    per_event = pydantic_baseline(5000)
    print(f"baseline: canonical_event (Pydantic) {per_event * 1e6:.1f} µs/event")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(
        f"{'persons':>8} {'events':>9} {'wall s':>7} {'cpu s':>6} {'events/cpu s':>13}"
        f" {'µs/event':>9} {'baseline s':>11}"
    )
    for persons in sizes:
        wall, cpu, rows = timed(persons, 3)
        print(
            f"{persons:>8} {rows:>9} {wall:>7.2f} {cpu:>6.2f} {rows / cpu:>13.0f}"
            f" {cpu / rows * 1e6:>9.1f} {per_event * rows:>11.2f}"
        )


if __name__ == "__main__":
    main()
