"""Nothing below gradviz/gui knows Qt exists: the core imports and trains with Qt unavailable.

As napari does with its import contract, but checked twice: by importing every core module in
a fresh interpreter where PySide6, PyQt and pyqtgraph cannot be imported, and by reading the
import statements of every core file. Also keeps the code lint-clean.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gradviz"
GUI = PACKAGE / "gui"
QT_MODULES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "shiboken2", "pyqtgraph", "qtpy")

BLOCKED_IMPORT_SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = {blocked!r}

    class BlockQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked in this test")
            return None

    sys.meta_path.insert(0, BlockQt())
    for name in BLOCKED:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"the blocker failed: {{name}} imported")

    imported = []

    def walk(package):
        # pkgutil.walk_packages would import gradviz.gui to look inside it: never go there.
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            if info.name in ("gradviz.gui", "gradviz.__main__"):
                continue
            module = importlib.import_module(info.name)
            imported.append(info.name)
            if info.ispkg:
                walk(module)

    import gradviz
    walk(gradviz)

    from gradviz.cli import main
    code = main(["train", "--steps", "3", "--hidden", "4", "--quiet"])
    assert code == 0, code
    # The app itself needs Qt: without it, one clear line and exit 2, not a traceback.
    assert main(["--preset", "vanishing"]) == 2
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("IMPORTED", " ".join(imported))
    """
)


def core_files() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if GUI not in path.parents]


def test_the_core_imports_and_trains_without_qt() -> None:
    script = BLOCKED_IMPORT_SCRIPT.format(blocked=QT_MODULES)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported = result.stdout.split("IMPORTED", 1)[1].split()
    expected = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in core_files()
        if path.name != "__main__.py"
    }
    assert set(imported) == expected - {"gradviz"}
    assert "gradviz.engine.learner" in imported and "gradviz.cli" in imported
    assert "the app needs PySide6 and pyqtgraph" in result.stderr
    assert "Traceback" not in result.stderr


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names.update(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return names


def test_no_core_file_imports_qt() -> None:
    files = core_files()
    assert len(files) > 20
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path) if name.split(".")[0] in QT_MODULES)
        for path in files
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_scan_would_see_a_qt_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from PySide6.QtCore import QObject\n    import pyqtgraph as pg\n")
    assert {"PySide6.QtCore", "pyqtgraph"} <= imported_modules(sample)


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "gradviz", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_name_a_package_exports_resolves() -> None:
    """A rename left ``gradviz.engine.Learner`` pointing at a module that no longer exists."""
    import importlib

    root = Path(__file__).resolve().parents[2]
    for init in sorted((root / "gradviz").rglob("__init__.py")):
        name = ".".join(init.parent.relative_to(root).parts)
        if name.startswith("gradviz.gui"):  # Qt: not in this process
            continue
        package = importlib.import_module(name)
        for exported in getattr(package, "__all__", ()):
            assert getattr(package, exported) is not None, f"{name}.{exported}"
