"""CPU seconds of a command and every process it starts, Spark's JVMs included.

`python benchmarks/tree_cpu.py --out figures.json -- python -m pytest -n 2 -q`

Why not `/usr/bin/time` or `resource.getrusage(RUSAGE_CHILDREN)`: they count only children
that were waited for, and PySpark never waits for its JVM (it exits when the Python process
that started it closes the pipe), so a Spark test or command's JVM, most of its CPU, is
missing there. This samples /proc every quarter second instead, follows every process whose
parent is in the tree (a JVM stays counted after its parent exited), and sums each process's
own user + system time at its last sample. A process that lives less than a sample is missed;
the result also reports the rusage figure, which counts those. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, int, int, str]]:
    """pid -> (parent pid, CPU ticks, start time, command name) of every process now."""
    found: dict[int, tuple[int, int, int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            data = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = data[data.rfind(")") + 2 :].split()
        name = data[data.find("(") + 1 : data.rfind(")")]
        found[int(entry)] = (
            int(fields[1]),
            int(fields[11]) + int(fields[12]),
            int(fields[19]),
            name,
        )
    return found


def measure(command: list[str]) -> dict[str, object]:
    start = time.monotonic()
    child = subprocess.Popen(command)
    members = {child.pid}
    seen: dict[tuple[int, int], tuple[int, str]] = {}
    loads: list[float] = []
    while True:
        now = _processes()
        grown = True
        while grown:
            grown = False
            for pid, (parent, _, _, _) in now.items():
                if pid not in members and parent in members:
                    members.add(pid)
                    grown = True
        for pid in list(members):
            if pid in now:
                _, ticks, started, name = now[pid]
                seen[(pid, started)] = (max(ticks, seen.get((pid, started), (0, ""))[0]), name)
            elif pid != child.pid:
                members.discard(pid)
        loads.append(os.getloadavg()[0])
        if child.poll() is not None and not any(p in now for p in members - {child.pid}):
            break
        time.sleep(0.25)
    by_name: dict[str, float] = {}
    for ticks, name in seen.values():
        by_name[name] = by_name.get(name, 0.0) + ticks / TICK
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "command": command,
        "exit_code": child.returncode,
        "wall_s": round(time.monotonic() - start, 1),
        "cpu_s": round(sum(by_name.values()), 1),
        "cpu_waited_children_s": round(waited.ru_utime + waited.ru_stime, 1),
        "cpu_by_name_s": {k: round(v, 1) for k, v in sorted(by_name.items(), key=lambda i: -i[1])},
        "load_mean": round(sum(loads) / len(loads), 1),
        "load_max": round(max(loads), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="Also write the figures here as JSON.")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    figures = measure(command)
    text = json.dumps(figures, indent=1)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(text, file=sys.stderr)
    sys.exit(int(figures["exit_code"]))  # type: ignore[call-overload]


if __name__ == "__main__":
    main()
