"""Vertebra labels beyond the image they were placed on: on every slice that cuts the body, and
the level of the axial slices.

Only paints: which labels a slice shows and which level an axial slice is at come from the
Qt-free :mod:`spineviewer.annotations.level_marks` (DICOM geometry, the frame of reference).
On a slice along the column a labelled body shows as a small diamond with its label (the
annotation itself is drawn on its own image as usual); an axial slice gets its level at the
top centre ("Level L4-L5"). A shift of the labels renames both at once. Drawn with the
"Vertebrae" layer (its visibility and opacity) and hidden with the annotations (Shift+I).
The diamonds' labels join the viewport's label board (placed with the frame's other labels,
never on top of them); the level text keeps them off its box.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF

from spineviewer.annotations.annotation import NEEDS_REVIEW
from spineviewer.annotations.level_marks import (
    BodyMark,
    MarkOnPlane,
    PlaneLevel,
    body_marks,
    marks_on_plane,
    plane_level,
)
from spineviewer.gui import theme
from spineviewer.gui.annotate.controller import AnnotationController
from spineviewer.gui.annotate.drawing import SHADOW, Label, board_for, font_metrics, text_px
from spineviewer.gui.annotate.layers import LayerStyles
from spineviewer.gui.annotate.review_style import REVIEW_COLOR, suffix
from spineviewer.gui.overlay import LETTER_EXTRA_PX, halo_text
from spineviewer.gui.viewport import ImageViewport
from spineviewer.viewing.label_layout import Rect

__all__ = ["LevelOverlay", "level_text"]

LAYER = "Vertebrae"
#: Half the size of a propagated label's diamond, screen pixels.
DIAMOND_PX = 4.0
#: The viewport's margin around its corner text (gui/overlay.py).
MARGIN_PX = 6
LEVEL_TEXT_COLOR = QColor("#ffffff")


#: The level text is this many pixels taller than the overlay text.
LEVEL_EXTRA_PX = 2


def _top(vp: ImageViewport, px: int) -> float:
    """Where the level text starts: under the top letter, and under the top corner text
    blocks (a narrow viewport has them meet in the middle)."""
    letter = font_metrics(px + LETTER_EXTRA_PX, True).height()
    corner = font_metrics(px).height()
    text = vp.corner_text() if vp.show_corner_text else None
    lines = max(len(text.top_left), len(text.top_right)) if text is not None else 0
    return MARGIN_PX + max(letter, lines * corner) + 6


def level_text(level: PlaneLevel) -> str:
    """ "Level L4-L5 · disc 1.2 mm", "Level L4 (review) · body 9.8 mm": the level, its review
    suffix, and how far the slice is from the disc or body centre."""
    where = "disc" if level.kind == "disc" else "body"
    return f"Level {level.level}{suffix(level.review)} · {where} {level.distance_mm:.1f} mm"


class LevelOverlay:
    """Paints the propagated labels and the axial level text (a viewport overlay)."""

    def __init__(self, controller: AnnotationController, layers: LayerStyles) -> None:
        self.controller = controller
        self.layers = layers
        self._cache: dict[tuple[str, str], tuple[BodyMark, ...]] = {}
        controller.changed.connect(self._cache.clear)

    def marks_for(self, frame_of_reference_uid: str, series_uid: str) -> tuple[BodyMark, ...]:
        """The labelled bodies of a frame of reference, from every open study (cached until
        the next change)."""
        key = (frame_of_reference_uid, series_uid)
        marks = self._cache.get(key)
        if marks is None:
            every = itertools.chain.from_iterable(
                s.document for s in self.controller.sessions.values()
            )
            marks = body_marks(every, frame_of_reference_uid, series_uid)
            self._cache[key] = marks
        return marks

    def _marks_of(self, vp: ImageViewport) -> tuple[BodyMark, ...]:
        info, source = vp.info, vp.source
        if info is None or info.plane is None or source is None or not self.controller.visible:
            return ()
        if info.frame is not None:
            inst = info.frame.instance
            return self.marks_for(inst.frame_of_reference_uid, inst.series_uid)
        frame_of_reference = str(getattr(source, "frame_of_reference_uid", "") or "")
        return self.marks_for(frame_of_reference, source.series_uid) if frame_of_reference else ()

    def level_of(self, vp: ImageViewport) -> PlaneLevel | None:
        """The level of the slice shown in ``vp`` (None along the column or off the labels)."""
        marks = self._marks_of(vp)
        return plane_level(marks, vp.info.plane) if marks and vp.info and vp.info.plane else None

    def labels_on(self, vp: ImageViewport) -> list[MarkOnPlane]:
        """The bodies the slice in ``vp`` cuts whose annotation is drawn on another image."""
        marks = self._marks_of(vp)
        info = vp.info
        if not marks or info is None or info.plane is None:
            return []
        here = (info.frame.instance.sop_instance_uid, info.frame.index + 1) if info.frame else None
        return [m for m in marks_on_plane(marks, info.plane) if here not in m.mark.frames]

    # -- painting --------------------------------------------------------------------------

    def paint(self, vp: ImageViewport, painter: QPainter) -> None:
        opacity = self.layers.opacity(LAYER)
        if opacity <= 0:
            return
        level = self.level_of(vp)
        shown = [] if level is not None else self.labels_on(vp)
        if level is None and not shown:
            return
        painter.save()
        painter.setOpacity(opacity)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if level is not None:
            self._paint_level(vp, painter, level)
        board = board_for(vp)
        for item in shown:
            mark = item.mark
            color = REVIEW_COLOR if mark.review == NEEDS_REVIEW else _level_color(mark.label)
            at = vp.image_to_widget(item.row, item.col)
            _diamond(painter, at, color)
            d = DIAMOND_PX + 2
            board.add(
                vp,
                Label(
                    lines=(mark.label + suffix(mark.review),),
                    color=color,
                    anchor=Rect(at.x() - d, at.y() - d, 2 * d, 2 * d),
                    opacity=opacity,
                    rank=1,
                ),
            )
        painter.restore()

    def _paint_level(self, vp: ImageViewport, painter: QPainter, level: PlaneLevel) -> None:
        text = level_text(level)
        base = text_px(painter)
        px = base + LEVEL_EXTRA_PX
        metrics = font_metrics(px, True)
        area = vp.viewport().rect()
        width = metrics.horizontalAdvance(text) + 20
        height = metrics.height() + 6
        box = QRectF(area.center().x() - width / 2, area.top() + _top(vp, base), width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(0, 0, 0, round(255 * theme.LABEL_BACKING_ALPHA))))
        painter.drawRoundedRect(box, 4, 4)
        color = REVIEW_COLOR if level.review == NEEDS_REVIEW else LEVEL_TEXT_COLOR
        painter.fillRect(QRectF(box.left() + 4, box.top() + 4, 3, height - 8),
                         _level_color(level.level))  # fmt: skip
        painter.setFont(theme.overlay_font(px, bold=True))
        baseline = box.top() + (height - metrics.height()) / 2 + metrics.ascent()
        halo_text(painter, box.left() + 12, baseline, text, color)
        board_for(vp).block(vp, Rect(box.x(), box.y(), box.width(), box.height()))


def _level_color(label: str) -> QColor:
    """A level's colour in the theme's level scheme."""
    return QColor(theme.label_color(label) or theme.VERTEBRA_COLORS[0])


def _diamond(painter: QPainter, at: QPointF, color: QColor) -> None:
    d = DIAMOND_PX
    shape = QPolygonF(
        [QPointF(at.x(), at.y() - d), QPointF(at.x() + d, at.y()),
         QPointF(at.x(), at.y() + d), QPointF(at.x() - d, at.y())]
    )  # fmt: skip
    painter.setPen(QPen(SHADOW, 1.0))
    painter.setBrush(QBrush(color))
    painter.drawPolygon(shape)
    painter.setBrush(Qt.BrushStyle.NoBrush)
