"""Keeps viewports of one frame of reference in step: cross-reference lines, 3D cursor, links.

This controller only wires viewport signals to :mod:`spineviewer.viewing.crossref`; every
geometric decision is made there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QObject, QTimer

from spineviewer.gui.viewport import ImageViewport
from spineviewer.viewing.crossref import crossref_lines, linked_slice, same_frame
from spineviewer.viewing.source import nearest_slice


class ViewportSync(QObject):
    """Cross-reference lines between every pair of viewports, 3D cursor and linked scrolling."""

    def __init__(self, viewports: Sequence[ImageViewport], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewports = list(viewports)
        self.show_all = False
        self.linked = True
        self._syncing = False
        self._dirty: list[ImageViewport] = []
        for vp in self.viewports:
            vp.sliceChanged.connect(lambda _i, vp=vp: self._on_viewport_slice_changed(vp))
            vp.crossrefClicked.connect(self._on_viewport_crossref_clicked)
            vp.cursorMoved.connect(lambda p, vp=vp: self._on_viewport_cursor_moved(vp, p))

    def _partners(self, vp: ImageViewport) -> list[ImageViewport]:
        if vp.source is None:
            return []
        return [
            o
            for o in self.viewports
            if o is not vp and o.source is not None and same_frame(vp.source, o.source)
        ]

    def refresh(self) -> None:
        """Recompute every cross-reference line (after sources or options change)."""
        self._dirty = []
        for vp in self.viewports:
            vp.clear_crossrefs()
        for vp in self.viewports:
            self._draw_lines_of(vp)

    def _draw_lines_of(self, source_vp: ImageViewport) -> None:
        """Draw ``source_vp``'s current slice (and optionally all its slices) on its partners."""
        if source_vp.source is None:
            return
        for target in self._partners(source_vp):
            plane = target.info.plane if target.info is not None else None
            if plane is None:
                target.set_crossrefs(source_vp, [])
                continue
            lines = crossref_lines(plane, source_vp.source, source_vp.index, self.show_all)
            target.set_crossrefs(source_vp, lines)

    def _on_viewport_slice_changed(self, vp: ImageViewport) -> None:
        # This viewport's own plane changed: the lines drawn on it are re-cut before it paints.
        for other in self._partners(vp):
            self._draw_lines_of_onto(other, vp)
        # Its line on the other viewports, and linked scrolling, follow on the next event-loop
        # turn (the others repaint then anyway); fast scrolling coalesces into one update.
        if self._syncing:
            self._draw_lines_of(vp)
            return
        self._dirty.append(vp)
        if len(self._dirty) == 1:
            QTimer.singleShot(0, self, self.flush)  # dropped if the window goes first

    def flush(self) -> None:
        """Bring the other viewports up to date with every viewport that changed slice."""
        dirty, self._dirty = list(dict.fromkeys(self._dirty)), []
        for vp in dirty:
            self._draw_lines_of(vp)
            if self.linked:
                self._follow_parallel(vp)

    def _draw_lines_of_onto(self, source_vp: ImageViewport, target: ImageViewport) -> None:
        plane = target.info.plane if target.info is not None else None
        if source_vp.source is None or plane is None:
            target.set_crossrefs(source_vp, [])
            return
        target.set_crossrefs(
            source_vp, crossref_lines(plane, source_vp.source, source_vp.index, self.show_all)
        )

    def _follow_parallel(self, vp: ImageViewport) -> None:
        plane = vp.info.plane if vp.info is not None else None
        if plane is None:
            return
        self._syncing = True
        try:
            for other in self._partners(vp):
                assert other.source is not None
                index = linked_slice(plane, other.source)
                if index is not None:
                    other.set_index(index)
        finally:
            self._syncing = False

    def _on_viewport_crossref_clicked(self, owner: object, point: np.ndarray) -> None:
        if isinstance(owner, ImageViewport) and owner.source is not None:
            self.go_to_point(owner, point)

    def _on_viewport_cursor_moved(self, vp: ImageViewport, point: np.ndarray) -> None:
        for other in self._partners(vp):
            self.go_to_point(other, point)
            other.set_cursor_point(point)
        vp.set_cursor_point(point)

    def go_to_point(self, vp: ImageViewport, point: np.ndarray) -> int | None:
        """Move ``vp`` to its slice nearest the patient ``point``; returns the index."""
        if vp.source is None:
            return None
        found = nearest_slice(vp.source, point)
        if found is None:
            return None
        vp.set_index(found[0])
        return found[0]
