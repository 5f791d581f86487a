from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

JVM_OPTIONS = (
    "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m -Xlog:disable -Xlog:all=warning:stderr"
)
"""For every JVM the suite starts (the in-process Spark sessions, `klantreis` commands on
Spark): the C1 compiler only. The suite's Spark jobs are many and tiny, so much of a JVM's CPU
went to C2 compiling code that never ran long enough to pay it back; C1 only takes a third to
a half off (JVM CPU of tests/model/test_spark_build.py 84 -> 46 s, of tests/measure's Spark
tests 134 -> 85 s; benchmarks/HISTORY.md). The answers are the same: this changes when code is
compiled, not what it computes. Set through the variable every JVM reads, inherited by the
workers and their subprocesses. C1 alone reserves a 48 MB code cache (240 MB with C2); Spark's
generated code filled it, the JVM stopped compiling and printed its warning on stdout (JVM
logging's default), into a `klantreis ... --json` answer: so the cache is kept at 240 MB and the
JVM's warnings go to stderr."""
if JVM_OPTIONS not in os.environ.get("JAVA_TOOL_OPTIONS", ""):
    os.environ["JAVA_TOOL_OPTIONS"] = f"{os.environ.get('JAVA_TOOL_OPTIONS', '')} {JVM_OPTIONS}"
    os.environ["JAVA_TOOL_OPTIONS"] = os.environ["JAVA_TOOL_OPTIONS"].strip()


def _shared_data() -> Path | None:
    for candidate in (REPO.parent / "shared" / "data", Path("/work/shared/data")):
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public data sets in ../shared/data (skips where they are not present)."""
    path = _shared_data()
    if path is None:
        pytest.skip("../shared/data is not present")
    return path


@pytest.fixture(scope="session")
def olist_dir(shared_data: Path) -> Path:
    return shared_data / "github-Dhipin1-olist-sample15k"


SPARK_CHAINS = (
    "tests/parity/test_switch_to_lake.py",
    "tests/expectations/test_judged_on_spark.py",
)
"""Modules that run `klantreis` commands on Spark in processes of their own (a JVM each), the
longest first: the suite's longest chains. They do not use the worker's own Spark session, so
they run on the worker that does not run the in-process Spark tests (`_groups`)."""

SPARK_SPLIT = "tests/parity/test_parity.py"
"""The in-process Spark tests are two groups: this module (the parity suite: its shop built
once, its maps the longest Spark tests) and the others. The worker that ends the first Spark
chain takes the second group instead of waiting idle while one worker ran every in-process
Spark test; each worker then holds a JVM of its own (2 GB driver heap)."""

SHARED_SESSION_FIXTURES = frozenset(
    {"demo_kr", "olist_kr", "simulated", "olist_store", "value_shop"}
)
"""Session-scoped stores that take tens of CPU seconds to build (a simulated shop with its
model, an imported Olist sample): their tests run on one worker, so each is built once."""


def _scoped(item: pytest.Item, scope: str) -> list[str]:
    """The names of `item`'s fixtures with `scope` that it uses (its own and those they use)."""
    # pytest keeps a test's fixture definitions here; there is no public accessor for scopes
    definitions = item._fixtureinfo.name2fixturedefs  # type: ignore[attr-defined]
    return [
        f"{defs[-1].baseid}::{name}"
        for name in item.fixturenames
        if (defs := definitions.get(name)) and defs[-1].scope == scope
    ]


def _groups(items: list[pytest.Item]) -> list[tuple[int, str | None]]:
    """Which tests must run in one worker process, and how early each group starts.

    With `pytest -n 2` (`--dist loadgroup`, pyproject.toml) a group is one unit of work for
    one worker; the other tests go one at a time to whichever worker is free.
    - the first Spark chain: its own group, first (a worker that starts it late ends the suite
      late);
    - every other `spark` test: two groups (`SPARK_SPLIT`), the parity suite second, so it
      starts at once on the other worker, the rest third, taken by the worker that ends the
      first chain. A group's tests share the process's Spark session
      (`store/engines/spark/factory.py`: one per configuration and process), so a JVM starts
      once per group, and test_parity's module-scoped shop is built once;
    - the other Spark chains: a group each, fourth: xdist hands a worker its next unit while
      it still has two tests to go, so they follow on whichever worker ends its Spark group
      first;
    - a test of an expensive session-scoped store (`SHARED_SESSION_FIXTURES`): that store's
      group (and its module's tests that use a module-scoped fixture, with it);
    - a test with a module-scoped fixture (a store, a server, a browser): its module's group,
      so the fixture is built once, not once per worker that got one of its tests.
    """
    module_of = [item.nodeid.split("::", 1)[0] for item in items]
    shared = [
        next(
            (f for f in _scoped(item, "session") if f.rsplit("::")[-1] in SHARED_SESSION_FIXTURES),
            None,
        )
        for item in items
    ]
    module_group: dict[str, str] = {}
    for item, module, store in zip(items, module_of, shared, strict=True):
        if store is not None:
            module_group.setdefault(module, store)
        elif _scoped(item, "module"):
            module_group.setdefault(module, module)
    groups: list[tuple[int, str | None]] = []
    for item, module, store in zip(items, module_of, shared, strict=True):
        if module in SPARK_CHAINS:
            groups.append((0 if module == SPARK_CHAINS[0] else 3, module))
        elif item.get_closest_marker("spark") is not None:
            groups.append((1, "spark-parity") if module == SPARK_SPLIT else (2, "spark"))
        elif store is not None:
            groups.append((4, store))
        elif _scoped(item, "module"):
            groups.append((4, module_group[module]))
        else:
            groups.append((4, None))
    return groups


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test's `xdist_group` (`_groups`) and put the Spark chains first.

    pytest-xdist hands out units in collection order (`--no-loadscope-reorder`), so the
    longest chains start at once, one per worker, and short single tests fill the end of the
    run where they balance the two workers. The order within a module is kept."""
    ranked = []
    for index, (item, (rank, group)) in enumerate(zip(items, _groups(items), strict=True)):
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
        ranked.append((rank, index, item))
    items[:] = [item for _, _, item in sorted(ranked, key=lambda entry: entry[:2])]
