"""A pyqtgraph ImageItem with a fast path for windowed greyscale slices.

pyqtgraph renders a 2-D image with levels through its general ``makeARGB`` (several passes
and an ARGB32 image that Qt converts again while drawing). A windowed greyscale slice needs
one linear map to 8 bits and a 256-entry table to ``0xFFRRGGBB``: Qt draws ``Format_RGB32``
without a conversion. Everything else (colour images, images without levels, NaNs) goes the
usual way.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

#: Grey level -> opaque 0xFFRRGGBB.
_GREY32 = (np.arange(256, dtype=np.uint32) * np.uint32(0x010101)) | np.uint32(0xFF000000)


def grey_table(lut: np.ndarray | None) -> np.ndarray:
    """The 256-entry RGB32 table for an optional uint8 grey LUT (None: identity)."""
    if lut is None:
        return _GREY32
    return _GREY32[np.asarray(lut, dtype=np.uint8).reshape(256)]


def window_to_uint8(
    values: np.ndarray, levels: tuple[float, float], scratch: np.ndarray | None = None
) -> np.ndarray:
    """Map ``values`` linearly so ``levels[0]`` -> 0 and ``levels[1]`` -> 255, rounded, clipped."""
    low, high = float(levels[0]), float(levels[1])
    if scratch is None or scratch.shape != values.shape:
        scratch = np.empty(values.shape, dtype=np.float32)
    if high <= low:  # a one-value window (DICOM width 1) is a threshold
        np.greater(values, low, out=scratch, casting="unsafe")
        np.multiply(scratch, 255.0, out=scratch)
    else:
        scale = 255.0 / (high - low)
        np.multiply(values, scale, out=scratch, casting="unsafe")
        np.add(scratch, 0.5 - low * scale, out=scratch)  # + 0.5: the cast below rounds
        np.clip(scratch, 0.0, 255.0, out=scratch)
    return scratch.astype(np.uint8)


class GreyImageItem(pg.ImageItem):  # type: ignore[misc]
    """ImageItem whose 2-D, finite, levelled images take the RGB32 fast path."""

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        self._scratch: np.ndarray | None = None
        self._rgb32: np.ndarray | None = None
        self._table_key: bytes | None = None
        self._table = _GREY32

    def render(self) -> None:
        image = self.image
        levels = self.levels
        lut = self.lut
        fast = (
            image is not None
            and image.ndim == 2
            and image.size > 0
            and levels is not None
            and np.ndim(levels) == 1
            and (lut is None or (isinstance(lut, np.ndarray) and lut.shape == (256,)))
            and not (image.dtype.kind == "f" and not np.isfinite(image).all())
        )
        if not fast:
            super().render()
            return
        if self._scratch is None or self._scratch.shape != image.shape:
            self._scratch = np.empty(image.shape, dtype=np.float32)
        grey = window_to_uint8(image, (levels[0], levels[1]), self._scratch)
        key = b"" if lut is None else lut.tobytes()
        if key != self._table_key:
            self._table = grey_table(lut)
            self._table_key = key
        self._rgb32 = self._table.take(grey)  # kept alive: the QImage shares its memory
        rows, cols = grey.shape
        self.qimage = QImage(self._rgb32.data, cols, rows, cols * 4, QImage.Format.Format_RGB32)
        self._renderRequired = False
        self._unrenderable = False
