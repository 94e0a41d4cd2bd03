"""``spineviewer view`` / ``demo``: headless fallback in one line, screenshot of the real window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from spineviewer.cli import main


def test_without_a_display_view_says_so_in_one_line_and_prints_the_summary(
    demo_study_dir: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["view", str(demo_study_dir)]) == 0
    out, err = capsys.readouterr()
    assert err.strip().count("\n") == 0 and err.startswith("No viewer window:")
    assert "SAG T2" in out and "41 images" in out


def test_view_of_a_missing_path_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["view", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_screenshot_of_the_demo_window(qtbot, tmp_path: Path, capsys) -> None:
    png = tmp_path / "demo.png"
    assert main(["demo", "--out", str(tmp_path / "cache"), "--screenshot", str(png)]) == 0
    image = QImage(str(png))
    assert image.width() >= 1000 and image.height() >= 600
    ptr = image.convertToFormat(QImage.Format.Format_Grayscale8)
    grey = np.frombuffer(ptr.constBits(), np.uint8).reshape(ptr.height(), ptr.bytesPerLine())
    assert grey.std() > 10  # images, text and panels, not an empty window
