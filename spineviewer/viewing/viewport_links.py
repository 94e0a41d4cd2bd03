"""Viewport models of one frame of reference kept in step, without Qt: linked scrolling,
jumps to a patient point (3D cursor, a clicked reference line), and which cross-reference
lines to draw where.

:class:`ViewportLinks` watches the ``index`` signal of each
:class:`~spineviewer.viewing.viewport_model.ViewportModel` and moves the others' models; the
widgets follow their models. Where a line must be (re)drawn it says so on
``events.lines`` (target model, owner model); the lines themselves come from
:meth:`ViewportLinks.lines_on` (:mod:`spineviewer.viewing.crossref` decides the geometry).

Two frames of reference (a study and its prior) scroll together once a
:class:`~spineviewer.viewing.level_sync.FrameMap` links them (:meth:`ViewportLinks.link_frames`:
by vertebral level, or by a person's sync point); they share no lines and no 3D cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
from psygnal import Signal, SignalGroup

from spineviewer.viewing.crossref import CrossRefLine, crossref_lines, linked_slice, same_frame
from spineviewer.viewing.level_sync import FrameMap, linked_index
from spineviewer.viewing.source import nearest_slice
from spineviewer.viewing.viewport_model import ViewportModel

#: Runs a step later (the GUI: on the next event-loop turn, so fast scrolling coalesces).
Defer = Callable[[Callable[[], None]], None]


class LinkEvents(SignalGroup):
    #: The lines of the owner's slice on the target must be redrawn: (target, owner) models.
    lines = Signal(object, object)


class ViewportLinks:
    """Linked scrolling and cross-reference bookkeeping between viewport models.

    When a model changes slice, the lines of its partners on it are re-cut at once; its own
    line on the partners and linked scrolling of parallel partners follow in :meth:`flush`,
    which ``defer`` schedules (without ``defer``: at once)."""

    def __init__(self, models: Sequence[ViewportModel], defer: Defer | None = None) -> None:
        self.events = LinkEvents()
        self.models = list(models)
        #: Parallel viewports of one frame of reference scroll together.
        self.linked = True
        #: Every slice of a partner is drawn as a line (dimmed), not only its current one.
        self.show_all = False
        self._defer = defer
        self._following = False
        #: Models that changed slice since the last :meth:`flush`.
        self.pending: list[ViewportModel] = []
        #: Maps between frames of reference (source frame, target frame) -> map.
        self.frame_maps: dict[tuple[str, str], FrameMap] = {}
        for model in self.models:
            model.events.index.connect(partial(self._on_index, model))

    def partners(self, model: ViewportModel) -> list[ViewportModel]:
        """The other models showing a source of ``model``'s frame of reference."""
        source = model.source
        if source is None:
            return []
        return [
            other
            for other in self.models
            if other is not model and other.source is not None and same_frame(source, other.source)
        ]

    def link_frames(self, source_frame: str, target_frame: str, mapping: FrameMap | None) -> None:
        """Scroll viewports of ``target_frame`` with those of ``source_frame`` (and back)
        through ``mapping`` (points of the source frame to the target's); None unlinks."""
        for key in ((source_frame, target_frame), (target_frame, source_frame)):
            self.frame_maps.pop(key, None)
        if mapping is not None:
            self.frame_maps[(source_frame, target_frame)] = mapping
            self.frame_maps[(target_frame, source_frame)] = mapping.inverse()

    def across(self, model: ViewportModel) -> list[tuple[ViewportModel, FrameMap]]:
        """The models of other frames linked to ``model``'s, with the map to each."""
        source = model.source
        if source is None or not source.frame_of_reference_uid:
            return []
        out = []
        for other in self.models:
            if other is model or other.source is None:
                continue
            mapping = self.frame_maps.get(
                (source.frame_of_reference_uid, other.source.frame_of_reference_uid)
            )
            if mapping is not None:
                out.append((other, mapping))
        return out

    def lines_on(self, target: ViewportModel, owner: ViewportModel) -> list[CrossRefLine]:
        """Where ``owner``'s slice (all its slices with :attr:`show_all`) cuts ``target``'s."""
        info = target.info
        if owner.source is None or info is None or info.plane is None:
            return []
        return crossref_lines(info.plane, owner.source, owner.index, self.show_all)

    def redraw(self, owner: ViewportModel) -> None:
        """Ask for ``owner``'s lines on every partner."""
        for target in self.partners(owner):
            self.events.lines.emit(target, owner)

    def _on_index(self, model: ViewportModel, _index: int) -> None:
        # This model's own plane changed: the lines drawn on it are re-cut before it paints.
        for other in self.partners(model):
            self.events.lines.emit(model, other)
        if self._following:  # moved by linked scrolling: its line now, no further following
            self.redraw(model)
            return
        self.pending.append(model)
        if len(self.pending) == 1:
            if self._defer is None:
                self.flush()
            else:
                self._defer(self.flush)

    def flush(self) -> None:
        """Bring the partners up to date with every model that changed slice."""
        pending, self.pending = list(dict.fromkeys(self.pending)), []
        for model in pending:
            self.redraw(model)
            if self.linked:
                self.follow(model)

    def discard_pending(self) -> None:
        """Forget the changes not flushed yet (every line is about to be redrawn)."""
        self.pending = []

    def follow(self, model: ViewportModel) -> None:
        """Linked scrolling: parallel partners move to their slice nearest ``model``'s; those of
        a linked frame (:meth:`link_frames`) to their slice nearest the mapped point."""
        info = model.info
        if info is None or info.plane is None:
            return
        self._following = True
        try:
            for other in self.partners(model):
                assert other.source is not None
                index = linked_slice(info.plane, other.source)
                if index is not None:
                    other.set_index(index)
            for other, mapping in self.across(model):
                assert other.source is not None
                index = linked_index(mapping, info.plane, other.source)
                if index is not None:
                    other.set_index(index)
        finally:
            self._following = False

    def go_to_point(self, model: ViewportModel, point: np.ndarray) -> int | None:
        """Move ``model`` to its slice nearest the patient ``point``; returns the index."""
        if model.source is None:
            return None
        found = nearest_slice(model.source, point)
        if found is None:
            return None
        model.set_index(found[0])
        return found[0]


__all__ = ["Defer", "LinkEvents", "ViewportLinks"]
