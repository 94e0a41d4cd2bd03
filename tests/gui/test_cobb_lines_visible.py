"""A Cobb angle's endplate lines show on the vertebra boxes whose edges they follow.

The X-ray pipeline's Cobb proposal runs along the upper endplate of the upper end vertebra and
the lower endplate of the lower one, exactly where the vertebra boxes' edges are: drawn there
in a cyan like the boxes' sky blue, under or between them, the lines were hidden. They now run
past the endplate at both ends (as on a radiologist's Cobb tool), in their own colour
(``theme.COBB_COLOR``) with a dark halo, wider than a box's outline, and are painted after the
boxes. The real window shows it on the X server too (``test_painted_overlays_real_display``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter

from spineviewer.annotations import Annotation, ImageRef, Kind, Status
from spineviewer.gui import theme
from spineviewer.gui.annotate.drawing import UNLABELLED, paint_annotation

REF = ImageRef("1.2.3", "1.2.3.4", "1.2.3.4.5", "1.2.840.10008.5.1.4.1.1.1")
#: An upper end vertebra's box (rows 60-100, columns 80-160) and a lower one (160-200).
UPPER, LOWER = ((60.0, 80.0), (100.0, 160.0)), ((160.0, 80.0), (200.0, 160.0))
#: The Cobb lines on the upper box's top edge and the lower box's bottom edge.
COBB = [(60.0, 80.0), (60.0, 160.0), (200.0, 80.0), (200.0, 160.0)]


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(height, stride)
    return raw[:, : width * 3].reshape(height, width, 3).astype(np.int16)


def _near(pixels: np.ndarray, color: str, tolerance: int = 40) -> np.ndarray:
    c = QColor(color)
    return np.abs(pixels - np.array([c.red(), c.green(), c.blue()])).max(axis=-1) <= tolerance


def _drawn(status: Status) -> np.ndarray:
    """Two proposed vertebra boxes, then the Cobb proposal, as the annotation tool paints a
    frame (grey bone under them)."""
    image = QImage(240, 260, QImage.Format.Format_RGB32)
    image.fill(QColor("#808080"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    to_widget = lambda r, c: QPointF(c, r)  # noqa: E731 (image pixels are screen pixels)
    for label, points in (("T12", UPPER), ("L3", LOWER)):
        box = Annotation.create(Kind.RECTANGLE, REF, points, None, label=label)
        paint_annotation(painter, box.with_status(Status.PROPOSED), to_widget, QColor(), ())
    cobb = Annotation.create(Kind.COBB, REF, COBB, None)
    cobb = cobb if status == Status.ACCEPTED else cobb.with_status(status)
    paint_annotation(painter, cobb, to_widget, UNLABELLED, ())
    painter.end()
    return _pixels(image)


def test_cobb_lines_run_past_the_boxes_in_their_own_colour() -> None:
    for status in (Status.PROPOSED, Status.ACCEPTED):
        pixels = _drawn(status)
        lime = _near(pixels, theme.COBB_COLOR)
        for row in (60, 200):
            band = lime[row - 1 : row + 2]
            # past the box at both ends: the endplate line goes on where the box stops
            assert band[:, 50:76].any(axis=0).sum() >= 12, (status, row, "left")
            assert band[:, 165:190].any(axis=0).sum() >= 12, (status, row, "right")
            # along the box's edge the Cobb colour is on top (dashes when proposed)
            assert band[:, 82:158].any(axis=0).sum() >= 0.4 * 76, (status, row, "edge")
            # with a dark halo on either side of the line
            halo = pixels[row - 3 : row + 4, 50:76].max(axis=-1) < 60
            assert halo.any(axis=0).sum() >= 12, (status, row, "halo")
        # the connecting line between the endplates' middles is there too
        assert lime[70:190, 118:123].any(axis=1).sum() >= 30


def test_the_cobb_colour_is_apart_from_every_other_overlay_colour() -> None:
    others = [
        *theme.VERTEBRA_COLORS,
        *theme.DISC_COLORS,
        *theme.STATE_COLORS.values(),
        *theme.CLASS_COLORS.values(),
        theme.CROSSREF_COLOR,
        theme.CURSOR_COLOR,
        "#ffa000",  # the review amber
        UNLABELLED.name(),
    ]
    for other in others:
        d = abs(theme.hue_degrees(theme.COBB_COLOR) - theme.hue_degrees(other)) % 360
        assert min(d, 360 - d) >= 25, other
    assert theme.contrast_ratio(theme.COBB_COLOR, theme.VIEWPORT_BACKGROUND) >= 4.5
    assert theme.contrast_ratio(theme.COBB_COLOR, theme.backing_over("#ffffff")) >= 4.5
