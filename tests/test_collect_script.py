"""scripts/collect.sh, which scripts/test.sh runs before the suite: a test module that does not
import fails the run at once, naming the module and its error, before any test has run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "collect.sh"


def _collect(folder: Path) -> subprocess.CompletedProcess[str]:
    """The script over `folder` (its own rootdir: the project's conftest is not loaded; nor
    are the installed pytest plugins, which only cost start-up time here)."""
    return subprocess.run(
        ["bash", str(SCRIPT), str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHON": sys.executable, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        check=False,
    )


def test_a_module_that_does_not_import_fails_before_any_test_runs(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    (tmp_path / "test_fine.py").write_text(
        f"def test_fine():\n    open({str(ran)!r}, 'w').close()\n"
    )
    (tmp_path / "test_broken.py").write_text(
        "from engine_rows_gone import rows\n\ndef test_rows():\n    assert rows\n"
    )
    result = _collect(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "test_broken.py" in result.stderr
    assert "engine_rows_gone" in result.stderr
    assert "does not collect" in result.stderr
    assert "test_fine.py::test_fine" not in result.stderr  # the errors, not the list
    assert not ran.exists()


def test_a_suite_that_collects_passes_with_its_count_and_runs_nothing(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    (tmp_path / "test_fine.py").write_text(
        f"def test_fine():\n    open({str(ran)!r}, 'w').close()\n\ndef test_other():\n    pass\n"
    )
    result = _collect(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 tests collected" in result.stdout
    assert not ran.exists()
