"""One image viewport: a slice source drawn with true aspect, overlays, and reading tools.

The viewport only paints and turns input into calls on plain objects: what it shows (source,
slice, window / level, inversion, turn and flip, reading tool) is its
:class:`~spineviewer.viewing.ViewportModel`, which it writes on input and repaints from on its
signals; pixel values and planes come from a :class:`~spineviewer.viewing.SliceSource`, corner
text from
:mod:`spineviewer.viewing.corners`, the on-screen layout from
:class:`~spineviewer.viewing.display_transform.DisplayTransform`. Cross-reference lines are
computed by :mod:`spineviewer.viewing.crossref` and handed in by the sync controller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsLineItem, QWidget

from spineviewer.dicom import DicomLoadError, Window, to_display
from spineviewer.geometry.orientation import edge_letters
from spineviewer.gui.image_item import GreyImageItem
from spineviewer.gui.overlay import OverlayPainter
from spineviewer.gui.reference_lines import ReferenceLines
from spineviewer.viewing.corners import (
    CornerText,
    CursorSample,
    corner_text,
    length_unit,
    sample_cursor,
)
from spineviewer.viewing.crossref import CrossRefLine
from spineviewer.viewing.display_transform import DisplayTransform
from spineviewer.viewing.fit import REFORMAT_MIN_SHOWN, bone_centre, fit_range
from spineviewer.viewing.mpr import MprSource
from spineviewer.viewing.presets import Preset
from spineviewer.viewing.source import SliceInfo, SliceSource
from spineviewer.viewing.viewport_model import TOOLS, ViewportModel, value_range

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

BACKGROUND = "#0b0d10"
ACTIVE_BORDER = QColor("#4f8fcf")
IDLE_BORDER = QColor("#23272e")
GREY_LUT = np.arange(256, dtype=np.uint8)
INVERTED_LUT = GREY_LUT[::-1].copy()


class ViewportTool(Protocol):
    """Something that edits on top of the image (the annotation tools): it sees mouse and key
    events before the viewport's own reading tools, and paints in widget pixels."""

    def mouse_press(self, viewport: ImageViewport, ev: QMouseEvent) -> bool: ...
    def mouse_move(self, viewport: ImageViewport, ev: QMouseEvent) -> bool: ...
    def mouse_release(self, viewport: ImageViewport, ev: QMouseEvent) -> bool: ...
    def mouse_double_click(self, viewport: ImageViewport, ev: QMouseEvent) -> bool: ...
    def key_press(
        self, viewport: ImageViewport, key: int, modifiers: Qt.KeyboardModifier
    ) -> bool: ...
    def paint(self, viewport: ImageViewport, painter: QPainter) -> None: ...


@dataclass
class _Drag:
    button: Qt.MouseButton
    #: "window", "zoom", "pan", or "crossref" (a reference line pressed on: dragging it moves
    #: the viewport it belongs to, ``owner``).
    tool: str
    start: QPointF
    last: QPointF
    window: Window | None
    #: Max - min of the image when the drag began: a full-width W/L drag spans it.
    value_range: float = 256.0
    owner: object = None


