"""The start-up splash: painted a fraction of a second after the command starts, while the
viewer's modules (numpy, pydicom, pyqtgraph, ...) are still being imported.

Only PySide6 is imported here, and the splash is drawn with QPainter (no image files), so it
costs little more than the bare Qt start-up. It carries the not-for-clinical-use notice.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen

__all__ = ["FROM_SPLASH", "STARTUP_PROBE", "report_first_paint", "show_splash"]

#: Set (by bench/bench_large.py) to print "painted <what>" on stdout at first paints.
STARTUP_PROBE = "SPINEVIEWER_STARTUP_PROBE"

#: Property of a QApplication the splash created (gui.app.application() themes it later).
FROM_SPLASH = "spineviewerFromSplash"

#: Longest wait for the window system to show the splash.
EXPOSE_WAIT_S = 0.5

BACKGROUND = QColor("#15171c")
ACCENT = QColor("#e0a526")


class _FirstPaint(QObject):
    def __init__(self, what: str, parent: QObject) -> None:
        super().__init__(parent)
        self.what = what

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            print(f"painted {self.what}", flush=True)
            watched.removeEventFilter(self)
        return False


def report_first_paint(widget: QObject, what: str) -> None:
    """With ``SPINEVIEWER_STARTUP_PROBE`` set, print ``painted <what>`` at its first paint."""
    if os.environ.get(STARTUP_PROBE):
        widget.installEventFilter(_FirstPaint(what, widget))


def _pixmap(version: str) -> QPixmap:
    pixmap = QPixmap(520, 220)
    pixmap.fill(BACKGROUND)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.fillRect(0, 0, 8, 220, ACCENT)
    title = QFont()
    title.setPointSize(26)
    title.setBold(True)
    painter.setFont(title)
    painter.setPen(QColor("#f0f0f0"))
    painter.drawText(36, 80, "SpineViewer")
    body = QFont()
    body.setPointSize(11)
    painter.setFont(body)
    painter.setPen(QColor("#b8bcc6"))
    painter.drawText(38, 112, f"Spine radiology viewer with local AI  ·  {version}")
    painter.setPen(ACCENT)
    painter.drawText(38, 180, "Not for clinical use")
    painter.end()
    return pixmap


def show_splash(version: str = "") -> QSplashScreen:
    """Create the application (when there is none) and show the splash; ``finish(window)``
    on the returned splash closes it once the main window is up."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setProperty(FROM_SPLASH, True)
    splash = QSplashScreen(_pixmap(version), Qt.WindowType.WindowStaysOnTopHint)
    report_first_paint(splash, "splash")
    splash.showMessage("Starting…", Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                       QColor("#8a8f9a"))  # fmt: skip
    splash.show()
    # The window system maps the window asynchronously: paint once it is exposed, before the
    # caller goes on to its long imports (no event loop runs meanwhile).
    deadline = time.monotonic() + EXPOSE_WAIT_S
    handle = splash.windowHandle()
    while handle is not None and not handle.isExposed() and time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
        time.sleep(0.002)
    splash.repaint()
    app.processEvents()
    return splash
