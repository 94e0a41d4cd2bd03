"""GUI test helpers: real widgets under QT_QPA_PLATFORM=offscreen, real mouse and key events."""

from __future__ import annotations

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