class ImageViewport(ReferenceLines, pg.GraphicsView):
    """Shows one slice of a source; scroll, window, zoom, pan, rotate, cine, cross-references."""

    activated = Signal()
    sliceChanged = Signal(int)
    windowChanged = Signal()
    viewChanged = Signal()
    #: Shift+move: a patient point (numpy array, mm) for the 3D cursor.
    cursorMoved = Signal(object)
    #: A cross-reference line was clicked: (the viewport it belongs to, patient point).
    crossrefClicked = Signal(object, object)
    doubleClicked = Signal()
    seriesStepRequested = Signal(int)
    nextViewportRequested = Signal()
    #: I / P pressed: the window toggles the option on every viewport ("corner_text", "phi_free").
    displayOptionToggled = Signal(str)
    #: W, Z or T was pressed here: the window makes that the left-button tool everywhere
    #: (the annotation tools included, which would otherwise keep the left button).
    toolRequested = Signal(str)
    #: A series dragged from the browser was dropped here: the QMimeData.
    mimeDropped = Signal(object)

    #: The view is as :meth:`fit` left it (no zoom or pan since): it refits on resizes (a class
    #: default: pyqtgraph resizes the view while it is being built).
    _fitted = False

    def __init__(self, parent: QWidget | None = None, name: str = "") -> None:
        super().__init__(parent, background=BACKGROUND)
        self.setObjectName(name or "viewport")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.vb = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.0)
        self.vb.setMouseEnabled(False, False)
        self.setCentralItem(self.vb)
        self.image = GreyImageItem()
        self.vb.addItem(self.image)
        self._painter = OverlayPainter()
        #: What this viewport shows and how; it repaints on the model's signals.
        self.model = ViewportModel()
        #: True while a slice loads or the view resets: the model's signals leave the pixels
        #: to that one step instead of redrawing them on each change.
        self._quiet = False
        events = self.model.events
        events.index.connect(self._on_model_index, priority=1)  # before links and sync
        events.window.connect(self._on_model_window, priority=1)
        events.inverted.connect(self._on_model_inverted, priority=1)
        events.transform.connect(self._on_model_transform, priority=1)
        self.study: Mapping[str, str] = {}
        self.active = False
        self.show_corner_text = True
        self.show_crossref = True
        self.phi_free = False
        self.error: str | None = None
        self._image_rect: object = None
        self._letters: tuple[tuple[object, ...], dict[str, str]] | None = None
        #: Paints that showed an image (the bench's "first painted image").
        self.frames_painted = 0
        self._values: np.ndarray | None = None
        self._info: SliceInfo | None = None
        self._cursor: CursorSample | None = None
        self._crossrefs: list[tuple[object, CrossRefLine, QGraphicsLineItem]] = []
        self._cursor_items: list[QGraphicsLineItem] = []
        self._drag: _Drag | None = None
        #: Annotation editing; gets mouse and key events first (None: reading only).
        self.tool_handler: ViewportTool | None = None
        #: Extra painters (viewport, painter) drawn over the image after the tool handler.
        self.overlays: list[Callable[[ImageViewport, QPainter], None]] = []
        #: A series' known-length calibration factor by its UID (None: not calibrated), for
        #: the scale bar and a radiograph's length unit; the annotation tools set it.
        self.calibration_factor: Callable[[str], float | None] = lambda series_uid: None
        self._wheel_rest = 0
        self.cine = QTimer(self)
        self.cine.timeout.connect(self._on_cine_tick)
        self.cine_fps = 10.0
        self.vb.sigRangeChanged.connect(self._on_range_changed)

    # -- content -----------------------------------------------------------------------

    def set_source(
        self,
        source: SliceSource | None,
        study: Mapping[str, str] | None = None,
        index: int | None = None,
    ) -> None:
        """Show ``source`` (None clears the viewport) at ``index`` (default: the middle)."""
        self.stop_cine()
        self.study = dict(study or {})
        self.clear_crossrefs()
        self.set_cursor_point(None)
        if source is None or len(source) == 0:
            self._values = None
            self._info = None
            self.image.clear()
            self.model.set_source(source)
            self.repaint_overlays()
            return
        self.model.set_source(source, index)  # the slice loads on the model's index signal
        self.fit()

    # The model's state, read here as the viewport's own (write it through the model).

    @property
    def source(self) -> SliceSource | None:
        return self.model.source

    @property
    def index(self) -> int:
        return self.model.index

    @property
    def voi_window(self) -> Window | None:
        return self.model.window

    @property
    def presets(self) -> tuple[Preset, ...]:
        return self.model.presets

    @property
    def inverted(self) -> bool:
        return self.model.inverted

    @property
    def transform_(self) -> DisplayTransform:
        return self.model.transform

    @property
    def tool(self) -> str:
        return self.model.tool

    def set_index(self, index: int, force: bool = False) -> None:
        """Show slice ``index`` (clamped); emits ``sliceChanged`` when it changes (``force``:
        reload it even when it does not)."""
        if not self.model.set_index(index) and force and self.model.count:
            self._on_model_index(self.model.index)

    def step(self, delta: int) -> None:
        """Move ``delta`` slices (Up/Down, wheel)."""
        self.model.step(delta)

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Model changes inside leave redrawing the pixels to the caller."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _on_model_index(self, index: int) -> None:
        source = self.model.source
        if source is None:
            return
        with self._quietly():
            self._info = source.info(index)
            try:
                self._values = source.values(index)
                self.error = None
            except (DicomLoadError, OSError, ValueError) as exc:
                self._values = None
                self.error = f"Cannot show image {index + 1}: {exc}"
            if self._values is not None and self.model.window is None:
                self.model.init_window(self._values, self._info)
            self._update_transform()
        self._show_pixels()
        self._refresh_cursor_sample()
        self.sliceChanged.emit(index)
        self.repaint_overlays()

    def _update_transform(self) -> None:
        if self._info is None or self.source is None:
            return
        rows, cols = self._values.shape[:2] if self._values is not None else (1, 1)
        self.model.fit_image(rows, cols, self._info.pixel_spacing or (1.0, 1.0))

    def _on_model_transform(self, new: DisplayTransform, old: DisplayTransform) -> None:
        if self._quiet:  # another image size while a slice loads: its pixels follow
            w, h = new.view_size
            self.image.setRect(0.0, 0.0, w, h)
            self._relayout_items()
            return
        self._show_pixels()
        self._relayout_items()
        if new.matrix != old.matrix:  # turned or flipped: the whole image in view again
            self.fit()
        self.repaint_overlays()

    def _show_pixels(self) -> None:
        if self._values is None or self._info is None:
            self.image.clear()
            return
        shown = self.transform_.apply(self._values)
        frame = self._info.frame
        monochrome1 = self._info.photometric == "MONOCHROME1"
        window = self.voi_window
        if window is None or window.function != "LINEAR" or shown.ndim == 3:
            if frame is not None:
                shown = to_display(shown, frame, window)
                monochrome1 = False  # to_display already inverted MONOCHROME1
            levels: tuple[float, float] = (0.0, 1.0)
        else:
            half = (window.width - 1.0) / 2.0
            levels = (window.center - 0.5 - half, window.center - 0.5 + half)
        lut = INVERTED_LUT if monochrome1 != self.inverted else None
        self.image.setImage(shown, autoLevels=False, levels=levels, lut=lut)
        rect = (shown.shape[:2], self.transform_.view_size)
        if rect != self._image_rect:  # setRect re-lays the scene: only when the size changes
            self._image_rect = rect
            self.image.setRect(0.0, 0.0, *self.transform_.view_size)

    @property
    def values(self) -> np.ndarray | None:
        """The current slice in modality units (before display transforms)."""
        return self._values

    @property
    def info(self) -> SliceInfo | None:
        """Geometry and header facts of the current slice."""
        return self._info

    # -- window / level ----------------------------------------------------------------

    def set_window(self, window: Window | None) -> None:
        """Use ``window`` (None: the image's own VOI)."""
        self.model.set_window(window)

    def _on_model_window(self, _window: Window | None) -> None:
        if self._quiet:
            return
        self._show_pixels()
        self.windowChanged.emit()
        self.repaint_overlays()

    def apply_preset(self, number: int) -> bool:
        """Window preset ``number`` (1-9); False when there is none."""
        return self.model.apply_preset(number)

    def toggle_invert(self) -> None:
        """Swap black and white."""
        self.model.toggle_invert()

    def _on_model_inverted(self, _inverted: bool) -> None:
        if self._quiet:
            return
        self._show_pixels()
        self.repaint_overlays()

    # -- view transform ----------------------------------------------------------------

    def fit(self) -> None:
        """Fit the image to the viewport, centred, aspect kept (:mod:`spineviewer.viewing.fit`):
        the whole image; a reformat zoomed towards filling a pane much taller or wider than
        itself. Until the reader zooms or pans, the fit follows the pane's size."""
        w, h = self.transform_.view_size
        area = self.viewport().rect()
        shown, focus = 1.0, None
        if isinstance(self.source, MprSource):
            shown = REFORMAT_MIN_SHOWN
            bone = (
                bone_centre(self._values, self.source.modality)
                if self._values is not None
                else None
            )
            focus = self.transform_.image_to_view(*bone) if bone is not None else None
        x_range, y_range = fit_range(w, h, area.width(), area.height(), shown, focus)
        self.vb.setRange(xRange=x_range, yRange=y_range, padding=0.0)
        self._fitted = True

    def resizeEvent(self, ev: QResizeEvent) -> None:
        super().resizeEvent(ev)
        if self._fitted and not self.closed and self.source is not None:  # closed: no scene
            self.fit()  # a reformat's fit depends on the pane's shape

    def reset(self) -> None:
        """Undo zoom, pan, rotation, flips, inversion and windowing."""
        with self._quietly():
            self.model.reset(self._values, self._info)
        self._show_pixels()
        self._relayout_items()
        self.fit()
        self.windowChanged.emit()
        self.repaint_overlays()

    def rotate(self, clockwise: bool = True) -> None:
        """Turn the image a quarter."""
        self.model.rotate(clockwise)

    def flip(self, horizontal: bool = True) -> None:
        """Mirror the image on screen."""
        self.model.flip(horizontal)

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom in by ``factor`` (> 1) about a view point (default: the view centre)."""
        centre = at if at is not None else self.vb.viewRect().center()
        self._fitted = False
        self.vb.scaleBy((1.0 / factor, 1.0 / factor), center=centre)

    def pan_by(self, dx_px: float, dy_px: float) -> None:
        """Move the image by screen pixels."""
        sx, sy = self.vb.viewPixelSize()
        self._fitted = False
        self.vb.translateBy(x=-dx_px * sx, y=-dy_px * sy)

    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        px, _ = self.vb.viewPixelSize()
        if not px > 0:
            return 1.0
        return self.transform_.shown_spacing[1] / px

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Current visible (x, y) ranges in view mm."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        return (x0, x1), (y0, y1)

    # -- coordinates -------------------------------------------------------------------

    def widget_to_image(self, pos: QPointF | QPoint) -> tuple[float, float]:
        """Image (row, col) under a viewport-widget position."""
        p = self.vb.mapSceneToView(self.mapToScene(QPoint(int(pos.x()), int(pos.y()))))
        return self.transform_.view_to_image(p.x(), p.y())

    def image_to_widget(self, row: float, col: float) -> QPointF:
        """Viewport-widget position of image (row, col)."""
        x, y = self.transform_.image_to_view(row, col)
        scene = self.vb.mapViewToScene(QPointF(x, y))
        return QPointF(self.mapFromScene(scene))

    def patient_at(self, pos: QPointF | QPoint) -> np.ndarray | None:
        """Patient position (mm) under a widget position, or None without geometry."""
        if self._info is None or self._info.plane is None:
            return None
        row, col = self.widget_to_image(pos)
        return self._info.plane.to_patient(row, col)

    # -- cine --------------------------------------------------------------------------

    def toggle_cine(self) -> None:
        """Start or stop cine."""
        if self.cine.isActive():
            self.stop_cine()
        elif self.source is not None and len(self.source) > 1:
            self.cine.start(round(1000.0 / self.cine_fps))
        self.repaint_overlays()

    def stop_cine(self) -> None:
        """Stop cine."""
        self.cine.stop()

    def set_cine_fps(self, fps: float) -> None:
        """Frames per second (1-60)."""
        self.cine_fps = float(min(60.0, max(1.0, fps)))
        if self.cine.isActive():
            self.cine.setInterval(round(1000.0 / self.cine_fps))
        self.repaint_overlays()

    def _on_cine_tick(self) -> None:
        if self.source is None:
            return
        self.set_index((self.index + 1) % len(self.source))

    # -- painting ----------------------------------------------------------------------

    def corner_text(self) -> CornerText | None:
        """The corner text shown now (None without an image)."""
        if self.source is None or self._info is None:
            return None
        extra: tuple[str, ...] = (f"Cine {self.cine_fps:.0f} fps",) if self.cine.isActive() else ()
        if self.voi_window is None and self._values is not None:
            extra += ("VOI LUT",)
        return corner_text(
            self.study,
            self.source.name,
            self.source.modality,
            self.index,
            len(self.source),
            self._info,
            self.voi_window,
            self.zoom,
            self._cursor,
            self.phi_free,
            extra,
            self._calibration() is not None,
        )

    def _calibration(self) -> float | None:
        """The shown series' known-length calibration factor (None: none)."""
        return self.calibration_factor(self.source.series_uid) if self.source else None

    def edge_letters(self) -> dict[str, str]:
        """Orientation letters on each screen edge (empty without geometry)."""
        directions = self._info.directions if self._info is not None else None
        if directions is None:
            return {}
        # Every slice of a stack shares its directions: the key is the cosines, not the plane.
        key = (directions[0].tobytes(), directions[1].tobytes(), self.transform_.matrix)
        cached = self._letters
        if cached is not None and cached[0] == key:
            return cached[1]
        right, down = self.transform_.screen_directions(directions)
        letters = edge_letters(right, down)
        self._letters = (key, letters)
        return letters

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        painter.save()
        painter.resetTransform()
        # Axis-aligned lines and pre-rendered text: antialiasing only costs time here.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        area = self.viewport().rect()
        if self.source is None:
            self._painter.message(painter, area, ("Drop a series here", "or double-click one"))
        else:
            if self._values is not None:
                self.frames_painted += 1
            if self.error:
                self._painter.message(painter, area, (self.error,))
            if self.tool_handler is not None:
                self.tool_handler.paint(self, painter)
            for overlay in self.overlays:
                overlay(self, painter)
            if self.show_corner_text:
                text = self.corner_text()
                if text is not None:
                    self._painter.corners(painter, area, text)
                self._painter.letters(painter, area, self.edge_letters())
                self._paint_scale_bar(painter, area)
        self._painter.border(
            painter, area, ACTIVE_BORDER if self.active else IDLE_BORDER, 2 if self.active else 1
        )
        painter.restore()

    def _paint_scale_bar(self, painter: QPainter, area: QRect) -> None:
        """The scale bar in the unit lengths are read in (a calibrated series: its mm)."""
        px, _ = self.vb.viewPixelSize()
        factor = self._calibration()
        info, source = self._info, self.source
        unit = (
            "px"
            if info is None or source is None
            else length_unit(source.modality, info, factor is not None)
        )
        self._painter.scale_bar(painter, area, px * (factor or 1.0), unit)

    def repaint_overlays(self) -> None:
        """Schedule a repaint of the whole drawing area: corner text, orientation letters,
        scale bar, tool previews and the border are painted in ``drawForeground``, outside
        any scene item, so the graphics view's own ``update()`` (which, with pyqtgraph's
        minimal viewport updates, only redraws changed items) leaves them stale on screen."""
        self.viewport().update()

    def update(self, *args: Any) -> None:
        """``update()`` without arguments repaints the drawing area (see
        :meth:`repaint_overlays`); the annotation tools call it on the viewport."""
        if args:
            super().update(*args)
        else:
            self.repaint_overlays()

    def set_active(self, active: bool) -> None:
        """Highlight as the viewport that keys and toolbar act on."""
        self.active = active
        self.repaint_overlays()

    def _on_range_changed(self, *args: object) -> None:
        self.viewChanged.emit()
        self.repaint_overlays()

    # -- mouse -------------------------------------------------------------------------

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.activated.emit()
        if self.tool_handler is not None and self.tool_handler.mouse_press(self, ev):
            ev.accept()
            return
        pos = ev.position()
        button = ev.button()
        if button == Qt.MouseButton.LeftButton and ev.modifiers() == Qt.KeyboardModifier.NoModifier:
            # Only a press on the line itself (PICK_TOLERANCE_PX) picks it; a drag that
            # starts beside it is the left-button tool's (window/level).
            picked = self._pick_crossref(pos)
            if picked is not None:
                point = self.patient_at(pos)
                if point is not None:
                    self.crossrefClicked.emit(picked[0], point)
                self._drag = _Drag(button, "crossref", pos, pos, self.voi_window, owner=picked[0])
                ev.accept()
                return
        tool = {
            Qt.MouseButton.LeftButton: self.tool,
            Qt.MouseButton.RightButton: "zoom",
            Qt.MouseButton.MiddleButton: "pan",
        }.get(button)
        if tool is not None:
            self._drag = _Drag(button, tool, pos, pos, self.voi_window, value_range(self._values))
        ev.accept()

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        pos = ev.position()
        if self.tool_handler is not None and self.tool_handler.mouse_move(self, ev):
            self._update_cursor_sample(pos)
            ev.accept()
            return
        drag = self._drag
        if drag is not None:
            dx, dy = pos.x() - drag.last.x(), pos.y() - drag.last.y()
            if drag.tool == "window":
                self._drag_window(drag, pos)
            elif drag.tool == "crossref":
                point = self.patient_at(pos)
                if point is not None:
                    self.crossrefClicked.emit(drag.owner, point)
            elif drag.tool == "zoom":
                centre = self.vb.mapSceneToView(self.mapToScene(drag.start.toPoint()))
                self.zoom_by(math.exp(-dy * 0.01), centre)
            elif drag.tool == "pan":
                self.pan_by(dx, dy)
            drag.last = pos
        elif ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            point = self.patient_at(pos)
            if point is not None:
                self.cursorMoved.emit(point)
        self._update_cursor_sample(pos)
        ev.accept()

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        self._drag = None
        if self.tool_handler is not None:
            self.tool_handler.mouse_release(self, ev)
        ev.accept()

    def mouseDoubleClickEvent(self, ev: QMouseEvent) -> None:
        if self.tool_handler is not None and self.tool_handler.mouse_double_click(self, ev):
            ev.accept()
            return
        if ev.button() == Qt.MouseButton.LeftButton:
            self.doubleClicked.emit()
        ev.accept()

    def wheelEvent(self, ev: QWheelEvent) -> None:
        delta = ev.angleDelta().y()
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            centre = self.vb.mapSceneToView(self.mapToScene(ev.position().toPoint()))
            self.zoom_by(1.15 ** (delta / 120.0), centre)
        else:
            self._wheel_rest += delta
            steps = int(self._wheel_rest / 120)
            if steps:
                self._wheel_rest -= steps * 120
                self.step(-steps)  # wheel away from the user: previous image, as in PACS
        ev.accept()

    def leaveEvent(self, ev: QEvent) -> None:
        self._cursor = None
        self.repaint_overlays()
        super().leaveEvent(ev)

    def _drag_window(self, drag: _Drag, pos: QPointF) -> None:
        """Right/left: wider/narrower; up/down: higher/lower level; a drag across the whole
        viewport spans the image's value range (:meth:`ViewportModel.drag_window`; scaling by
        the current width moved an MR width by 1,270 for 120 px)."""
        area = self.viewport().rect()
        dx = (pos.x() - drag.start.x()) / max(area.width(), 1)
        dy = (pos.y() - drag.start.y()) / max(area.height(), 1)
        self.model.drag_window(drag.window, dx, dy, drag.value_range)

    def _update_cursor_sample(self, pos: QPointF) -> None:
        if self._values is None or self._info is None:
            return
        row, col = self.widget_to_image(pos)
        self._cursor = sample_cursor(self._values, self._info, row, col)
        self._cursor_pos = (row, col)
        if self.show_corner_text:
            self.repaint_overlays()

    def _refresh_cursor_sample(self) -> None:
        if self._cursor is None or self._values is None or self._info is None:
            return
        row, col = getattr(self, "_cursor_pos", (self._cursor.row, self._cursor.col))
        self._cursor = sample_cursor(self._values, self._info, row, col)

    # -- keys --------------------------------------------------------------------------

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        handler = self.tool_handler
        if handler is not None and handler.key_press(self, ev.key(), ev.modifiers()):
            ev.accept()
            return
        if not self.handle_key(ev.key(), ev.modifiers()):
            super().keyPressEvent(ev)

    def handle_key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        """Act on a viewport key (docs/CONVENTIONS.md); False when the key is not ours."""
        ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        alt = bool(modifiers & Qt.KeyboardModifier.AltModifier)
        k = Qt.Key
        n = len(self.source) if self.source is not None else 0
        simple = {
            k.Key_Up: lambda: self.step(-1),
            k.Key_Down: lambda: self.step(1),
            k.Key_Home: lambda: self.set_index(0),
            k.Key_End: lambda: self.set_index(n - 1),
            k.Key_PageUp: lambda: self.seriesStepRequested.emit(-1),
            k.Key_PageDown: lambda: self.seriesStepRequested.emit(1),
            k.Key_C: self.toggle_cine,
            k.Key_BracketLeft: lambda: self.set_cine_fps(self.cine_fps / 1.25),
            k.Key_BracketRight: lambda: self.set_cine_fps(self.cine_fps * 1.25),
            k.Key_F: self.fit,
            k.Key_Space: self.fit,
            k.Key_V: self.toggle_invert,
            k.Key_I: lambda: self._toggle("show_corner_text", "corner_text"),
            k.Key_P: lambda: self._toggle("phi_free", "phi_free"),
            k.Key_W: lambda: self._request_tool("window"),
            k.Key_Z: lambda: self._request_tool("zoom"),
            k.Key_T: lambda: self._request_tool("pan"),
        }
        key_enum = k(key) if not isinstance(key, k) else key
        if alt and key_enum == k.Key_R:
            self.rotate(clockwise=not shift)
            return True
        if key_enum == k.Key_H and not ctrl:
            self.flip(horizontal=not shift)
            return True
        if key_enum == k.Key_R and not ctrl and not alt:
            self.reset()
            return True
        if not ctrl and k.Key_1 <= key_enum <= k.Key_9:
            return self.apply_preset(int(key_enum) - int(k.Key_0))
        action = simple.get(key_enum) if not ctrl else None
        if action is None:
            return False
        action()
        return True

    def _toggle(self, attr: str, option: str) -> None:
        if self.receivers(SIGNAL_DISPLAY_OPTION) > 0:
            self.displayOptionToggled.emit(option)  # the window applies it everywhere
        else:
            setattr(self, attr, not getattr(self, attr))
            self.repaint_overlays()

    def set_tool(self, tool: str) -> None:
        """The left-button reading tool: "window", "zoom" or "pan" (:data:`TOOLS`)."""
        self.model.set_tool(tool)

    def _request_tool(self, tool: str) -> None:
        self.set_tool(tool)
        self.toolRequested.emit(tool)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab moves to the next viewport rather than to the next widget."""
        self.nextViewportRequested.emit()
        return True

    def focusInEvent(self, ev: QFocusEvent) -> None:
        self.activated.emit()
        super().focusInEvent(ev)

    # -- drag and drop of series from the browser --------------------------------------

    def dragEnterEvent(self, ev: QDragEnterEvent) -> None:
        self._accept_stacks(ev)

    def dragMoveEvent(self, ev: QDragMoveEvent) -> None:
        self._accept_stacks(ev)

    def _accept_stacks(self, ev: QDragMoveEvent) -> None:
        if ev.mimeData().hasFormat(STACKS_MIME):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev: QDropEvent) -> None:
        if ev.mimeData().hasFormat(STACKS_MIME):
            self.mimeDropped.emit(ev.mimeData())
            ev.acceptProposedAction()


SIGNAL_DISPLAY_OPTION = "2displayOptionToggled(QString)"
#: Drag-and-drop format of a browser series (see :mod:`spineviewer.gui.browser`).
STACKS_MIME = "application/x-spineviewer-stacks"


__all__ = ["STACKS_MIME", "TOOLS", "ImageViewport"]
