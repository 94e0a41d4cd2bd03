from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Reports read reviews from the annotation workspace: a scratch one per test."""
    root = tmp_path / "workspace"
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(root))
    return root
