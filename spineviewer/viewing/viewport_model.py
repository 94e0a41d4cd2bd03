"""What one viewport shows and how, without Qt: the source, the slice, window / level,
inversion, the on-screen turn and flip, and the left-button tool.

A :class:`ViewportModel` holds the state; every change is announced on its
:attr:`~ViewportModel.events` (a psygnal :class:`~psygnal.SignalGroup`, the evented-model
library of ndv and napari), only when a value really changes. The viewport widget
(:class:`spineviewer.gui.viewport.ImageViewport`) reads and writes its model and repaints on
these signals; linked scrolling (:mod:`spineviewer.viewing.viewport_links`) moves models, not
widgets. Everything here is testable without a display.
"""

from __future__ import annotations

import math

import numpy as np
from psygnal import Signal, SignalGroup

from spineviewer.dicom import Window
from spineviewer.viewing.display_transform import DisplayTransform
from spineviewer.viewing.presets import Preset, presets_for
from spineviewer.viewing.source import SliceInfo, SliceSource

#: The reading tools of the left mouse button (the annotation tools are the controller's).
TOOLS = ("window", "zoom", "pan")
#: The window a drag starts from when the image has neither a window nor presets.
FALLBACK_WINDOW = Window(128.0, 256.0)


class ViewportEvents(SignalGroup):
    """Changes of a :class:`ViewportModel`; each signal carries the new value."""

    #: Another source (or None): the index is announced after it.
    source = Signal(object)
    index = Signal(int)
    #: The VOI window (None: the image's own VOI LUT or display pipeline).
    window = Signal(object)
    inverted = Signal(bool)
    #: The new and the previous :class:`DisplayTransform`.
    transform = Signal(object, object)
    tool = Signal(str)


