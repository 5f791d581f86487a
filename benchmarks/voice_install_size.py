"""Install size of klantreis' dependencies, and what given extra packages would add.

Sums the installed files of every distribution reachable from `pyproject.toml`'s
dependencies (optional extras left out), as installed in this environment.

    python benchmarks/voice_install_size.py asent textblob-nl   # now vs. with those two
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _requires(name: str) -> list[str]:
    try:
        requirements = md.requires(name) or []
    except md.PackageNotFoundError:
        return []
    return [_name(r) for r in requirements if "extra ==" not in r]


def closure(roots: list[str]) -> set[str]:
    """Installed distributions reachable from `roots` through their requirements."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        try:
            md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen.add(name)
        stack += _requires(name)
    return seen


def size(name: str) -> int:
    dist = md.distribution(name)
    total = 0
    for file in dist.files or []:
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extra", nargs="*", help="packages to compare with (e.g. asent)")
    args = parser.parse_args()
    deps = [_name(d) for d in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]]
    now = closure(deps)
    with_extra = closure(deps + [_name(e) for e in args.extra])
    now_mb = sum(size(n) for n in now) / 1e6
    print(f"dependencies now: {len(now)} distributions, {now_mb:.1f} MB installed")
    if args.extra:
        added = sorted(with_extra - now)
        extra_mb = sum(size(n) for n in added) / 1e6
        print(
            f"with {', '.join(args.extra)}: {len(with_extra)} distributions, "
            f"{now_mb + extra_mb:.1f} MB (+{extra_mb:.1f} MB: {', '.join(added)})"
        )
    voice = Path(__file__).resolve().parents[1] / "src" / "klantreis" / "measure" / "voice"
    shipped = sum(
        p.stat().st_size for p in voice.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    print(f"klantreis.measure.voice as shipped: {shipped / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
