"""Painting the viewport's screen-space overlay: corner text, orientation letters, scale bar.

Drawn in viewport pixels on top of the scene (``QGraphicsView.drawForeground``) so the text
stays crisp and the same size at any zoom, and costs no scene items. The text is at least
:func:`~spineviewer.gui.theme.overlay_text_px` high for the screen's DPI (13 px at 96 dpi) and
ringed by a one-pixel dark halo, so it reads on white bone as on the black background.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap

from spineviewer.gui import theme
from spineviewer.viewing.corners import CornerText
from spineviewer.viewing.label_layout import Rect

TEXT_COLOR = QColor(theme.OVERLAY_TEXT_COLOR)
LETTER_COLOR = QColor("#f2c14e")
SHADOW_COLOR = QColor(0, 0, 0, 220)
HALO_COLOR = QColor(0, 0, 0, 230)
ERROR_COLOR = QColor("#ff6b6b")
MARGIN = 6
#: Scale bar lengths tried, in mm: the longest that fits a fifth of the viewport wins.
NICE_LENGTHS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
#: Height of the scale bar's end ticks, px.
BAR_TICK = 6
#: The orientation letters are this many pixels taller than the corner text.
LETTER_EXTRA_PX = 3
#: The eight one-pixel offsets the dark halo is drawn at.
HALO_OFFSETS = tuple((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy)


class Fonts:
    """The corner text and letter fonts (and metrics) at one text height."""

    def __init__(self, px: int) -> None:
        self.px = px
        self.font = theme.overlay_font(px)
        self.letter_font = theme.overlay_font(px + LETTER_EXTRA_PX, bold=True)
        self.metrics = QFontMetrics(self.font)
        self.letter_metrics = QFontMetrics(self.letter_font)


_FONTS: dict[int, Fonts] = {}


def fonts_for(px: int) -> Fonts:
    """The overlay fonts at ``px`` pixels (made once per size)."""
    fonts = _FONTS.get(px)
    if fonts is None:
        fonts = _FONTS[px] = Fonts(px)
    return fonts


def painter_px(painter: QPainter) -> int:
    """The overlay text height for the screen ``painter`` draws on (DPI-scaled)."""
    device = painter.device()
    return theme.overlay_text_px(device.logicalDpiY() if device is not None else 96)


def corner_rects(width: int, height: int, text: CornerText, px: int) -> list[Rect]:
    """Where the four corner blocks of ``text`` go in a ``width`` x ``height`` viewport at
    ``px`` text height (what :meth:`OverlayPainter.corners` draws; labels keep off them)."""
    fm = fonts_for(px).metrics
    room = int(width * 0.4)
    out = []
    for lines, right, bottom in (
        (text.top_left, False, False),
        (text.top_right, True, False),
        (text.bottom_left, False, True),
        (text.bottom_right, True, True),
    ):
        if not lines:
            continue
        w = min(max(fm.horizontalAdvance(line) for line in lines), room) + 4
        h = fm.height() * len(lines) + 2
        x = width - 1 - MARGIN - w if right else MARGIN
        y = height - 1 - MARGIN - h if bottom else MARGIN
        out.append(Rect(x, y, w, h))
    return out


def reserved_rects(
    width: int, height: int, text: CornerText | None, edges: dict[str, str], px: int
) -> list[Rect]:
    """Everything the overlay draws over a ``width`` x ``height`` viewport at ``px`` text
    height: the corner blocks, the orientation letters and the scale bar (labels keep off)."""
    out = corner_rects(width, height, text, px) if text is not None else []
    fonts = fonts_for(px)
    lm = fonts.letter_metrics
    cx, cy = width / 2, height / 2
    for edge, letters in edges.items():
        if not letters:
            continue
        w, h = lm.horizontalAdvance(letters) + 4, lm.height() + 2
        if edge == "left":
            out.append(Rect(MARGIN - 1, cy - h / 2, w, h))
        elif edge == "right":
            out.append(Rect(width - MARGIN - w, cy - h / 2, w, h))
        elif edge == "top":
            out.append(Rect(cx - w / 2, MARGIN - 1, w, h))
        else:
            out.append(Rect(cx - w / 2, height - MARGIN - h, w, h))
    # the scale bar (at most a fifth of the width) and its label, above the bottom letter
    bar_top = height - MARGIN - lm.height() - fonts.metrics.height() - 8 - BAR_TICK - 2
    half = width / 10 + 8
    out.append(Rect(cx - half, bar_top, 2 * half, height - MARGIN - bar_top))
    return out


def halo_text(painter: QPainter, x: float, y: float, text: str, color: QColor) -> None:
    """``text`` in ``color`` with a one-pixel dark halo all round (legible on white bone as
    on the black background), its baseline at (x, y)."""
    painter.setPen(HALO_COLOR)
    for dx, dy in HALO_OFFSETS:
        painter.drawText(QPointF(x + dx, y + dy), text)
    painter.setPen(color)
    painter.drawText(QPointF(x, y), text)


class OverlayPainter:
    """Draws into a QPainter already reset to viewport pixels; caches rendered text blocks.

    Text is at least :func:`~spineviewer.gui.theme.overlay_text_px` high for the screen's DPI
    and ringed by a dark halo."""

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], QPixmap] = {}
        self.fonts = fonts_for(theme.MIN_TEXT_PX_AT_96_DPI)

    @property
    def font(self) -> QFont:
        return self.fonts.font

    @property
    def metrics(self) -> QFontMetrics:
        return self.fonts.metrics

    @property
    def letter_font(self) -> QFont:
        return self.fonts.letter_font

    @property
    def letter_metrics(self) -> QFontMetrics:
        return self.fonts.letter_metrics

    def _use(self, painter: QPainter) -> None:
        """Take the fonts for the screen ``painter`` draws on."""
        px = painter_px(painter)
        if px != self.fonts.px:
            self.fonts = fonts_for(px)

    def _text(self, painter: QPainter, x: float, y: float, text: str, color: QColor) -> None:
        halo_text(painter, x, y, text, color)

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
        key = ("block", lines, right, room, ratio, self.fonts.px)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        parts = [self._line_pixmap(text, room, ratio) for text in lines]
        step = self.metrics.height()
        width = max(p.width() for p in parts) / ratio
        height = step * len(parts) + 2
        pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
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
        """One line rendered once (elided, with its halo); reused while it does not change."""
        key = ("line", text, room, ratio, letter, self.fonts.px)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        font, fm = (self.letter_font, self.letter_metrics) if letter else (self.font, self.metrics)
        shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, room)
        width = fm.horizontalAdvance(shown) + 2
        height = fm.height() + 2  # the halo a pixel above and below
        pixmap = QPixmap(max(1, round(width * ratio)), max(1, round(height * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setFont(font)
        self._text(p, 1, fm.ascent() + 1, shown, LETTER_COLOR if letter else TEXT_COLOR)
        p.end()
        self._remember(key, pixmap)
        return pixmap

    def corners(self, painter: QPainter, rect: QRect, text: CornerText) -> None:
        """The four corner blocks."""
        self._use(painter)
        painter.setFont(self.font)
        self._block(painter, rect, text.top_left, right=False, bottom=False)
        self._block(painter, rect, text.top_right, right=True, bottom=False)
        self._block(painter, rect, text.bottom_left, right=False, bottom=True)
        self._block(painter, rect, text.bottom_right, right=True, bottom=True)

    def message(self, painter: QPainter, rect: QRect, lines: Sequence[str]) -> None:
        """Centred lines (errors, 'drop a series here')."""
        self._use(painter)
        painter.setFont(self.font)
        step = self.metrics.height()
        y0 = rect.center().y() - step * len(lines) / 2 + self.metrics.ascent()
        for i, line in enumerate(lines):
            x = rect.center().x() - self.metrics.horizontalAdvance(line) / 2
            color = ERROR_COLOR if line.startswith("Cannot") else TEXT_COLOR
            self._text(painter, x, y0 + i * step, line, color)

    def letters(self, painter: QPainter, rect: QRect, edges: dict[str, str]) -> None:
        """Orientation letters at the middle of each edge."""
        self._use(painter)
        ratio = painter.device().devicePixelRatioF()
        cx, cy = float(rect.center().x()), float(rect.center().y())
        for edge, letters in edges.items():
            if not letters:
                continue
            pixmap = self._line_pixmap(letters, rect.width(), ratio, letter=True)
            w, h = pixmap.width() / ratio, pixmap.height() / ratio
            x: float
            y: float
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
        self._use(painter)
        ratio = painter.device().devicePixelRatioF()
        px = round(length / mm_per_px)  # whole pixels: zooming rebuilds it only per pixel
        pixmap = self._bar_pixmap(px, f"{length} {unit}", ratio)
        w = pixmap.width() / ratio
        # Above the bottom orientation letter, label under the bar.
        y = rect.bottom() - MARGIN - self.letter_metrics.height() - self.metrics.height() - 8
        painter.drawPixmap(QPointF(rect.center().x() - w / 2, y - BAR_TICK), pixmap)

    def _bar_pixmap(self, px: int, label: str, ratio: float) -> QPixmap:
        """The bar with its ticks and label, rendered once per length in pixels."""
        key = ("bar", px, label, ratio, self.fonts.px)
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
