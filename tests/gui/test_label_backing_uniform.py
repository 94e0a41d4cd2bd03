"""Every overlay label has the same dark backing, wherever it lies.

Framebuffer screenshots showed a selected box's statistics (five lines, over the vertebral
body) on a lighter grey than every other label: it is the same label style, but its box was
80% black, so bone of grey 150 showed through as 30 while labels over the dark background
stayed near 0. The backing is now nearly opaque: over white bone it stays within 16 grey
levels of the same box over the viewport's background. The real screen is checked too
(``test_painted_overlays_real_display``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter

from spineviewer.gui import theme
from spineviewer.gui.annotate.drawing import PAD_X, label_pixmap

#: The selected box's statistics and a level's one-line label.
STATS = ("L2", "proposed 82%", "Area 805 mm²", "Mean 898.0 ± 312.1", "Min 152 / Max 1796")
LEVEL = ("L3, proposed 92%",)
#: The most one backing may differ from another in grey levels, whatever lies under it.
MAX_SPREAD = 16


def _backing_grey(lines: tuple[str, ...], under: str) -> float:
    """The grey of the label's backing (its left padding, no text) drawn over ``under``."""
    pixmap = label_pixmap(lines, QColor(theme.VERTEBRA_COLORS[0]), 13, 1.0)
    image = QImage(pixmap.width() + 8, pixmap.height() + 8, QImage.Format.Format_RGB32)
    image.fill(QColor(under))
    painter = QPainter(image)
    painter.drawPixmap(QPointF(4, 4), pixmap)
    painter.end()
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    pixels = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(h, stride)[:, : w * 3]
    pixels = pixels.reshape(h, w, 3).astype(np.float64)
    strip = pixels[4 + 4 : 4 + pixmap.height() - 4, 4 + 1 : 4 + int(PAD_X) - 1]
    return float(strip.mean())


def test_every_label_backing_is_the_same_dark_over_bone_and_background(qapp) -> None:
    greys = {
        (lines[0], under): _backing_grey(lines, under)
        for lines in (STATS, LEVEL)
        for under in ("#ffffff", "#969696", theme.VIEWPORT_BACKGROUND)
    }
    assert max(greys.values()) - min(greys.values()) <= MAX_SPREAD, greys
    assert max(greys.values()) <= 20, greys  # dark: text reads on it
