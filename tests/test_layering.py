"""The layering rule (docs/ARCHITECTURE.md): nothing outside ``spineviewer.gui`` imports Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "spineviewer"
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6")
CORE = (
    "dicom",
    "geometry",
    "phantom",
    "viewing",
    "annotations",
    "ai",
    "training",
    "reports",
    "batch",
    "pacs",
    "evaluation",
    "cli",
)
#: The offscreen PDF and key-image renderers of the reports: the core modules allowed Qt.
QT_ALLOWED = ("reports/pdf.py", "reports/images.py")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _core_files() -> list[Path]:
    return [
        p
        for p in PACKAGE.rglob("*.py")
        if "gui" not in p.relative_to(PACKAGE).parts
        and p.relative_to(PACKAGE).as_posix() not in QT_ALLOWED
    ]


def test_core_source_never_imports_qt() -> None:
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] in QT_MODULES
        )
        for path in _core_files()
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_the_scan_covers_the_core_packages() -> None:
    scanned = {p.relative_to(PACKAGE).parts[0] for p in _core_files()}
    assert {"dicom", "geometry", "cli"} <= scanned


@pytest.mark.parametrize("package", CORE)
def test_importing_a_core_package_loads_no_qt(package: str) -> None:
    code = (
        f"import sys, spineviewer.{package}; "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}]; "
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("package", ["ai", "annotations", "training", "cli"])
def test_importing_the_runner_loads_no_torch(package: str) -> None:
    """The viewer and the model runner run without torch; training imports it only when used."""
    code = (
        f"import sys, spineviewer.{package}; "
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == ""
