"""The start-up splash: painted a fraction of a second after the command starts, while the
viewer's modules (numpy, pydicom, pyqtgraph, ...) are still being imported.

Only PySide6 is imported before the splash is up (:mod:`spineviewer.config`, for the start-up
probe, while the window system maps it), and the splash is drawn with QPainter (no image
files), so it costs little more than the bare Qt start-up. It carries the
not-for-clinical-use notice.

:func:`show_preview` then paints the study's first image into the splash, decoded and windowed
by the viewer's own display pipeline (:func:`spineviewer.dicom.first_image`,
:func:`spineviewer.dicom.to_display`, the header's window, MONOCHROME1 inverted, square
millimetres): pydicom, numpy and :mod:`spineviewer.dicom` are imported for it, which the viewer
imports next anyway, so the reader sees the image before pyqtgraph and the window's modules
are loaded (issue 24: the cold start to the first image). It names no patient.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPainter,
    QPaintEvent,
    QPixmap,
)
from PySide6.QtWidgets import QApplication, QWidget

__all__ = ["FROM_SPLASH", "Splash", "report_first_paint", "show_preview", "show_splash"]

#: Property of a QApplication the splash created (gui.app.application() themes it later).
FROM_SPLASH = "spineviewerFromSplash"

#: Longest wait for the window system to show the splash.
EXPOSE_WAIT_S = 0.5
#: The splash closes at the latest this long after ``finish``.
FINISH_LIMIT_S = 15.0
#: The preview image's longest side on the splash (pixels).
PREVIEW_SIZE = 512

BACKGROUND = QColor("#15171c")
PREVIEW_MARGIN = 16
ACCENT = QColor("#e0a526")
MUTED = QColor("#8a8f9a")


class _OnFirstPaint(QObject):
    """Calls ``action`` once, at the first paint of ``window`` or of any widget inside it.

    Installed on the application, not on the window: Qt sends no paint event to a top-level
    widget whose area its opaque children cover.
    """

    def __init__(self, target: QWidget, action: Callable[[], None]) -> None:
        super().__init__()
        self.target = target
        self.action = action
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        _WAITING.add(self)  # no Qt parent: referenced from Python until it fires

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and QWidget.window(watched) is self.target  # not watched.window(): may be shadowed
        ):
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            _WAITING.discard(self)
            self.action()
            self.deleteLater()
        return False


_WAITING: set[_OnFirstPaint] = set()


def on_first_paint(window: QWidget, action: Callable[[], None]) -> None:
    """Call ``action`` once ``window`` (or anything inside it) has first been painted."""
    _OnFirstPaint(window, action)


def report_first_paint(window: QWidget, what: str) -> None:
    """With the ``startup_probe`` setting on (``SPINEVIEWER_STARTUP_PROBE=1``, as
    bench/bench_large.py sets it, or the config file), print ``painted <what>`` at its first
    paint."""
    from spineviewer import config  # not before the splash is shown (about 40 ms)

    if config.load().startup_probe:
        on_first_paint(window, lambda: print(f"painted {what}", flush=True))


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


class Splash(QWidget):
    """A frameless splash window painting a pixmap and one status line.

    Not ``QSplashScreen``: its ``show()`` blocks up to a second on X11 waiting for the window
    manager (measured: 1.04 s of a 1.3 s start-up under Xvfb); a plain widget with the
    ``SplashScreen`` window type shows at once and is painted when exposed.
    """

    def __init__(self, pixmap: QPixmap) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)  # fmt: skip
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._pixmap = pixmap
        self._message = ""
        self._preview: QImage | None = None
        self._caption = ""
        self.setFixedSize(pixmap.size())
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.center() - self.rect().center())

    def message(self) -> str:
        return self._message

    def preview(self) -> QImage | None:
        """The image shown under the title (:func:`show_preview`), if any."""
        return self._preview

    def set_preview(self, image: QImage, caption: str) -> None:
        """Show ``image`` (at most :data:`PREVIEW_SIZE` a side) under the title, captioned."""
        self._preview = image
        self._caption = caption
        width = max(self._pixmap.width(), image.width() + 2 * PREVIEW_MARGIN)
        self.setFixedSize(width, self._pixmap.height() + image.height() + 2 * PREVIEW_MARGIN)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            self.move(screen.availableGeometry().center() - self.rect().center())
        self.repaint()

    def show_message(self, message: str) -> None:
        self._message = message
        self.repaint()

    def finish(self, window: QWidget) -> None:
        """Close once ``window`` has painted (at once when it is not visible)."""
        if not window.isVisible():
            self.close()
            return
        # Closed from the event loop, not inside the paint's event filter, where closing a
        # window would change the application's filter list while Qt walks it; and after
        # FINISH_LIMIT_S whatever happens (a window that never paints leaves no splash on top).
        on_first_paint(window, lambda: QTimer.singleShot(0, self, self.close))
        QTimer.singleShot(int(FINISH_LIMIT_S * 1000), self, self.close)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.drawPixmap(0, 0, self._pixmap)
        if self._preview is not None:
            top = self._pixmap.height()
            left = (self.width() - self._preview.width()) // 2
            painter.drawImage(left, top, self._preview)
            painter.setPen(MUTED)
            painter.drawText(self.rect().adjusted(38, 0, -12, -self._preview.height() - 14),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                             self._caption)  # fmt: skip
        if self._message:
            painter.setPen(MUTED)
            painter.drawText(self.rect().adjusted(38, 0, -12, -14),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                             self._message)  # fmt: skip
        painter.end()


def show_splash(version: str = "") -> Splash:
    """Create the application (when there is none) and show the splash; ``finish(window)``
    on the returned splash closes it once the main window is up."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setProperty(FROM_SPLASH, True)
    splash = Splash(_pixmap(version))
    splash.show_message("Starting…")
    splash.show()
    # Nothing paints before the events are processed below: the probe's setting is read while
    # the window system maps the window.
    report_first_paint(splash, "splash")
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


def show_preview(splash: Splash, paths: Sequence[str | Path]) -> bool:
    """Paint the first image under the first of ``paths`` into ``splash`` (see the module
    docstring); False, and the splash unchanged, when there is none or it cannot be read
    (the scan that follows names the problem)."""
    if not paths:
        return False
    splash.show_message("Reading the first image…")
    try:
        from spineviewer.dicom import first_image, to_display

        found = first_image(paths[0], keep=True)  # the window's preview takes it
        if found is None:
            return False
        frame, values = found
        grey = to_display(values, frame)
    except Exception:  # a preview never stops the viewer from starting
        return False
    if grey.ndim != 2 or min(grey.shape) < 1:
        return False
    image = _grey_image(grey, frame.pixel_spacing)
    splash.set_preview(image, f"{frame.instance.modality}  {grey.shape[1]} x {grey.shape[0]}")
    splash.show_message("Starting…")
    QApplication.processEvents()
    from spineviewer import config

    if config.load().startup_probe:
        print("painted preview", flush=True)
    return True


def _grey_image(grey: object, spacing: tuple[float, float] | None) -> QImage:
    """``grey`` (values in [0, 1], rows x columns) as an 8-bit image of square millimetres,
    at most :data:`PREVIEW_SIZE` a side."""
    import numpy as np

    data = np.ascontiguousarray(np.clip(np.asarray(grey) * 255.0 + 0.5, 0, 255).astype(np.uint8))
    rows, cols = data.shape
    image = QImage(data.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()
    row_mm, col_mm = spacing if spacing and min(spacing) > 0 else (1.0, 1.0)
    height, width = rows * row_mm, cols * col_mm
    scale = PREVIEW_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.scaled(
        *size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
