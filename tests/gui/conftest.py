"""GUI test helpers: real widgets under QT_QPA_PLATFORM=offscreen, real mouse and key events."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """QSettings go to a per-test folder, never to the user's configuration."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "config")
    )


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Annotations are saved in a per-test workspace, never in the user's."""
    root = tmp_path / "workspace"
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(root))
    return root


@pytest.fixture(autouse=True)
def _collect_between_tests() -> Iterator[None]:
    """No automatic garbage collection inside a GUI test, a full one after it: a collection
    that starts inside a Qt call (a signal disconnect) and frees an earlier window's QObject
    deadlocks on Qt's connection lock (seen: the suite hung in MainWindow.__init__). The
    viewer itself collects from its event loop only (spineviewer.gui.gc_timer)."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()
