"""How `pytest -n 2` shares the suite's expensive stores between tests (tests/conftest.py).

A store that every test of several modules reads is built once per run when its tests run in
one worker; a module-scoped store in a conftest is built again for each module that uses it.
These tests collect the real modules in a pytest process of their own and read the
`xdist_group` each test was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

COLLECT = (sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider")

PROBE = """
def pytest_collection_finish(session):
    for item in session.items:
        mark = item.get_closest_marker("xdist_group")
        group = mark.args[0] if mark is not None else "-"
        print("GROUP", item.nodeid, group, " ".join(sorted(item.fixturenames)), sep="\\t")
"""


def _groups(tmp_path: Path, *paths: str) -> dict[str, tuple[str, set[str]]]:
    """nodeid -> (its xdist group, the fixtures it uses), as collected from `paths`."""
    (tmp_path / "group_probe.py").write_text(PROBE)
    path = os.environ.get("PYTHONPATH", "")
    collected = subprocess.run(
        [*COLLECT, "-p", "group_probe", *paths],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(tmp_path), path)))},
        check=False,
        timeout=600,
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    found = {}
    for line in collected.stdout.splitlines():
        if line.startswith("GROUP\t"):
            _, nodeid, group, fixtures = line.split("\t")
            found[nodeid] = (group, set(fixtures.split()))
    return found


def test_the_value_shop_is_built_once_for_all_its_modules(tmp_path: Path) -> None:
    found = _groups(tmp_path, "tests/value")
    using = {nodeid: group for nodeid, (group, names) in found.items() if "shop_store" in names}
    modules = {nodeid.split("::")[0] for nodeid in using}
    assert len(modules) >= 3, modules  # the shop is read by several modules
    assert len(set(using.values())) == 1, using


def test_the_in_process_spark_tests_are_two_groups_after_the_first_chain(tmp_path: Path) -> None:
    """Both workers take part in the in-process Spark tests: the parity suite is one group,
    the others a second one, queued after the first Spark chain and before the others."""
    found = _groups(tmp_path, "tests/parity", "tests/measure/test_funnel.py")
    order = []
    for group, _ in found.values():
        if not order or order[-1] != group:
            order.append(group)
    spark = {g for n, (g, _) in found.items() if "[spark" in n or "test_parity.py" in n}
    assert spark == {"spark-parity", "spark"}, spark
    assert order[:3] == ["tests/parity/test_switch_to_lake.py", "spark-parity", "spark"], order
    assert all(g == "spark-parity" for n, (g, _) in found.items() if "test_parity.py" in n)
