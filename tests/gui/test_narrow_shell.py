"""The GUI's features see the window only as its shell (spineviewer.gui.shell.Shell): their
source imports no MainWindow (not even for type checking) and uses nothing of the shell
outside the protocol, private members least of all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from spineviewer.gui.main_window import MainWindow

GUI = Path(__file__).resolve().parents[2] / "spineviewer" / "gui"
#: The composition root: the only modules that may know the window's class.
ROOT = ("main_window.py", "app.py")
#: The features that used to take the whole MainWindow (issue 21) and now take its shell;
#: report_dialog.py, the seventh, needs no window at all now (a parent and what was analysed).
FEATURES = (
    "analysis_ui.py",
    "annotate/ui.py",
    "pacs_dialog.py",
    "pacs_nodes.py",
    "pacs_send.py",
)
WINDOW_MODULE = "spineviewer.gui.main_window"


def _tree(path: Path, text: str | None = None) -> ast.Module:
    code = path.read_text(encoding="utf-8") if text is None else text
    return ast.parse(code, filename=str(path))


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` names, relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    package = ["spineviewer", *path.relative_to(GUI.parent).parent.parts]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported(path: Path, text: str | None = None) -> set[str]:
    """Every module ``path`` imports anywhere (top level, TYPE_CHECKING, functions), with
    ``from package import name`` counted as ``package.name`` too."""
    names: set[str] = set()
    for node in ast.walk(_tree(path, text)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _imports_the_window(path: Path, text: str | None = None) -> bool:
    return any(
        m == WINDOW_MODULE or m.startswith(WINDOW_MODULE + ".") for m in imported(path, text)
    )


def shell_members() -> set[str]:
    """The names the Shell protocol declares (read from its source)."""
    (shell,) = [
        node
        for node in _tree(GUI / "shell.py").body
        if isinstance(node, ast.ClassDef) and node.name == "Shell"
    ]
    return {node.name for node in shell.body if isinstance(node, ast.FunctionDef)}


def shell_uses(path: Path) -> set[str]:
    """Attributes read off ``shell`` or ``self.shell`` in ``path``."""
    used: set[str] = set()
    for node in ast.walk(_tree(path)):
        if not isinstance(node, ast.Attribute):
            continue
        value = node.value
        if (isinstance(value, ast.Name) and value.id == "shell") or (
            isinstance(value, ast.Attribute)
            and value.attr == "shell"
            and isinstance(value.value, ast.Name)
            and value.value.id == "self"
        ):
            used.add(node.attr)
    return used


def gui_modules() -> list[Path]:
    return sorted(p for p in GUI.rglob("*.py") if p.relative_to(GUI).as_posix() not in ROOT)


@pytest.mark.parametrize(
    "code",
    [
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..main_window import X\n",
        "def f():\n    from spineviewer.gui import main_window\n",
        "import spineviewer.gui.main_window as w\n",
    ],
)
def test_the_scan_sees_every_way_of_importing_the_window(code: str) -> None:
    probe = GUI / "annotate" / "probe.py"  # only its place counts (relative imports)
    assert _imports_the_window(probe, code)
    assert not _imports_the_window(probe, "from ..shell import Shell\n")


@pytest.mark.parametrize("path", gui_modules(), ids=lambda p: p.relative_to(GUI).as_posix())
def test_no_gui_module_but_the_root_imports_the_window(path: Path) -> None:
    assert not _imports_the_window(path), f"{path.name} imports the window; take a Shell"


@pytest.mark.parametrize("feature", FEATURES)
def test_each_feature_reaches_the_window_through_the_shell_only(feature: str) -> None:
    path = GUI / feature
    assert "spineviewer.gui.shell.Shell" in imported(path)
    used = shell_uses(path)
    assert used, f"{feature} does not use its shell"
    assert used <= shell_members(), f"{feature} uses {sorted(used - shell_members())}"
    source = path.read_text(encoding="utf-8")
    for private in ("._start(", "._show_notice(", ".main_window", "self.window"):
        assert private not in source, f"{feature}: {private}"


def test_the_report_dialog_needs_no_window() -> None:
    path = GUI / "report_dialog.py"
    assert not shell_uses(path) and not any("shell" in m for m in imported(path))
    assert "window" not in path.read_text(encoding="utf-8")


def test_the_shell_is_small_and_the_window_implements_it(qtbot) -> None:
    members = shell_members()
    assert len(members) <= 14
    assert {"open_paths", "start_job", "notify", "grid"} <= members
    assert all(not name.startswith("_") for name in members)
    window = MainWindow()
    qtbot.addWidget(window)
    assert {name for name in members if not hasattr(window, name)} == set()
    assert window.widget is window and window.grid.viewports
