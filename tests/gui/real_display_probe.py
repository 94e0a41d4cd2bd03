"""Drive the real SpineViewer window on an X server and capture the X framebuffer.

Run by ``tests/gui/test_real_display_repaint.py`` under ``xvfb-run`` (never collected by
pytest: the name does not start with ``test_``). It opens the demo lumbar MR phantom, records
which top-level windows are visible, presses keys with QTest on the shown viewport and saves
the whole X screen after each step with ImageMagick ``import -window root`` (what the X server
shows, not a ``QWidget.grab()`` that repaints everything). ``probe.json`` in ``--out`` holds
the screen rectangles the test compares.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from spineviewer.gui.app import application
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.viewport import ImageViewport
from spineviewer.phantom import generate, study_folder_name

SIZE = (1280, 800)


def wait_until(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError("the viewer did not get there in time")
        QTest.qWait(50)


def capture(out: Path) -> None:
    """The whole X screen, as the X server has it."""
    QTest.qWait(400)  # let Qt paint and flush to the X server
    QApplication.processEvents()
    subprocess.run(["import", "-window", "root", str(out)], check=True)


def screen_rect(vp: ImageViewport) -> list[int]:
    """The viewport's drawing area on the X screen: x, y, width, height."""
    area = vp.viewport()
    top_left = area.mapToGlobal(QPoint(0, 0))
    return [top_left.x(), top_left.y(), area.width(), area.height()]


def image_rect(vp: ImageViewport) -> list[int]:
    """The image's bounding rectangle on the X screen (x, y, width, height)."""
    w, h = vp.transform_.view_size
    a = vp.viewport().mapToGlobal(vp.mapFromScene(vp.vb.mapViewToScene(QPointF(0.0, 0.0))))
    b = vp.viewport().mapToGlobal(vp.mapFromScene(vp.vb.mapViewToScene(QPointF(w, h))))
    x0, x1 = sorted((a.x(), b.x()))
    y0, y1 = sorted((a.y(), b.y()))
    return [x0, y0, x1 - x0 + 1, y1 - y0 + 1]


def visible_dialogs() -> list[str]:
    """Titles of visible top-level message boxes and modal dialogs."""
    shown = []
    for w in QApplication.topLevelWidgets():
        if w.isVisible() and (isinstance(w, QMessageBox) or w.isModal()):
            shown.append(f"{type(w).__name__}: {w.windowTitle()}")
    return shown


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    generate("lumbar-mr", out / "phantom", 1)
    study_dir = out / "phantom" / study_folder_name("lumbar-mr", 1)
    application()
    win = MainWindow()
    win.setGeometry(0, 0, *SIZE)
    win.show()
    win.open_paths([study_dir])
    wait_until(lambda: not win.busy() and win.grid.viewports[0].source is not None)
    QTest.qWait(1500)  # deferred hanging steps, a notice (if any) shown and painted
    wait_until(lambda: not win.busy())
    capture(out / "opened.png")
    result: dict[str, object] = {
        "dialogs": visible_dialogs(),
        "window": [win.geometry().x(), win.geometry().y(), *SIZE],
    }
    win.activateWindow()
    vp = win.grid.viewports[0]
    vp.setFocus()
    vp.zoom_by(0.6)  # a margin around the image: the corner text lies outside its rectangle
    wait_until(lambda: not win.busy())
    capture(out / "before.png")
    result["viewport"] = screen_rect(vp)
    result["image"] = image_rect(vp)
    result["index_before"] = vp.index
    QTest.keyClick(vp, Qt.Key.Key_Down)
    result["index_down"] = vp.index
    capture(out / "down.png")
    QTest.keyClick(vp, Qt.Key.Key_Up)
    QTest.keyClick(vp, Qt.Key.Key_Up)
    result["index_up"] = vp.index
    capture(out / "up.png")
    QTest.keyClick(vp, Qt.Key.Key_P)  # PHI-free: the patient's name leaves the top left
    capture(out / "phi_free.png")
    result["phi_free"] = vp.phi_free
    (out / "probe.json").write_text(json.dumps(result))
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