class ViewportModel:
    """The state of one viewport; change it through its setters, watch it on :attr:`events`."""

    def __init__(self) -> None:
        self.events = ViewportEvents()
        self._source: SliceSource | None = None
        self._index = 0
        self._window: Window | None = None
        self._presets: tuple[Preset, ...] = ()
        self._voi_lut = False
        self._inverted = False
        self._transform = DisplayTransform(1, 1)
        self._tool = "window"

    # -- source and slice ----------------------------------------------------------------

    @property
    def source(self) -> SliceSource | None:
        return self._source

    @property
    def index(self) -> int:
        """The slice shown (0 without a source)."""
        return self._index

    @property
    def count(self) -> int:
        """Slices of the source (0 without one)."""
        return len(self._source) if self._source is not None else 0

    @property
    def info(self) -> SliceInfo | None:
        """Geometry and header facts of the slice shown (None without a source)."""
        if self._source is None or self.count == 0:
            return None
        return self._source.info(self._index)

    def set_source(self, source: SliceSource | None, index: int | None = None) -> None:
        """Show ``source`` at ``index`` (default: the middle slice); window, presets,
        inversion and turn start afresh. Emits ``source``, then ``index`` (always: a new
        source is a new slice even at the same number)."""
        self._source = source
        self._window = None
        self._presets = ()
        self._voi_lut = False
        self._inverted = False
        self._transform = self._transform.reset()
        count = self.count
        self._index = 0 if count == 0 else self.clamp(count // 2 if index is None else index)
        self.events.source.emit(source)
        if count:
            self.events.index.emit(self._index)

    def clamp(self, index: int) -> int:
        """``index`` moved into the source's slices."""
        return max(0, min(self.count - 1, int(index)))

    def set_index(self, index: int) -> bool:
        """Show slice ``index`` (clamped); True (and ``index`` emitted) when it changed."""
        if self.count == 0:
            return False
        index = self.clamp(index)
        if index == self._index:
            return False
        self._index = index
        self.events.index.emit(index)
        return True

    def step(self, delta: int) -> bool:
        """Move ``delta`` slices (clamped at the ends)."""
        return self.set_index(self._index + delta)

    # -- window / level ------------------------------------------------------------------

    @property
    def window(self) -> Window | None:
        return self._window

    @property
    def presets(self) -> tuple[Preset, ...]:
        """The window presets of keys 1-9 (from the first slice shown, or the last reset)."""
        return self._presets

    def set_window(self, window: Window | None) -> bool:
        """Use ``window`` (None: the image's own VOI); True when it changed."""
        if window == self._window:
            return False
        self._window = window
        self.events.window.emit(window)
        return True

    def init_window(self, values: np.ndarray | None, info: SliceInfo) -> None:
        """Presets for this image; the first is the window, unless the image has a VOI LUT
        Sequence (that applies until the user windows)."""
        modality = self._source.modality if self._source is not None else ""
        header = [info.header_window] if info.header_window is not None else []
        self._presets = tuple(presets_for(modality, header, values))
        self._voi_lut = info.frame is not None and info.frame.instance.voi_lut is not None
        self.set_window(None if self._voi_lut else self.default_window())

    def default_window(self) -> Window | None:
        """The first preset's window (None without presets)."""
        return self._presets[0].window if self._presets else None

    def apply_preset(self, number: int) -> bool:
        """Window preset ``number`` (1-9); False when there is none."""
        if 1 <= number <= len(self._presets):
            self.set_window(self._presets[number - 1].window)
            return True
        return False

    def drag_window(self, base: Window | None, dx: float, dy: float, value_range: float) -> None:
        """Window / level by a mouse drag from ``base``: ``dx`` and ``dy`` are the drag in
        fractions of the viewport's width and height (right: wider, down: lower level). A
        drag across the whole viewport spans ``value_range``, so W/L feels the same on CT in
        HU, MR in arbitrary units and 8-bit images."""
        start = base or self.default_window() or FALLBACK_WINDOW
        width = max(1.0, start.width + dx * value_range)
        self.set_window(Window(start.center - dy * value_range, width))

    # -- display -------------------------------------------------------------------------

    @property
    def inverted(self) -> bool:
        return self._inverted

    def set_inverted(self, inverted: bool) -> None:
        if inverted != self._inverted:
            self._inverted = inverted
            self.events.inverted.emit(inverted)

    def toggle_invert(self) -> None:
        """Swap black and white."""
        self.set_inverted(not self._inverted)

    @property
    def transform(self) -> DisplayTransform:
        """The turn and flip, and the shown image's size and spacing."""
        return self._transform

    def set_transform(self, transform: DisplayTransform) -> None:
        old = self._transform
        if transform != old:
            self._transform = transform
            self.events.transform.emit(transform, old)

    def fit_image(self, rows: int, cols: int, spacing: tuple[float, float]) -> None:
        """The same turn and flip for an image of this size and spacing."""
        self.set_transform(self._transform.with_image(rows, cols, spacing))

    def rotate(self, clockwise: bool = True) -> None:
        """Turn the image a quarter."""
        self.set_transform(self._transform.rotated(clockwise))

    def flip(self, horizontal: bool = True) -> None:
        """Mirror the image on screen."""
        self.set_transform(self._transform.flipped(horizontal))

    def reset(self, values: np.ndarray | None, info: SliceInfo | None) -> None:
        """No turn, no flip, no inversion, and the window (and presets) of this image."""
        self.set_transform(self._transform.reset())
        self.set_inverted(False)
        self.set_window(None)
        if values is not None and info is not None:
            self.init_window(values, info)

    # -- tool ----------------------------------------------------------------------------

    @property
    def tool(self) -> str:
        """The left-button reading tool: "window", "zoom" or "pan"."""
        return self._tool

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}; expected one of {TOOLS}")
        if tool != self._tool:
            self._tool = tool
            self.events.tool.emit(tool)


def value_range(values: np.ndarray | None) -> float:
    """Max - min of an image (at least 1; 256 without one): what a full W/L drag spans."""
    if values is None or values.size == 0:
        return 256.0
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    spread = high - low
    return spread if math.isfinite(spread) and spread >= 1.0 else 1.0


__all__ = [
    "FALLBACK_WINDOW",
    "TOOLS",
    "ViewportEvents",
    "ViewportModel",
    "value_range",
]
