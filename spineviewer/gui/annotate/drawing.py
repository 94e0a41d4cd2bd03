"""Painting annotations in viewport pixels: outlines, handles, labels and measurements.

Shapes are drawn in the viewport's foreground pass (screen pixels), mapped from image pixels
by the viewport, so lines stay one pixel wide and text stays readable at any zoom. Proposals
are dashed until a human accepts them; rejected marks are dotted and dim; a proposal the model
doubts has its own pattern, colour and badge (:mod:`.review_style`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen, QPolygonF

from spineviewer.annotations import Annotation, Kind, Status
from spineviewer.annotations.levels import disc_parts, is_level
from spineviewer.annotations.model import NEEDS_REVIEW
from spineviewer.gui.annotate.review_style import REVIEW_COLOR, paint_badge, review_pen

ToWidget = Callable[[float, float], QPointF]

UNLABELLED = QColor("#5ce1e6")
SELECTED = QColor("#ffffff")
SHADOW = QColor(0, 0, 0, 200)
BACKDROP = QColor(0, 0, 0, 150)
HANDLE_PX = 7
ARROW_HEAD_PX = 12.0


def _font() -> QFont:
    font = QFont("DejaVu Sans", 9)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    return font


FONT = _font()
METRICS = QFontMetrics(FONT)


def outline_points(annotation: Annotation) -> list[tuple[float, float]]:
    """Image (row, col) points of the drawn outline (rectangle: 4 corners; ellipse: 2)."""
    pts = list(annotation.points)
    if annotation.kind == Kind.RECTANGLE:
        (r0, c0), (r1, c1) = pts
        return [(r0, c0), (r0, c1), (r1, c1), (r1, c0)]
    return pts


def handle_points(annotation: Annotation) -> list[tuple[float, float]]:
    """Where the grab handles are: every vertex; all four corners of boxes."""
    if annotation.kind in (Kind.RECTANGLE, Kind.ELLIPSE):
        (r0, c0), (r1, c1) = annotation.points
        return [(r0, c0), (r0, c1), (r1, c1), (r1, c0)]
    if annotation.kind == Kind.FREEHAND:
        return []  # a freehand outline is moved as a whole; hundreds of handles help nobody
    return list(annotation.points)


def outline_pen(color: QColor, annotation: Annotation, selected: bool) -> QPen:
    """The pen an annotation's outline is drawn with (review state and review need)."""
    return review_pen(color, annotation.status, annotation.pending_review, selected)


def _mapped(points: Sequence[tuple[float, float]], to_widget: ToWidget) -> list[QPointF]:
    return [to_widget(r, c) for r, c in points]


def paint_annotation(
    painter: QPainter,
    annotation: Annotation,
    to_widget: ToWidget,
    color: QColor,
    text: Sequence[str],
    selected: bool = False,
) -> None:
    """One annotation with its text block (label, state, measurements)."""
    if annotation.status == Status.REJECTED:
        color = QColor(color)
        color.setAlpha(110)
    pts = _mapped(outline_points(annotation), to_widget)
    kind = annotation.kind
    pen = outline_pen(color, annotation, selected)
    for p in (_shadow_pen(pen), pen):
        painter.setPen(p)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        _shape(painter, kind, pts)
    if selected:
        _handles(painter, _mapped(handle_points(annotation), to_widget))
    anchor = _text_anchor(kind, pts)
    if annotation.pending_review == NEEDS_REVIEW:
        anchor.setX(anchor.x() + paint_badge(painter, anchor))
        color = REVIEW_COLOR
    if text:
        # vertebra and disc labels read on bright bone and on dark fat alike
        level = is_level(annotation.label) or disc_parts(annotation.label) is not None
        paint_text(painter, anchor, text, color, backdrop=level)


def _shadow_pen(pen: QPen) -> QPen:
    """A wider dark copy of ``pen`` drawn under it (lines stay visible on bright tissue)."""
    shadow = QPen(pen)
    shadow.setColor(SHADOW)
    shadow.setWidthF(pen.widthF() + 2.0)
    if pen.style() == Qt.PenStyle.CustomDashLine:  # the same dashes, in the wider pen's units
        scale = pen.widthF() / shadow.widthF()
        shadow.setDashPattern([d * scale for d in pen.dashPattern()])
    return shadow


def _shape(painter: QPainter, kind: Kind, pts: list[QPointF]) -> None:
    if kind in (Kind.RECTANGLE, Kind.POLYGON, Kind.FREEHAND):
        painter.drawPolygon(QPolygonF(pts))
    elif kind == Kind.ELLIPSE:
        painter.drawEllipse(QRectF(pts[0], pts[1]).normalized())
    elif kind == Kind.POINT:
        p = pts[0]
        painter.drawEllipse(p, 4.0, 4.0)
        painter.drawLine(QPointF(p.x() - 7, p.y()), QPointF(p.x() + 7, p.y()))
        painter.drawLine(QPointF(p.x(), p.y() - 7), QPointF(p.x(), p.y() + 7))
    elif kind == Kind.LINE:
        painter.drawLine(pts[0], pts[1])
        for end, other in ((pts[0], pts[1]), (pts[1], pts[0])):
            _tick(painter, end, other)
    elif kind == Kind.ANGLE:
        painter.drawPolyline(QPolygonF(pts))
        _arc(painter, pts[1], pts[0], pts[2])
    elif kind == Kind.COBB:
        painter.drawLine(pts[0], pts[1])
        if len(pts) == 4:
            painter.drawLine(pts[2], pts[3])
            pen = painter.pen()
            dashed = QPen(pen)
            dashed.setStyle(Qt.PenStyle.DotLine)
            painter.setPen(dashed)
            painter.drawLine(_mid(pts[0], pts[1]), _mid(pts[2], pts[3]))
            painter.setPen(pen)
    elif kind == Kind.ARROW:
        painter.drawLine(pts[0], pts[1])
        _arrow_head(painter, pts[0], pts[1])
    else:  # a draft with too few points: a polyline
        painter.drawPolyline(QPolygonF(pts))


