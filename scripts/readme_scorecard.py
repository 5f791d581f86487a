"""The README's expectation scorecard, computed from the demo shop (`klantreis demo`'s default).

    python3 scripts/readme_scorecard.py          # print the table
    python3 scripts/readme_scorecard.py --write  # replace it in README.md

tests/expectations/test_readme_scorecard.py runs the same simulation and checks that the README
holds exactly this table, so the figures there are always the ones the demo prints.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- scorecard:start -->", "<!-- scorecard:end -->"
HEADER = (
    "| expectation | cases | breach rate [95 %] | review met → breached | status |\n"
    "|---|---:|---|---|---|"
)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def rows(card: Any) -> list[str]:
    """One Markdown row per expectation with data, as `klantreis expectations` shows it."""
    lines = []
    for e in card.expectations:
        if e.status == "no data":
            continue
        low, high = _pct(e.interval.get("low")), _pct(e.interval.get("high"))
        rate = f"{_pct(e.breach_rate)} [{low}–{high}]"
        if e.percentile:
            p = e.percentile
            rate += f"; p{p['percentile']:g} {p['value']:g} {p['unit']}"
        met, bad = e.effects.get("met") or {}, e.effects.get("breached") or {}
        reviews = (
            "–"
            if met.get("review_score") is None or bad.get("review_score") is None
            else f"{met['review_score']:.2f} → {bad['review_score']:.2f}"
        )
        lines.append(f"| `{e.id}` | {e.cases:,} | {rate} | {reviews} | {e.status} |")
    return lines


def demo_table() -> str:
    """Simulate the default demo shop into a fresh store and return its scorecard table."""
    import klantreis
    from klantreis.collect.simulator import SimulatorConfig, simulate

    shop = simulate(SimulatorConfig())
    with (
        tempfile.TemporaryDirectory() as folder,
        klantreis.open(Path(folder) / "demo.duckdb") as kr,
    ):
        for batch in shop.iter_batches(20_000):
            kr.store.append(batch)
        card = kr.expectations()
        return "\n".join([HEADER, *rows(card)])


def readme_table(text: str | None = None) -> str:
    text = README.read_text() if text is None else text
    match = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    if match is None:
        raise SystemExit(f"README.md: markers {START} … {END} not found")
    return match.group(1)


def main(argv: list[str]) -> int:
    table = demo_table()
    if "--write" not in argv:
        print(table)
        return 0
    text = README.read_text()
    readme_table(text)
    new = re.sub(
        re.escape(START) + r"\n.*?\n" + re.escape(END),
        lambda _: f"{START}\n{table}\n{END}",
        text,
        flags=re.S,
    )
    README.write_text(new)
    print(f"README.md scorecard: {len(table.splitlines()) - 2} expectations written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
