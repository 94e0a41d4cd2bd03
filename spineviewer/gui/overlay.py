"""Painting the viewport's screen-space overlay: corner text, orientation letters, scale bar.

Drawn in viewport pixels on top of the scene (``QGraphicsView.drawForeground``) so the text
stays crisp and the same size at any zoom, and costs no scene items.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap

from spineviewer.viewing.corners import CornerText

TEXT_COLOR = QColor("#e6e1c5")
LETTER_COLOR = QColor("#f2c14e")
SHADOW_COLOR = QColor(0, 0, 0, 220)
ERROR_COLOR = QColor("#ff6b6b")
MARGIN = 6
#: Scale bar lengths tried, in mm: the longest that fits a fifth of the viewport wins.
NICE_LENGTHS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
#: Height of the scale bar's end ticks, px.
BAR_TICK = 6


def _font(size: int, bold: bool = False) -> QFont:
    font = QFont("DejaVu Sans", size)
    font.setBold(bold)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    return font


class OverlayPainter:
    """Draws into a QPainter already reset to viewport pixels; caches rendered text blocks."""

    def __init__(self) -> None:
        self.font = _font(9)
        self.letter_font = _font(12, bold=True)
        self.metrics = QFontMetrics(self.font)
        self.letter_metrics = QFontMetrics(self.letter_font)
        self._cache: dict[tuple[object, ...], QPixmap] = {}

    def _text(self, painter: QPainter, x: float, y: float, text: str, color: QColor) -> None:
        painter.setPen(SHADOW_COLOR)
        painter.drawText(QPointF(x + 1, y + 1), text)
        painter.setPen(color)
        painter.drawText(QPointF(x, y), text)

    def _block(
        self,
        painter: QPainter,
        rect: QRect,
        lines: Sequence[str],
        right: bool,
        bottom: bool,
    ) -> None:
        if not lines:
            return
        room = int(rect.width() * 0.4)  # corners never run into each other or the letters
        ratio = painter.device().devicePixelRatioF()
        pixmap = self._block_pixmap(tuple(lines), right, room, ratio)
        w, h = pixmap.width() / ratio, pixmap.height() / ratio
        x = rect.right() - MARGIN - w if right else rect.left() + MARGIN
        y = rect.bottom() - MARGIN - h if bottom else rect.top() + MARGIN
        painter.drawPixmap(QPointF(x, y), pixmap)

    def _block_pixmap(
        self, lines: tuple[str, ...], right: bool, room: int, ratio: float
    ) -> QPixmap:
        """A corner block as one pixmap, composed from cached lines; cached itself, so
        scrolling back and forth repaints each corner with a single pixmap draw."""
        key = ("block", lines, right, room, ratio)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        parts = [self._line_pixmap(text, room, ratio) for text in lines]
        step = self.metrics.height()
        width = max(p.width() for p in parts) / ratio
        pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(step * len(parts) * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        for i, part in enumerate(parts):
            x = width - part.width() / ratio if right else 0.0
            p.drawPixmap(QPointF(x, i * step), part)
        p.end()
        self._remember(key, pixmap)
        return pixmap

    def _remember(self, key: tuple[object, ...], pixmap: QPixmap) -> None:
        if len(self._cache) > 1024:
            self._cache.clear()
        self._cache[key] = pixmap

    def _line_pixmap(self, text: str, room: int, ratio: float, letter: bool = False) -> QPixmap:
        """One line rendered once (elided, with shadow); reused while it does not change."""
        key = ("line", text, room, ratio, letter)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        font, fm = (self.letter_font, self.letter_metrics) if letter else (self.font, self.metrics)
        shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, room)
        width = fm.horizontalAdvance(shown) + 2
        height = fm.height() + 1
        pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setFont(font)
        self._text(p, 0, fm.ascent(), shown, LETTER_COLOR if letter else TEXT_COLOR)
        p.end()
        self._remember(key, pixmap)
        return pixmap

    def corners(self, painter: QPainter, rect: QRect, text: CornerText) -> None:
        """The four corner blocks."""
        painter.setFont(self.font)
        self._block(painter, rect, text.top_left, right=False, bottom=False)
        self._block(painter, rect, text.top_right, right=True, bottom=False)
        self._block(painter, rect, text.bottom_left, right=False, bottom=True)
        self._block(painter, rect, text.bottom_right, right=True, bottom=True)

    def message(self, painter: QPainter, rect: QRect, lines: Sequence[str]) -> None:
        """Centred lines (errors, 'drop a series here')."""
        painter.setFont(self.font)
        step = self.metrics.height()
        y0 = rect.center().y() - step * len(lines) / 2 + self.metrics.ascent()
        for i, line in enumerate(lines):
            x = rect.center().x() - self.metrics.horizontalAdvance(line) / 2
            color = ERROR_COLOR if line.startswith("Cannot") else TEXT_COLOR
            self._text(painter, x, y0 + i * step, line, color)

    def letters(self, painter: QPainter, rect: QRect, edges: dict[str, str]) -> None:
        """Orientation letters at the middle of each edge."""
        ratio = painter.device().devicePixelRatioF()
        cx, cy = rect.center().x(), rect.center().y()
        for edge, letters in edges.items():
            if not letters:
                continue
            pixmap = self._line_pixmap(letters, rect.width(), ratio, letter=True)
            w, h = pixmap.width() / ratio, pixmap.height() / ratio
            if edge == "left":
                x, y = rect.left() + MARGIN, cy - h / 2
            elif edge == "right":
                x, y = rect.right() - MARGIN - w, cy - h / 2
            elif edge == "top":
                x, y = cx - w / 2, rect.top() + MARGIN
            else:
                x, y = cx - w / 2, rect.bottom() - MARGIN - h
            painter.drawPixmap(QPointF(x, y), pixmap)

    def scale_bar(self, painter: QPainter, rect: QRect, mm_per_px: float, unit: str) -> None:
        """A bar of a round length near the bottom centre, labelled in ``unit``."""
        if not mm_per_px > 0:
            return
        limit = rect.width() / 5.0
        length = max((n for n in NICE_LENGTHS if n / mm_per_px <= limit), default=0)
        if length == 0:
            return
        ratio = painter.device().devicePixelRatioF()
        px = round(length / mm_per_px)  # whole pixels: zooming rebuilds it only per pixel
        pixmap = self._bar_pixmap(px, f"{length} {unit}", ratio)
        w = pixmap.width() / ratio
        # Above the bottom orientation letter, label under the bar.
        y = rect.bottom() - MARGIN - self.letter_metrics.height() - self.metrics.height() - 8
        painter.drawPixmap(QPointF(rect.center().x() - w / 2, y - BAR_TICK), pixmap)

    def _bar_pixmap(self, px: int, label: str, ratio: float) -> QPixmap:
        """The bar with its ticks and label, rendered once per length in pixels."""
        key = ("bar", px, label, ratio)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        label_w = self.metrics.horizontalAdvance(label)
        width = max(px, label_w) + 4
        height = BAR_TICK + self.metrics.height() + 5
        pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        x0, y = (width - px) / 2, float(BAR_TICK)
        for pen in (QPen(SHADOW_COLOR, 3), QPen(TEXT_COLOR, 1)):
            p.setPen(pen)
            p.drawLine(QPointF(x0, y), QPointF(x0 + px, y))
            for x, tick in ((x0, BAR_TICK), (x0 + px / 2, BAR_TICK / 2), (x0 + px, BAR_TICK)):
                p.drawLine(QPointF(x, y - tick), QPointF(x, y))
        p.setFont(self.font)
        self._text(p, (width - label_w) / 2, y + self.metrics.ascent() + 3, label, TEXT_COLOR)
        p.end()
        self._remember(key, pixmap)
        return pixmap

    def border(self, painter: QPainter, rect: QRect, color: QColor, width: int) -> None:
        """A frame around the viewport (the active one is highlighted).

        Four filled strips: much cheaper than stroking a rectangle on every frame.
        """
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        for strip in (
            QRect(x, y, w, width),
            QRect(x, y + h - width, w, width),
            QRect(x, y, width, h),
            QRect(x + w - width, y, width, h),
        ):
            painter.fillRect(strip, color)
