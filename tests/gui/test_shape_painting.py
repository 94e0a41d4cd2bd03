"""The live painter draws every shape kind from its spec's primitives (and its draft while it
is drawn): ink where the shape is, none far from it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter

from spineviewer.annotations.annotation import Annotation, ImageRef, Kind, Status
from spineviewer.annotations.shapes import from_scoord, shape
from spineviewer.gui.annotate.drawing import paint_annotation, paint_draft
from tests.annotations.test_shape_specs import SAMPLES

SCALE = 3.0
REF = ImageRef("1.2", "1.2.3", "1.2.3.4", "1.2.840.10008.5.1.4.1.1.7", 1, "", (0.5, 0.5), 64, 80)


def to_widget(r: float, c: float) -> QPointF:
    return QPointF(c * SCALE + 20, r * SCALE + 20)


def ink(draw) -> np.ndarray:
    image = QImage(320, 260, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    draw(painter)
    painter.end()
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(image.constBits(), np.uint8).reshape(260, 320, 4)
    return arr[..., 3] > 0


def box_of(points: list[tuple[float, float]], margin: float) -> tuple[float, ...]:
    xy = np.asarray([(p.x(), p.y()) for p in (to_widget(r, c) for r, c in points)])
    (x0, y0), (x1, y1) = xy.min(axis=0) - margin, xy.max(axis=0) + margin
    return x0, y0, x1, y1


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_is_painted_where_it_is(qapp, kind: Kind) -> None:
    mark = Annotation.create(kind, REF, SAMPLES[kind], None, status=Status.ACCEPTED)
    drawn = ink(lambda p: paint_annotation(p, mark, to_widget, QColor("#5ce1e6"), []))
    ys, xs = np.nonzero(drawn)
    assert len(xs) > 20
    # decorations (a point's cross, ticks, an arrow head, a Cobb line's overhang) stay near
    margin = 60.0 if kind == Kind.COBB else 16.0
    x0, y0, x1, y1 = box_of(SAMPLES[kind], margin)
    assert xs.min() >= x0 and xs.max() <= x1 and ys.min() >= y0 and ys.max() <= y1
    # the outline passes through its first SCOORD point (a corner, an axis end, a line's end)
    first = to_widget(*from_scoord(shape(kind).scoord(SAMPLES[kind])[1])[0])
    x, y = round(first.x()), round(first.y())
    assert drawn[y - 3 : y + 4, x - 3 : x + 4].any()


@pytest.mark.parametrize("kind", list(Kind))
def test_a_draft_is_painted_at_every_step(qapp, kind: Kind) -> None:
    points = SAMPLES[kind]
    for n in range(1, len(points) + 1):
        drawn = ink(lambda p, n=n: paint_draft(p, kind, points[:n], to_widget, QColor("white")))
        last = to_widget(*points[n - 1])
        x, y = round(last.x()), round(last.y())
        assert drawn[y - 4 : y + 5, x - 4 : x + 5].any(), (kind, n)  # its handle at least


def test_labels_are_kept_off_a_cobb_line_and_its_overhang(qapp) -> None:
    """A Cobb angle's endplate lines, run past the endplates, keep labels off them (a label
    once hid the lower line on an X-ray with implants); other kinds block nothing."""
    from spineviewer.gui.annotate.drawing import COBB_OVERHANG_PX, overhang_rects

    def to_widget(r: float, c: float) -> QPointF:
        return QPointF(c, r)

    cobb = [(100.0, 100.0), (110.0, 200.0), (300.0, 100.0), (290.0, 200.0)]
    rects = overhang_rects(shape(Kind.COBB).primitives(cobb), to_widget)
    assert rects
    covers = lambda x, y: any(r.x <= x <= r.right and r.y <= y <= r.bottom for r in rects)  # noqa: E731
    assert covers(150.0, 105.0)  # on the upper endplate
    assert covers(100.0 - 0.9 * COBB_OVERHANG_PX, 100.0 - 0.09 * COBB_OVERHANG_PX)  # run past it
    assert not covers(150.0, 150.0)  # between the lines: free
    assert overhang_rects(shape(Kind.LINE).primitives([(0.0, 0.0), (50.0, 50.0)]), to_widget) == []
