"""The RGB32 fast path draws the same grey levels as the DICOM linear window and pyqtgraph."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage

from spineviewer.gui.image_item import GreyImageItem, window_to_uint8


def _grey(item: pg.ImageItem) -> np.ndarray:
    """The rendered QImage as (rows, cols) grey levels (its blue channel)."""
    item.render()
    image = item.qimage.convertToFormat(QImage.Format.Format_RGB32)
    rows, cols = image.height(), image.width()
    data = np.frombuffer(image.constBits(), dtype=np.uint32, count=rows * cols)
    return (data.reshape(rows, cols) & 0xFF).astype(np.int32)


def test_window_follows_the_dicom_linear_formula() -> None:
    # PS3.3 C.11.2.1.2.1, c = 40, w = 400 (levels c - 0.5 -/+ (w - 1) / 2).
    c, w = 40.0, 400.0
    levels = (c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2)
    x = np.array([[-1000, -160, -159.5, 40, 239.5, 240, 3000]], dtype=np.float64)
    expected = np.clip(((x - (c - 0.5)) / (w - 1) + 0.5) * 255, 0, 255)
    out = window_to_uint8(x, levels)
    assert out.dtype == np.uint8
    assert np.abs(out.astype(float) - expected).max() <= 0.5 + 1e-6
    assert out[0, 0] == 0 and out[0, -1] == 255


def test_one_value_window_is_a_threshold() -> None:
    out = window_to_uint8(np.array([[9.0, 10.0, 11.0]]), (10.0, 10.0))
    assert out.tolist() == [[0, 0, 255]]


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.float32])
def test_fast_path_matches_pyqtgraph(qapp: object, dtype: type) -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(-1024, 2000, size=(64, 48)).astype(dtype)
    if np.dtype(dtype).kind == "u":
        values = np.abs(values).astype(dtype)
    levels = (-160.0, 240.0)
    ours, reference = GreyImageItem(), pg.ImageItem(axisOrder="row-major")
    for item in (ours, reference):
        item.setImage(values, autoLevels=False, levels=levels)
    ours.render()
    assert ours.qimage.format() == QImage.Format.Format_RGB32  # the fast path ran
    assert np.abs(_grey(ours) - _grey(reference)).max() <= 1  # rounding vs truncation


def test_inverting_lut_and_fallbacks(qapp: object) -> None:
    values = np.arange(256, dtype=np.int16).reshape(16, 16)
    item = GreyImageItem()
    item.setImage(
        values, autoLevels=False, levels=(0.0, 255.0), lut=np.arange(256)[::-1].astype(np.uint8)
    )
    assert _grey(item)[0, 0] == 255 and _grey(item)[-1, -1] == 0
    with_nan = values.astype(np.float32)
    with_nan[0, 0] = np.nan
    item.setImage(with_nan, autoLevels=False, levels=(0.0, 255.0), lut=None)
    item.render()
    assert item.qimage.format() != QImage.Format.Format_RGB32  # pyqtgraph's NaN handling
    rgb = np.zeros((8, 8, 3), dtype=np.uint8)
    rgb[..., 0] = 200
    item.setImage(rgb, autoLevels=False, levels=None)
    item.render()
    assert item.qimage is not None and item.qimage.format() != QImage.Format.Format_RGB32
