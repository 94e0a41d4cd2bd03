"""Series thumbnails, rendered off the GUI thread.

:func:`render_thumbnail` is plain numpy (middle slice, display pipeline, true aspect,
letterboxed); :class:`ThumbnailLoader` runs it in the global thread pool and hands back a
QImage through a queued signal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from spineviewer.dicom import Stack, StackPixels, to_display

THUMBNAIL_SIZE = 96


def render_thumbnail(stacks: Sequence[Stack], size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """The middle slice of the middle stack as a ``size`` x ``size`` uint8 grey image."""
    stack = stacks[len(stacks) // 2]
    index = len(stack) // 2
    values = StackPixels(stack).slice(index)
    grey = to_display(values, stack.frames[index])
    if grey.ndim == 3:
        grey = grey.mean(axis=2)
    dr, dc = stack.pixel_spacing or (1.0, 1.0)
    height, width = grey.shape[0] * dr, grey.shape[1] * dc
    scale = size / max(height, width)
    out_h, out_w = max(1, round(height * scale)), max(1, round(width * scale))
    rows = np.minimum((np.arange(out_h) + 0.5) / out_h * grey.shape[0], grey.shape[0] - 1)
    cols = np.minimum((np.arange(out_w) + 0.5) / out_w * grey.shape[1], grey.shape[1] - 1)
    small = grey[rows.astype(int)[:, None], cols.astype(int)[None, :]]
    canvas = np.zeros((size, size), dtype=np.uint8)
    top, left = (size - out_h) // 2, (size - out_w) // 2
    canvas[top : top + out_h, left : left + out_w] = np.clip(small * 255.0 + 0.5, 0, 255)
    return canvas


def to_qimage(grey: np.ndarray) -> QImage:
    """A deep-copied QImage of a uint8 grey array."""
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    h, w = grey.shape
    return QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class _Signals(QObject):
    ready = Signal(str, QImage)
    failed = Signal(str, str)


class _Task(QRunnable):
    def __init__(self, key: str, stacks: tuple[Stack, ...], signals: _Signals) -> None:
        super().__init__()
        self.key, self.stacks, self.signals = key, stacks, signals

    def run(self) -> None:
        try:
            image = to_qimage(render_thumbnail(self.stacks))
        except Exception as exc:  # reported per series, never raised on the GUI thread
            with contextlib.suppress(RuntimeError):  # the browser may be gone by now
                self.signals.failed.emit(self.key, f"{type(exc).__name__}: {exc}")
            return
        with contextlib.suppress(RuntimeError):
            self.signals.ready.emit(self.key, image)


class ThumbnailLoader(QObject):
    """Renders thumbnails in the background; ``ready(key, image)`` / ``failed(key, message)``."""

    ready = Signal(str, QImage)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._signals = _Signals(self)
        self._signals.ready.connect(self.ready)
        self._signals.failed.connect(self.failed)
        self.pool = QThreadPool.globalInstance()

    def request(self, key: str, stacks: tuple[Stack, ...]) -> None:
        """Queue a thumbnail for ``key``."""
        self.pool.start(_Task(key, stacks, self._signals))
