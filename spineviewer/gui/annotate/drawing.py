"""Painting annotations in viewport pixels: outlines, handles, labels and measurements.

Shapes are drawn in the viewport's foreground pass (screen pixels), mapped from image pixels
by the viewport, so lines stay one pixel wide and text stays readable at any zoom. Proposals
are dashed until a human accepts them; rejected marks are dotted and dim; a proposal the model
doubts has its own pattern, colour and badge (:mod:`.review_style`).

Colours follow :mod:`spineviewer.gui.theme`: one scheme for levels, another for disc states
(whose outline also thickens with the state); classes read as words ("Pedicle screw",
:func:`spineviewer.ai.display_names.display_name`).

Labels are legible and never pile up: each is drawn once per frame as a cached pixmap, text
with a dark halo on a semi-opaque backing box, at least
:func:`~spineviewer.gui.theme.overlay_text_px` high for the screen's DPI. The shapes of a frame
are painted as they come, their labels collected on the viewport's :class:`LabelBoard`, which
runs last among the viewport's overlays: identical labels become one ("Pedicle screw ×6,
proposed 57-83%"), and :func:`spineviewer.viewing.label_layout.place_labels` puts every label
beside its anatomy where it covers no other (a column with leader lines when crowded).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen, QPixmap, QPolygonF

from spineviewer.ai.display_names import display_name
from spineviewer.annotations import Annotation, Kind, Status
from spineviewer.annotations.annotation import NEEDS_REVIEW
from spineviewer.annotations.level_names import disc_parts, is_level
from spineviewer.annotations.shapes import (
    Arc,
    ArrowHead,
    Connector,
    Ellipse,
    Marker,
    Polyline,
    Primitive,
    Segment,
    ShapeSpec,
    shape,
)
from spineviewer.gui import theme
from spineviewer.gui.annotate.review_style import BADGE_PX, REVIEW_COLOR, paint_badge, review_pen
from spineviewer.gui.overlay import reserved_rects
from spineviewer.viewing.label_layout import (
    LabelBox,
    Rect,
    candidates,
    group_identical,
    merged_text,
    place_labels,
)

ToWidget = Callable[[float, float], QPointF]

UNLABELLED = QColor("#5ce1e6")
SELECTED = QColor("#ffffff")
SHADOW = QColor(0, 0, 0, 200)
BACKDROP = QColor(0, 0, 0, round(255 * theme.LABEL_BACKING_ALPHA))
HALO = QColor(theme.HALO_COLOR)
HANDLE_PX = 7
#: A Cobb angle's endplate lines run past the endplate they follow (and the vertebra box's
#: edge there) by this share of their length at each end, at least :data:`COBB_OVERHANG_PX`,
#: as on a radiologist's Cobb tool; they are drawn this wide, in :data:`theme.COBB_COLOR`.
COBB_OVERHANG = 0.35
COBB_OVERHANG_PX = 24.0
COBB_PEN_PX = 2.0
ARROW_HEAD_PX = 12.0
#: Padding inside a label's backing box, px (sides, top and bottom).
PAD_X, PAD_Y = 4.0, 2.0
#: Labels keep this far from the viewport's edges, px.
EDGE_PX = 4.0
#: Pixmaps of rendered labels kept for reuse (cleared when full).
CACHE_SIZE = 2048


#: The colour and line weight of a shape with its own style (:attr:`.ShapeSpec.style`): a
#: Cobb angle lies on the vertebra boxes' edges.
STYLES: dict[str, tuple[str, float]] = {"cobb": (theme.COBB_COLOR, COBB_PEN_PX)}


def outline_points(annotation: Annotation) -> list[tuple[float, float]]:
    """Image (row, col) points of the drawn outline (rectangle: 4 corners; ellipse: 2)."""
    return shape(annotation.kind).drawn_points(annotation.points)


def handle_points(annotation: Annotation) -> list[tuple[float, float]]:
    """Where the grab handles are: every vertex; all four corners of boxes; none on a
    freehand outline (moved as a whole; hundreds of handles help nobody)."""
    return shape(annotation.kind).handle_points(annotation.points)


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
    """One annotation with its text block (label, state, measurements).

    ``color`` is the caller's choice for labels outside the theme's schemes (a level, a disc
    state and an implant class take the theme's colour). When ``to_widget`` is a viewport's
    ``image_to_widget`` the text goes to that viewport's :class:`LabelBoard` (placed with the
    frame's other labels); otherwise it is drawn at once beside the shape.
    """
    spec = shape(annotation.kind)
    style = STYLES.get(spec.style)
    themed = theme.label_color(annotation.label, annotation.state) if annotation.label else None
    if style is not None:  # its own colour (a Cobb angle lies on the vertebra boxes' edges)
        themed = style[0]
    if themed is not None:
        color = QColor(themed)
    rejected = annotation.status == Status.REJECTED
    if rejected:
        color = QColor(color)
        color.setAlpha(110)
    pts = _mapped(outline_points(annotation), to_widget)
    primitives = spec.primitives(annotation.points)
    pen = outline_pen(color, annotation, selected)
    width = theme.STATE_PEN_WIDTHS.get(annotation.state or "")
    if style is not None:
        width = style[1]
    if width is not None and not rejected:  # the state shows as line weight, not only colour
        pen.setWidthF(max(pen.widthF(), width + (0.5 if selected else 0.0)))
    for p in (_shadow_pen(pen), pen):
        painter.setPen(p)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        paint_primitives(painter, primitives, to_widget)
    if selected:
        _handles(painter, _mapped(handle_points(annotation), to_widget))
    owner = getattr(to_widget, "__self__", None)
    on_board = owner is not None and isinstance(getattr(owner, "overlays", None), list)
    if on_board:  # no label (this one's or another's) hides where a Cobb line runs on
        for rect in overhang_rects(primitives, to_widget):
            board_for(owner).block(owner, rect)
    if not text:
        return
    lines = readable_lines(annotation, text)
    review = annotation.pending_review == NEEDS_REVIEW
    proposed = annotation.status == Status.PROPOSED
    score = annotation.provenance.score if proposed else None
    mergeable = not selected and (
        len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("proposed"))
    )
    label = Label(
        lines=tuple(lines),
        color=REVIEW_COLOR if review else color,
        anchor=anchor_rect(spec, pts),
        opacity=painter.opacity(),
        rank=0 if selected else 1 if _names_a_level(annotation.label) else 2,
        title=lines[0],
        score=score,
        proposed=proposed and mergeable and len(lines) == 2,
        badge=review,
        merge=(lines[0], proposed, color.rgba(), review) if mergeable else None,
    )
    if on_board:
        board_for(owner).add(owner, label)
    else:
        paint_label_now(painter, label)


#: Spacing and size (screen px) of the small squares that keep labels off a Cobb line.
_OVERHANG_STEP_PX = 6.0
_OVERHANG_BLOCK_PX = _OVERHANG_STEP_PX  # touching: no gap a label could use


def overhang_rects(primitives: Sequence[Primitive], to_widget: ToWidget) -> list[Rect]:
    """Small squares along each overhanging segment (a Cobb endplate line), the endplate and
    the parts run past it: labels are placed clear of them, so the line the angle is read
    from stays visible."""
    rects = []
    half = _OVERHANG_BLOCK_PX / 2
    for item in primitives:
        if not isinstance(item, Segment) or not item.overhang:
            continue
        a, b = cobb_line(to_widget(*item.a), to_widget(*item.b))
        steps = max(1, math.ceil(math.hypot(b.x() - a.x(), b.y() - a.y()) / _OVERHANG_STEP_PX))
        for i in range(steps + 1):
            x = a.x() + (b.x() - a.x()) * i / steps
            y = a.y() + (b.y() - a.y()) * i / steps
            rects.append(Rect(x - half, y - half, _OVERHANG_BLOCK_PX, _OVERHANG_BLOCK_PX))
    return rects


def _names_a_level(label: str) -> bool:
    return bool(label) and (is_level(label) or disc_parts(label) is not None)


def readable_lines(annotation: Annotation, text: Sequence[str]) -> list[str]:
    """``text`` with the class name in words ("pedicle_screw ?" -> "Pedicle screw ?"), less
    a line the first already says (a Cobb angle's note names its angle)."""
    lines = list(text)
    key = annotation.label
    if lines and key and lines[0].startswith(key):
        lines[0] = display_name(key) + lines[0][len(key) :]
    return lines[:1] + [line for line in lines[1:] if line not in lines[0]]


def _shadow_pen(pen: QPen) -> QPen:
    """A wider dark copy of ``pen`` drawn under it (lines stay visible on bright tissue)."""
    shadow = QPen(pen)
    shadow.setColor(SHADOW)
    shadow.setWidthF(pen.widthF() + 2.0)
    if pen.style() == Qt.PenStyle.CustomDashLine:  # the same dashes, in the wider pen's units
        scale = pen.widthF() / shadow.widthF()
        shadow.setDashPattern([d * scale for d in pen.dashPattern()])
    return shadow


def paint_primitives(
    painter: QPainter, primitives: Sequence[Primitive], to_widget: ToWidget
) -> None:
    """Draw a shape's primitives (:meth:`.ShapeSpec.primitives`) with the painter's pen, their
    points mapped by ``to_widget``; decorations at fixed screen sizes."""
    for item in primitives:
        match item:
            case Polyline(points=points, closed=closed):
                polygon = QPolygonF(_mapped(points, to_widget))
                (painter.drawPolygon if closed else painter.drawPolyline)(polygon)
            case Ellipse(corners=corners):
                a, b = _mapped(corners, to_widget)
                painter.drawEllipse(QRectF(a, b).normalized())
            case Segment(a=a, b=b, ticks=ticks, overhang=overhang):
                p, q = to_widget(*a), to_widget(*b)
                painter.drawLine(*(cobb_line(p, q) if overhang else (p, q)))
                if ticks:  # where the distance or the endplate ends
                    for end, other in ((p, q), (q, p)):
                        _tick(painter, end, other)
            case Marker(at=at):
                p = to_widget(*at)
                painter.drawEllipse(p, 4.0, 4.0)
                painter.drawLine(QPointF(p.x() - 7, p.y()), QPointF(p.x() + 7, p.y()))
                painter.drawLine(QPointF(p.x(), p.y() - 7), QPointF(p.x(), p.y() + 7))
            case ArrowHead(tail=tail, head=head):
                _arrow_head(painter, to_widget(*tail), to_widget(*head))
            case Arc(vertex=vertex, a=a, b=b):
                _arc(painter, to_widget(*vertex), to_widget(*a), to_widget(*b))
            case Connector(a=a, b=b):
                pen = painter.pen()
                dotted = QPen(pen)
                dotted.setStyle(Qt.PenStyle.DotLine)
                painter.setPen(dotted)
                painter.drawLine(to_widget(*a), to_widget(*b))
                painter.setPen(pen)


def paint_draft(
    painter: QPainter, kind: Kind, points: Sequence[tuple[float, float]], to_widget: ToWidget,
    color: QColor,
) -> None:  # fmt: skip
    """The shape being drawn (any number of image points so far), as a thin dashed outline."""
    pen = QPen(color, 1.5)
    pen.setCosmetic(True)
    pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    paint_primitives(painter, shape(kind).draft_primitives(points), to_widget)
    _handles(painter, _mapped(points, to_widget))


def cobb_line(a: QPointF, b: QPointF) -> tuple[QPointF, QPointF]:
    """A Cobb endplate line from ``a`` to ``b`` (screen px) run past both ends by
    :data:`COBB_OVERHANG` of its length (at least :data:`COBB_OVERHANG_PX`)."""
    dx, dy = b.x() - a.x(), b.y() - a.y()
    length = math.hypot(dx, dy)
    if length == 0:
        return a, b
    over = max(COBB_OVERHANG * length, COBB_OVERHANG_PX) / length
    return (
        QPointF(a.x() - dx * over, a.y() - dy * over),
        QPointF(b.x() + dx * over, b.y() + dy * over),
    )


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


def anchor_rect(spec: ShapeSpec, pts: Sequence[QPointF]) -> Rect:
    """The screen rectangle a label of this shape sits beside: its spec's anchor point (the
    cross of a point, the tail of an arrow, the vertex of an angle), else the shape's
    bounding box."""
    if spec.label_anchor is not None:
        index, half = spec.label_anchor
        p = pts[index]
        return Rect(p.x() - half, p.y() - half, 2 * half, 2 * half)
    return Rect.around([(p.x(), p.y()) for p in pts])


# -- labels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """A label waiting for its place: its lines, colour, the anatomy it names, the layer
    opacity it was drawn with, its rank (0 first: the selected annotation, 1 levels, 2 the
    rest), and how it merges with identical ones (``merge`` None: never)."""

    lines: tuple[str, ...]
    color: QColor
    anchor: Rect
    opacity: float = 1.0
    rank: int = 2
    title: str = ""
    score: float | None = None
    proposed: bool = False
    badge: bool = False
    merge: Hashable | None = None
    side: str = "right"


def text_px(painter: QPainter) -> int:
    """The overlay text height for the screen ``painter`` draws on (DPI-scaled)."""
    device = painter.device()
    dpi = device.logicalDpiY() if device is not None else 96
    return theme.overlay_text_px(dpi)


@cache
def font_metrics(px: int, bold: bool = False) -> QFontMetricsF:
    return QFontMetricsF(theme.overlay_font(px, bold))


_PIXMAPS: dict[tuple[object, ...], QPixmap] = {}


def label_pixmap(
    lines: Sequence[str],
    color: QColor,
    px: int,
    ratio: float,
    badge: bool = False,
    max_width: float | None = None,
) -> QPixmap:
    """A label rendered once: a dark rounded backing box, the "!" badge of a mark that needs
    review, and the lines in ``color`` with a dark halo; lines elided to ``max_width`` (the
    box included). Cached by its looks."""
    key = (tuple(lines), color.rgba(), px, ratio, badge, max_width)
    cached = _PIXMAPS.get(key)
    if cached is not None:
        return cached
    fm = font_metrics(px)
    step = fm.height()
    badge_w = BADGE_PX + 3.0 if badge else 0.0
    if max_width is not None:
        room = max(1.0, max_width - badge_w - 2 * PAD_X)
        lines = [fm.elidedText(line, Qt.TextElideMode.ElideRight, room) for line in lines]
    width = math.ceil(max(fm.horizontalAdvance(line) for line in lines) + badge_w + 2 * PAD_X)
    height = math.ceil(step * len(lines) + 2 * PAD_Y)
    pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(Qt.PenStyle.NoPen)
    backing = QColor(BACKDROP)
    backing.setAlpha(round(BACKDROP.alpha() * color.alphaF()))  # a rejected mark stays dim
    p.setBrush(backing)
    p.drawRoundedRect(QRectF(0, 0, width, height), 3, 3)
    if badge:
        paint_badge(p, QPointF(PAD_X, PAD_Y + (step - BADGE_PX) / 2))
    draw_halo_text(p, QPointF(PAD_X + badge_w, PAD_Y + fm.ascent()), lines, color, px, step)
    p.end()
    if len(_PIXMAPS) >= CACHE_SIZE:
        _PIXMAPS.clear()
    _PIXMAPS[key] = pixmap
    return pixmap


def draw_halo_text(
    painter: QPainter,
    baseline: QPointF,
    lines: Sequence[str],
    color: QColor,
    px: int,
    step: float | None = None,
    bold: bool = False,
) -> None:
    """Lines in ``color`` ringed by a one-pixel dark halo (the text drawn dark at the eight
    neighbouring offsets first), the first line's baseline at ``baseline``."""
    painter.setFont(theme.overlay_font(px, bold))
    step = step if step is not None else font_metrics(px, bold).height()
    halo = QColor(HALO)
    halo.setAlpha(round(230 * color.alphaF()))
    offsets = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
    for i, line in enumerate(lines):
        x, y = baseline.x(), baseline.y() + i * step
        painter.setPen(halo)
        for dx, dy in offsets:
            painter.drawText(QPointF(x + dx, y + dy), line)
        painter.setPen(color)
        painter.drawText(QPointF(x, y), line)


def paint_label_now(painter: QPainter, label: Label) -> None:
    """Draw ``label`` at its first candidate place (no board: nothing to avoid)."""
    px, ratio = text_px(painter), painter.device().devicePixelRatioF()
    pixmap = label_pixmap(label.lines, label.color, px, ratio, label.badge)
    box = LabelBox(label.anchor, pixmap.width() / ratio, pixmap.height() / ratio, label.side)
    rect = candidates(box)[0]
    painter.drawPixmap(QPointF(rect.x, rect.y), pixmap)


def paint_text(
    painter: QPainter,
    anchor: QPointF,
    lines: Sequence[str],
    color: QColor,
    backdrop: bool = True,
) -> None:
    """Lines of text with their halo on a backing box, the box's top left at ``anchor``
    (``backdrop`` is kept for callers: every label has its box now)."""
    px, ratio = text_px(painter), painter.device().devicePixelRatioF()
    painter.drawPixmap(anchor, label_pixmap(lines, color, px, ratio))


@dataclass(frozen=True)
class PlacedLabel:
    """A label as the last frame drew it (what tests and screenshots check)."""

    lines: tuple[str, ...]
    rect: Rect
    leader: tuple[tuple[float, float], tuple[float, float]] | None
    members: int


class LabelBoard:
    """The labels of one viewport's frame, placed together after every shape is painted.

    Painters :meth:`add` labels (and :meth:`block` areas already covered by text) while the
    frame is drawn; :meth:`paint`, the last of the viewport's overlays, merges identical
    labels, places them all (:func:`~spineviewer.viewing.label_layout.place_labels`) and draws
    them, leader lines under the labels. :attr:`placed` keeps what was drawn.
    """

    def __init__(self) -> None:
        self._labels: list[Label] = []
        self._blocked: list[Rect] = []
        self._frame: object = None
        self.placed: list[PlacedLabel] = []

    def _begin(self, viewport: object) -> None:
        frame = getattr(viewport, "frames_painted", None)
        if frame != self._frame:  # anything left from an interrupted frame is stale
            self._labels.clear()
            self._blocked.clear()
            self._frame = frame

    def add(self, viewport: object, label: Label) -> None:
        self._begin(viewport)
        self._labels.append(label)

    def block(self, viewport: object, rect: Rect) -> None:
        """Keep labels off ``rect`` this frame (text drawn there already)."""
        self._begin(viewport)
        self._blocked.append(rect)

    def paint(self, viewport: object, painter: QPainter) -> None:
        """Merge, place and draw this frame's labels (a viewport overlay)."""
        self._begin(viewport)
        labels, blocked = self._merged(self._labels), list(self._blocked)
        self._labels.clear()
        self._blocked.clear()
        self._frame = None
        self.placed = []
        self._keep_last(viewport)
        device = painter.device()
        w, h = device.width(), device.height()
        bounds = Rect(EDGE_PX, EDGE_PX, w - 2 * EDGE_PX, h - 2 * EDGE_PX)
        view = Rect(0, 0, w, h)
        # anatomy out of view has no label; anatomy partly in view is named by its visible part
        labels = [
            (replace(lb, anchor=_clipped(lb.anchor, view)), n)
            for lb, n in labels
            if lb.anchor.overlaps(view)
        ]
        if not labels:
            return
        px, ratio = text_px(painter), device.devicePixelRatioF()
        order = sorted(range(len(labels)), key=lambda i: (labels[i][0].rank, i))
        labels = [labels[i] for i in order]
        pixmaps = []
        for lb, _ in labels:
            pixmap = label_pixmap(lb.lines, lb.color, px, ratio, lb.badge)
            if pixmap.width() / ratio > bounds.w:  # wider than the view: elided to fit
                pixmap = label_pixmap(lb.lines, lb.color, px, ratio, lb.badge, bounds.w)
            pixmaps.append(pixmap)
        boxes = [
            LabelBox(lb.anchor, pm.width() / ratio, pm.height() / ratio, lb.side)
            for (lb, _), pm in zip(labels, pixmaps, strict=True)
        ]
        blocked += _overlay_text(viewport, w, h, px)
        placements = place_labels(boxes, bounds, blocked)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for (label, _), placement in zip(labels, placements, strict=True):
            if placement.leader is not None:
                painter.setOpacity(label.opacity)
                _leader(painter, placement.leader, label.color)
        for (label, members), placement, pixmap in zip(labels, placements, pixmaps, strict=True):
            painter.setOpacity(label.opacity)
            painter.drawPixmap(QPointF(placement.rect.x, placement.rect.y), pixmap)
            self.placed.append(PlacedLabel(label.lines, placement.rect, placement.leader, members))
        painter.restore()

    @staticmethod
    def _merged(labels: Sequence[Label]) -> list[tuple[Label, int]]:
        """Identical labels as one, with how many it stands for."""
        out = []
        for group in group_identical([lb.merge for lb in labels]):
            first = labels[group[0]]
            if first.merge is None:
                out.append((first, 1))
                continue
            members = [labels[i] for i in group]
            anchor = members[0].anchor
            for m in members[1:]:
                anchor = anchor.union(m.anchor)
            text = merged_text(
                first.title, len(members), [m.score for m in members], first.proposed
            )
            merged = Label(
                lines=(text,),
                color=first.color,
                anchor=anchor,
                opacity=max(m.opacity for m in members),
                rank=min(m.rank for m in members),
                title=first.title,
                badge=first.badge,
                side=first.side,
            )
            out.append((merged, len(members)))
        return out

    def _keep_last(self, viewport: object) -> None:
        """Stay the last overlay (labels added by a later one would wait a frame): an overlay
        appended after the board moves the board behind it, outside the paint."""
        overlays = getattr(viewport, "overlays", None)
        if isinstance(overlays, list) and overlays and overlays[-1] != self.paint:

            def move() -> None:
                if self.paint in overlays:
                    overlays.remove(self.paint)
                    overlays.append(self.paint)
                    update = getattr(viewport, "repaint_overlays", None)
                    if callable(update):
                        update()

            QTimer.singleShot(0, move)


def _clipped(rect: Rect, view: Rect) -> Rect:
    x0, y0 = max(rect.x, view.x), max(rect.y, view.y)
    x1, y1 = min(rect.right, view.right), min(rect.bottom, view.bottom)
    return Rect(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


_BOARDS: weakref.WeakKeyDictionary[object, LabelBoard] = weakref.WeakKeyDictionary()


def board_for(viewport: object) -> LabelBoard:
    """The label board of ``viewport`` (an ``ImageViewport``), installed as its last overlay
    the first time it is asked for."""
    board = _BOARDS.get(viewport)
    if board is None:
        board = _BOARDS[viewport] = LabelBoard()
        overlays = getattr(viewport, "overlays", None)
        if isinstance(overlays, list):
            overlays.append(board.paint)
    return board


def _overlay_text(viewport: object, width: int, height: int, px: int) -> list[Rect]:
    """Where the viewport's corner text, orientation letters and scale bar will be drawn
    (after the labels)."""
    if not getattr(viewport, "show_corner_text", False):
        return []
    corner_text = getattr(viewport, "corner_text", None)
    edge_letters = getattr(viewport, "edge_letters", None)
    text = corner_text() if callable(corner_text) else None
    edges = edge_letters() if callable(edge_letters) else {}
    return reserved_rects(width, height, text, edges, px)


def _leader(painter: QPainter, line: tuple[tuple[float, float], tuple[float, float]],
            color: QColor) -> None:  # fmt: skip
    a, b = QPointF(*line[0]), QPointF(*line[1])
    for pen in (QPen(SHADOW, 3.0), QPen(color, 1.2)):
        painter.setPen(pen)
        painter.drawLine(a, b)
    painter.setPen(QPen(SHADOW, 1.0))
    painter.setBrush(QBrush(color))
    painter.drawEllipse(a, 2.5, 2.5)
    painter.setBrush(Qt.BrushStyle.NoBrush)
