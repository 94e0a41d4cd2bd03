"""Calibrating a series on a known length, and removing it, as undoable edits.

The known-length tool of the viewer draws a line, asks for its true length and calls
:func:`calibrate`; :func:`remove_calibration` takes a series' calibration away. Both push a
:class:`SetCalibration` on the study's :class:`~spineviewer.annotations.commands.UndoStack`,
so Ctrl+Z / Ctrl+Y, the autosave and the three-way merge of the workspace treat it like any
other change. The command names the annotations on the series (their lengths change) so that
a viewer repaints them.
"""

from __future__ import annotations

from spineviewer.annotations.annotation import Annotation
from spineviewer.annotations.calibration import Calibration
from spineviewer.annotations.commands import Command, UndoStack
from spineviewer.annotations.document import AnnotationDocument


class SetCalibration(Command):
    """A series' calibration changed from ``before`` to ``after`` (either may be None)."""

    def __init__(
        self,
        series_uid: str,
        before: Calibration | None,
        after: Calibration | None,
        affected: frozenset[str] = frozenset(),
        text: str | None = None,
    ) -> None:
        for c in (before, after):
            if c is not None and c.series_uid != series_uid:
                raise ValueError(f"calibration of series {c.series_uid}, not {series_uid}")
        self.series_uid = series_uid
        self.before = before
        self.after = after
        self._affected = affected
        self.text = text or ("Calibrate series" if after is not None else "Remove calibration")

    @property
    def uids(self) -> frozenset[str]:
        """The annotations on the series (their measurements change)."""
        return self._affected

    @property
    def is_empty(self) -> bool:
        return self.before == self.after

    def redo(self, doc: AnnotationDocument) -> None:
        self._swap(doc, self.before, self.after)

    def undo(self, doc: AnnotationDocument) -> None:
        self._swap(doc, self.after, self.before)

    def _swap(
        self, doc: AnnotationDocument, old: Calibration | None, new: Calibration | None
    ) -> None:
        current = doc.calibrations.get(self.series_uid)
        if current != old:
            raise ValueError(f"the calibration of series {self.series_uid} changed meanwhile")
        if new is None:
            del doc.calibrations[self.series_uid]
        else:
            doc.calibrations[self.series_uid] = new


def _on_series(doc: AnnotationDocument, series_uid: str) -> frozenset[str]:
    return frozenset(a.uid for a in doc if a.image.series_uid == series_uid)


def calibrate(
    stack: UndoStack, line: Annotation, known_length_mm: float, author: str | None = None
) -> Calibration:
    """Calibrate ``line``'s series so that ``line`` measures ``known_length_mm`` (one undo
    step, replacing any earlier calibration of the series). ``line`` need not be in the
    document (the tool's line is not kept as a mark). Raises ValueError as
    :meth:`Calibration.from_line` does, or for a line on another study."""
    doc = stack.document
    if line.image.study_uid != doc.study_uid:
        raise ValueError(f"the line is on study {line.image.study_uid}, not {doc.study_uid}")
    calibration = Calibration.from_line(
        line, known_length_mm, doc.author if author is None else author
    )
    series = calibration.series_uid
    stack.push(
        SetCalibration(series, doc.calibrations.get(series), calibration, _on_series(doc, series))
    )
    return calibration


def remove_calibration(stack: UndoStack, series_uid: str) -> bool:
    """Take ``series_uid``'s calibration away (one undo step); False when it had none."""
    doc = stack.document
    before = doc.calibrations.get(series_uid)
    if before is None:
        return False
    return stack.push(SetCalibration(series_uid, before, None, _on_series(doc, series_uid)))
