"""Cross-reference lines and the 3D cursor of a viewport, as reused scene items.

A mixin of :class:`~spineviewer.gui.viewport.ImageViewport`: it draws the lines the sync
controller hands in (computed by :mod:`spineviewer.viewing.crossref`) in view millimetres,
picks the one under a click, and marks where the 3D cursor projects on this slice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem

from spineviewer.viewing.crossref import CrossRefLine
from spineviewer.viewing.source import SliceInfo
from spineviewer.viewing.viewport_model import ViewportModel

CROSSREF = QColor("#f2c14e")
CROSSREF_DIM = QColor(242, 193, 78, 80)
CURSOR = QColor("#5ce1e6")
#: Screen pixels within which a press picks a cross-reference line (beyond, a left drag is
#: the left-button tool's: 6 px caught W/L drags that began near a line).
PICK_TOLERANCE_PX = 3.0


def segment_distance(p: QPointF, a: QPointF, b: QPointF) -> tuple[float, float]:
    """Distance from ``p`` to segment ab, and where along it (0..1) the nearest point is."""
    ax, ay, bx, by = a.x(), a.y(), b.x(), b.y()
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = (
        0.0
        if length2 == 0
        else max(0.0, min(1.0, ((p.x() - ax) * dx + (p.y() - ay) * dy) / length2))
    )
    return math.hypot(p.x() - (ax + t * dx), p.y() - (ay + t * dy)), t


class ReferenceLines:
    """Cross-reference line items (reused while scrolling) and the 3D cursor cross."""

    # Provided by the viewport this is mixed into (pyqtgraph's ViewBox is untyped).
    vb: Any
    model: ViewportModel
    _info: SliceInfo | None
    image_to_widget: Callable[[float, float], QPointF]
    show_crossref: bool
    _crossrefs: list[tuple[object, CrossRefLine, QGraphicsLineItem]]
    _cursor_items: list[QGraphicsLineItem]

    # -- cross-reference lines and 3D cursor -------------------------------------------

    def clear_crossrefs(self) -> None:
        """Remove every cross-reference line."""
        for _, _, item in self._crossrefs:
            self.vb.removeItem(item)
        self._crossrefs = []

    def set_crossrefs(self, owner: object, lines: Sequence[CrossRefLine]) -> None:
        """Replace the lines drawn for ``owner`` (another viewport) by ``lines``.

        Line items are reused while scrolling (creating scene items per slice is slow).
        """
        spare = [it for o, _, it in self._crossrefs if o is owner]
        self._crossrefs = [(o, ln, it) for o, ln, it in self._crossrefs if o is not owner]
        wanted = list(lines) if self.show_crossref else []
        for line in wanted:
            item = spare.pop() if spare else self._new_line_item()
            style = (CROSSREF, 1.5, 10) if line.current else (CROSSREF_DIM, 1.0, 5)
            if item.data(0) != line.current:
                pen = QPen(style[0], style[1])
                pen.setCosmetic(True)
                item.setPen(pen)
                item.setZValue(style[2])
                item.setData(0, line.current)
            self._crossrefs.append((owner, line, item))
            self._place_line(item, line)
        for item in spare:
            self.vb.removeItem(item)

    def _new_line_item(self) -> QGraphicsLineItem:
        item = QGraphicsLineItem()
        self.vb.addItem(item, ignoreBounds=True)
        return item

    def _place_line(self, item: QGraphicsLineItem, line: CrossRefLine) -> None:
        (r0, c0), (r1, c1) = line.segment.start, line.segment.end
        x0, y0 = self.model.transform.image_to_view(r0, c0)
        x1, y1 = self.model.transform.image_to_view(r1, c1)
        item.setLine(x0, y0, x1, y1)

    def crossref_lines(self, owner: object | None = None) -> list[CrossRefLine]:
        """Lines drawn now (for ``owner`` only when given)."""
        return [ln for o, ln, _ in self._crossrefs if owner is None or o is owner]

    def set_cursor_point(self, point: np.ndarray | None) -> None:
        """Show the 3D cursor where ``point`` projects on this slice (None hides it)."""
        for item in self._cursor_items:
            self.vb.removeItem(item)
        self._cursor_items = []
        if point is None or self._info is None or self._info.plane is None:
            return
        row, col = self._info.plane.to_pixel(point)
        x, y = self.model.transform.image_to_view(float(row), float(col))
        pen = QPen(CURSOR, 1.0)
        pen.setCosmetic(True)
        size = 6.0 * max(self.model.transform.shown_spacing)
        for x0, y0, x1, y1 in ((x - size, y, x + size, y), (x, y - size, x, y + size)):
            item = QGraphicsLineItem(x0, y0, x1, y1)
            item.setPen(pen)
            item.setZValue(20)
            self.vb.addItem(item, ignoreBounds=True)
            self._cursor_items.append(item)

    def _relayout_items(self) -> None:
        for _, line, item in self._crossrefs:
            self._place_line(item, line)

    def _pick_crossref(self, pos: QPointF) -> tuple[object, CrossRefLine] | None:
        best: tuple[float, object, CrossRefLine] | None = None
        for owner, line, _ in self._crossrefs:
            a = self.image_to_widget(*line.segment.start)
            b = self.image_to_widget(*line.segment.end)
            d = segment_distance(pos, a, b)[0]
            if d <= PICK_TOLERANCE_PX and (best is None or d < best[0]):
                best = (d, owner, line)
        return None if best is None else (best[1], best[2])