def paint_draft(painter: QPainter, kind: Kind, points: Sequence[QPointF], color: QColor) -> None:
    """The shape being drawn (any number of points so far), as a thin dashed outline."""
    pen = QPen(color, 1.5)
    pen.setCosmetic(True)
    pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    pts = list(points)
    if kind in (Kind.RECTANGLE, Kind.ELLIPSE) and len(pts) == 2:
        rect = QRectF(pts[0], pts[1]).normalized()
        (painter.drawRect if kind == Kind.RECTANGLE else painter.drawEllipse)(rect)
    elif kind == Kind.COBB and len(pts) >= 3:
        painter.drawLine(pts[0], pts[1])
        painter.drawPolyline(QPolygonF(pts[2:]))
    else:
        painter.drawPolyline(QPolygonF(pts))
    _handles(painter, pts)


def _mid(a: QPointF, b: QPointF) -> QPointF:
    return QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)


def _tick(painter: QPainter, end: QPointF, other: QPointF) -> None:
    dx, dy = other.x() - end.x(), other.y() - end.y()
    norm = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / norm * 5, dx / norm * 5
    painter.drawLine(QPointF(end.x() - nx, end.y() - ny), QPointF(end.x() + nx, end.y() + ny))


def _arrow_head(painter: QPainter, tail: QPointF, head: QPointF) -> None:
    angle = math.atan2(head.y() - tail.y(), head.x() - tail.x())
    for turn in (math.radians(150), math.radians(-150)):
        a = angle + turn
        end = QPointF(
            head.x() + ARROW_HEAD_PX * math.cos(a), head.y() + ARROW_HEAD_PX * math.sin(a)
        )
        painter.drawLine(head, end)


def _arc(painter: QPainter, vertex: QPointF, a: QPointF, b: QPointF) -> None:
    ang_a = math.degrees(math.atan2(-(a.y() - vertex.y()), a.x() - vertex.x()))
    ang_b = math.degrees(math.atan2(-(b.y() - vertex.y()), b.x() - vertex.x()))
    span = (ang_b - ang_a + 540.0) % 360.0 - 180.0
    radius = 18.0
    rect = QRectF(vertex.x() - radius, vertex.y() - radius, 2 * radius, 2 * radius)
    painter.drawArc(rect, round(ang_a * 16), round(span * 16))


def _handles(painter: QPainter, pts: Sequence[QPointF]) -> None:
    painter.setPen(QPen(QColor(0, 0, 0), 1))
    painter.setBrush(QBrush(SELECTED))
    half = HANDLE_PX / 2
    for p in pts:
        painter.drawRect(QRectF(p.x() - half, p.y() - half, HANDLE_PX, HANDLE_PX))
    painter.setBrush(Qt.BrushStyle.NoBrush)


def _text_anchor(kind: Kind, pts: Sequence[QPointF]) -> QPointF:
    if kind == Kind.POINT:  # beside the cross, centred on it
        return QPointF(pts[0].x() + 10, pts[0].y() - METRICS.height() / 2)
    if kind == Kind.ARROW:
        return QPointF(pts[0].x() + 6, pts[0].y() + 4)  # the note sits at the tail
    if kind == Kind.ANGLE:
        return QPointF(pts[1].x() + 10, pts[1].y() + 4)
    right = max(p.x() for p in pts)
    top = min(p.y() for p in pts)
    return QPointF(right + 6, top)


def paint_text(
    painter: QPainter,
    anchor: QPointF,
    lines: Sequence[str],
    color: QColor,
    backdrop: bool = False,
) -> None:
    """Lines of text with a shadow, the first line's top at ``anchor``; with ``backdrop`` on a
    dark translucent box, in a lighter shade when ``color`` is dark (level labels)."""
    painter.setFont(FONT)
    step = METRICS.height()
    if backdrop:
        width = max(METRICS.horizontalAdvance(line) for line in lines)
        box = QRectF(anchor.x() - 3, anchor.y() - 1, width + 7, step * len(lines) + 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BACKDROP)
        painter.drawRoundedRect(box, 3, 3)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if color.lightness() < 140:
            color = color.lighter(150)
    x, y = anchor.x(), anchor.y() + METRICS.ascent()
    for i, line in enumerate(lines):
        for offset, pen_color in ((1.0, SHADOW), (0.0, color)):
            painter.setPen(pen_color)
            painter.drawText(QPointF(x + offset, y + i * step + offset), line)
