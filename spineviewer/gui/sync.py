"""Keeps viewports of one frame of reference in step: cross-reference lines, 3D cursor, links.

Linked scrolling and jumps work on the viewports' models
(:class:`~spineviewer.viewing.viewport_links.ViewportLinks`, no Qt); this controller only
schedules them on the event loop, draws the lines the links ask for on the widgets, and turns
clicks and Shift+moves into jumps. Every geometric decision is made in
:mod:`spineviewer.viewing.crossref`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QObject, QTimer

from spineviewer.gui.viewport import ImageViewport
from spineviewer.viewing.viewport_links import ViewportLinks
from spineviewer.viewing.viewport_model import ViewportModel


class ViewportSync(QObject):
    """Cross-reference lines between every pair of viewports, 3D cursor and linked scrolling."""

    def __init__(self, viewports: Sequence[ImageViewport], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewports = list(viewports)
        self._widgets = {id(vp.model): vp for vp in self.viewports}
        #: The links between the viewports' models; their following waits for the next
        #: event-loop turn (the other viewports repaint then anyway), so fast scrolling
        #: coalesces into one update.
        self.links = ViewportLinks([vp.model for vp in self.viewports], self._next_turn)
        self.links.events.lines.connect(self._draw)
        for vp in self.viewports:
            vp.crossrefClicked.connect(self._on_viewport_crossref_clicked)
            vp.cursorMoved.connect(lambda p, vp=vp: self._on_viewport_cursor_moved(vp, p))

    @property
    def show_all(self) -> bool:
        """Every slice of the other series drawn (dimmed), not only the current one."""
        return self.links.show_all

    @show_all.setter
    def show_all(self, value: bool) -> None:
        self.links.show_all = value

    @property
    def linked(self) -> bool:
        """Parallel series of one frame of reference scroll together."""
        return self.links.linked

    @linked.setter
    def linked(self, value: bool) -> None:
        self.links.linked = value

    @property
    def _dirty(self) -> list[ViewportModel]:
        """Models whose slice changed since the last :meth:`flush`."""
        return self.links.pending

    def _next_turn(self, step: Callable[[], None]) -> None:
        QTimer.singleShot(0, self, step)  # dropped if the window goes first

    def _widget(self, model: ViewportModel) -> ImageViewport:
        return self._widgets[id(model)]

    def _draw(self, target: ViewportModel, owner: ViewportModel) -> None:
        self._widget(target).set_crossrefs(self._widget(owner), self.links.lines_on(target, owner))

    def refresh(self) -> None:
        """Recompute every cross-reference line (after sources or options change)."""
        self.links.discard_pending()
        for vp in self.viewports:
            vp.clear_crossrefs()
        for vp in self.viewports:
            self.links.redraw(vp.model)

    def flush(self) -> None:
        """Bring the other viewports up to date with every viewport that changed slice."""
        self.links.flush()

    def _on_viewport_crossref_clicked(self, owner: object, point: np.ndarray) -> None:
        if isinstance(owner, ImageViewport) and owner.source is not None:
            self.go_to_point(owner, point)

    def _on_viewport_cursor_moved(self, vp: ImageViewport, point: np.ndarray) -> None:
        for other in self.links.partners(vp.model):
            self.links.go_to_point(other, point)
            self._widget(other).set_cursor_point(point)
        vp.set_cursor_point(point)

    def go_to_point(self, vp: ImageViewport, point: np.ndarray) -> int | None:
        """Move ``vp`` to its slice nearest the patient ``point``; returns the index."""
        return self.links.go_to_point(vp.model, point)
