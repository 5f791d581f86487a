"""The package tree is the data flow; these tests fail on an import against it.

    collect → store → model → measure → act → present

A stage may import the stages below it (collect writes to the store, so it sits on top of
`store` in the import graph although events flow from it), never one above. The facade
(`klantreis.api`, `import klantreis`) is the top: only `present` and top-level modules use it.
Every import counts, also those inside functions and under `TYPE_CHECKING`: a lazy import
against the flow is still a dependency against it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import klantreis
from klantreis.privacy import TABLE_MODULES

PACKAGE = Path(klantreis.__file__).parent

FORBIDDEN: dict[str, set[str]] = {
    "collect": {"model", "measure", "act", "present", "api"},
    "store": {"collect", "model", "measure", "act", "present", "api"},
    "model": {"measure", "act", "present", "api"},
    "measure": {"act", "present", "api"},
    "act": {"present", "api"},
}


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _stage(module: str) -> str | None:
    """`klantreis.measure.paths` → `measure`; the facade (`klantreis`, `klantreis.api`) → api."""
    parts = module.split(".")
    if parts[0] != "klantreis":
        return None
    if len(parts) == 1 or parts[1] == "api":
        return "api"
    return parts[1]


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package[: len(package) - node.level + 1]
                base = ".".join([*stem, base] if base else stem)
            found.append((node.lineno, base))
            if base == "klantreis":  # `from klantreis import api`
                found += [(node.lineno, f"klantreis.{a.name}") for a in node.names]
    return found


def violations(root: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        stage = _stage(_module_name(path, root))
        if stage not in FORBIDDEN:
            continue
        for line, target in _imports(path, root):
            if _stage(target) in FORBIDDEN[stage]:
                out.append(f"{path.relative_to(root.parent)}:{line}: {stage} imports {target}")
    return out


def test_no_import_against_the_flow():
    assert violations() == []


def test_every_stage_of_the_package_is_under_the_rule():
    """A new top-level package is a stage the rule must know (`act/` once was not)."""
    stages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert stages == set(FORBIDDEN) | {"present"}


@pytest.mark.parametrize(
    ("stage", "source", "target"),
    [
        ("measure", "from klantreis.present.notify import send_email\n", "present"),
        ("store", "def f():\n    from klantreis.measure.registry import analyses\n", "measure"),
        ("model", "if True:\n    from klantreis.api import Klantreis\n", "api"),
        ("collect", "import klantreis\n", "api"),
        ("measure", "from ...act import alerts\n", "act"),
        ("act", "from klantreis.present.web import mapview\n", "present"),
        ("act", "def f():\n    import klantreis.api\n", "api"),
    ],
)
def test_the_rule_catches_an_import_against_the_flow(tmp_path, stage, source, target):
    """The check itself can fail: a planted import against the flow is reported."""
    root = tmp_path / "klantreis"
    (root / stage / "sub").mkdir(parents=True)
    (root / stage / "sub" / "planted.py").write_text(source)
    found = violations(root)
    assert len(found) == 1 and f"{stage} imports" in found[0], found
    assert _stage(found[0].rsplit(" ", 1)[1]) == target


def _declares_a_table(path: Path) -> bool:
    """A module-level `register_table(...)` (in a statement outside functions and classes)."""
    tree = ast.parse(path.read_text("utf-8"))
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for node in ast.walk(statement):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "register_table"
            ):
                return True
    return False


def test_every_module_that_declares_a_table_is_listed_for_privacy():
    """Export and erasure reach a table only when its module is in `TABLE_MODULES`."""
    declaring = {_module_name(p) for p in PACKAGE.rglob("*.py") if _declares_a_table(p)}
    assert declaring - set(TABLE_MODULES) == set()
    assert "klantreis.measure.personas.tables" in declaring  # the scan finds declarations


# Errors a presenter shows in its own shape, outside the common base on purpose: the
# collector's documented 400 body and the dashboard's form errors.
OWN_SHAPE = {"InvalidEvent", "Unreadable", "UserError", "ShareLinkError"}


def test_every_error_a_user_can_fix_has_the_common_base():
    """Each presenter has one handler for `KlantreisError`; an error class outside it would
    fall through to a 500 or a traceback."""
    import importlib
    import inspect
    import pkgutil

    from klantreis.errors import KlantreisError

    outside = []
    for info in pkgutil.walk_packages(klantreis.__path__, "klantreis."):
        if ".simulator" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not issubclass(cls, ValueError):
                continue
            if not issubclass(cls, KlantreisError) and name not in OWN_SHAPE:
                outside.append(f"{module.__name__}.{name}")
    assert outside == []
