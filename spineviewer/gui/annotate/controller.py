"""The annotation session of the window: one document, undo stack and autosaver per study.

Everything that changes an annotation goes through :meth:`AnnotationController.push`, so it
can be undone, is saved at once (atomic write in the workspace, never beside the images) and
repaints the viewports and the panel. The controller knows no widgets: viewports ask it for
what to draw, tools and panels ask it to change things.

Another writer of an open study (``spineviewer annotations import``, a second viewer) loses
nothing: an autosave that finds their newer file merges it (:mod:`spineviewer.annotations.
merge`), the open document takes the merged content in place, the views repaint, and the user
is told (:attr:`AnnotationController.message` and :attr:`AnnotationController.merged`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from spineviewer.annotations import Annotation, ImageRef, Kind, Status, Vocabulary
from spineviewer.annotations import commands as cmd
from spineviewer.annotations.calibration import Calibration, scale_of
from spineviewer.annotations.calibration_edits import SetCalibration, calibrate, remove_calibration
from spineviewer.annotations.document import AnnotationDocument, ReviewStatus
from spineviewer.annotations.level_names import ShiftError, is_level, level_index
from spineviewer.annotations.measure import Measurement, Scale, measurements, value_unit
from spineviewer.annotations.shapes import SHAPES
from spineviewer.annotations.store import Autosaver, SaveResult, Workspace
from spineviewer.annotations.vocabulary import default_vocabulary
from spineviewer.dicom import Study
from spineviewer.dicom.spacing import SpacingKind
from spineviewer.viewing.source import SliceInfo

#: Tools that draw a new annotation, by name (the tool names of the window).
DRAW_TOOLS: dict[str, Kind] = {kind.value: kind for kind in SHAPES}
#: The vertebra labelling tool (:mod:`.labelling`): a click labels a body with the next level.
LABELS_TOOL = "labels"
#: The known-length calibration tool: a line (not kept as a mark) whose true length the reader
#: types calibrates its series (:mod:`spineviewer.annotations.calibration`).
CALIBRATE_TOOL = "calibrate"
EDIT_TOOLS = ("select", *DRAW_TOOLS, LABELS_TOOL, CALIBRATE_TOOL)


@dataclass
class Session:
    """One study's open document."""

    document: AnnotationDocument
    stack: cmd.UndoStack
    autosaver: Autosaver
    warnings: tuple[str, ...] = ()


def image_ref(info: SliceInfo | None) -> ImageRef | None:
    """The acquired frame behind a displayed slice; None for reformats (MPR)."""
    if info is None or info.frame is None:
        return None
    return ImageRef.of_frame(info.frame)


def format_measurement(m: Measurement) -> str:
    """ "Length 42.3 mm", "Area 118 mm²", "Mean 41.2 ± 9.0 HU" style text for one value; a
    length or area says what its millimetres are ("Length 51.7 mm (detector)", "Area 96 mm²
    (calibrated)", :attr:`Measurement.label`)."""
    units = {"mm2": "mm²", "deg": "°", "px2": "px²", "[hnsf'U]": "HU", "1": ""}
    unit = units.get(m.unit, m.unit) + m.label.removeprefix(m.unit)
    name = {"cobb_angle": "Cobb", "sd": "SD"}.get(m.name, m.name.capitalize())
    digits = 0 if m.name in ("area", "pixels") and abs(m.value) >= 100 else 1
    sep = "" if unit in ("°", "") else " "
    return f"{name} {m.value:.{digits}f}{sep}{unit}"


class AnnotationController(QObject):
    """Documents, undo, autosave, selection and the current tool and label."""

    #: The annotations (or their review state) changed: repaint, refresh lists.
    changed = Signal()
    selectionChanged = Signal()
    toolChanged = Signal(str)
    #: A line for the status bar.
    message = Signal(str)
    #: An autosave merged another writer's changes into a study's open document (shown
    #: already): the study UID and what happened, one sentence per line (conflicts
    #: included), for a notice the user must see.
    merged = Signal(str, str)

    def __init__(
        self,
        workspace: Workspace | None = None,
        vocabulary: Vocabulary | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self.vocabulary = vocabulary or default_vocabulary()
        self.sessions: dict[str, Session] = {}
        #: The study that undo/redo and the panel act on (the active viewport's).
        self.current_uid: str | None = None
        self.selected: str | None = None
        self.tool = "window"  # as the toolbar starts: left-drag is window/level
        #: Label (and disc state) given to new annotations.
        self.label = ""
        self.state: str | None = None
        #: Annotation values shown instead of the stored ones while a drag is in progress.
        self.preview: dict[str, Annotation] = {}
        self.visible = True
        #: Pixel values (modality units) and modality of a frame when it is on screen; set by
        #: the window, used for ROI statistics outside the viewport (the panel).
        self.pixels_of: Callable[[ImageRef], tuple[np.ndarray, str] | None] = lambda ref: None
        self._measure_cache: dict[tuple[Annotation, int, Scale], list[Measurement]] = {}
        #: What the millimetres of each opened image measure, by SOP Instance UID (a
        #: radiograph known only by its detector spacing: DETECTOR).
        self._spacing_kinds: dict[str, SpacingKind] = {}

    # -- studies ---------------------------------------------------------------------------

    @property
    def workspace(self) -> Workspace:
        """The workspace (opened on first use: the default folder, or SPINEVIEWER_WORKSPACE)."""
        if self._workspace is None:
            self._workspace = Workspace()
        return self._workspace

    def open_study(self, study: Study, sources: Sequence[str | Path] = ()) -> Session:
        """The study's session: reopened from the workspace when it has a document."""
        self._spacing_kinds.update(
            (f.instance.sop_instance_uid, f.spacing_kind)
            for series in study.series
            for stack in series.stacks
            for f in stack.frames
        )
        session = self.sessions.get(study.uid)
        if session is not None:
            return session
        workspace = self.workspace
        workspace.check_sources(sources)
        loaded = workspace.load(study.uid)
        warnings: tuple[str, ...] = ()
        if loaded is not None:
            doc, warnings = loaded.document, loaded.warnings
            doc.source_paths = tuple(dict.fromkeys([*doc.source_paths, *map(str, sources)]))
        else:
            info = study.info
            doc = AnnotationDocument(
                study.uid,
                patient_id=info.get("PatientID") or None,
                patient_name=info.get("PatientName") or None,
                study_date=info.get("StudyDate", ""),
                study_description=info.get("StudyDescription", ""),
                source_paths=sources,
            )
        stack = cmd.UndoStack(doc)
        saver = Autosaver(
            workspace,
            stack,
            on_error=self._save_failed,
            on_merged=partial(self._save_merged, study.uid),
        )
        if loaded is None:
            saver.save_now()  # registered at once: the worklist lists it as new
        stack.subscribe(self._on_stack_changed)
        session = Session(doc, stack, saver, tuple(warnings))
        self.sessions[study.uid] = session
        if self.current_uid is None:
            self.current_uid = study.uid
        for warning in warnings:
            self.message.emit(warning)
        self.changed.emit()
        return session

    def close_all(self) -> None:
        """Stop autosaving and forget the open documents (they are saved already)."""
        for session in self.sessions.values():
            session.autosaver.close()
        self.sessions.clear()
        self._spacing_kinds.clear()
        self._measure_cache.clear()
        self.current_uid = None
        self.selected = None

    def _save_failed(self, exc: Exception) -> None:
        self.message.emit(f"Annotations NOT saved: {exc}")

    def _save_merged(self, study_uid: str, result: SaveResult) -> None:
        """A save took another writer's changes into the open document (in place): drop what
        no longer exists from the selection and drag previews, repaint, tell the user."""
        session = self.sessions.get(study_uid)
        if session is not None and result.merged:
            doc = session.document
            self.preview = {uid: a for uid, a in self.preview.items() if uid not in doc}
            self._measure_cache.clear()
            if self.selected is not None and self.find(self.selected) is None:
                self.selected = None
                self.selectionChanged.emit()
            self.changed.emit()
        text = " ".join(result.notices) or "Annotations merged with another writer's changes."
        conflicts = result.merge.conflicts if result.merge is not None else ()
        lead = (
            f"{len(conflicts)} conflict(s) with another writer, nothing lost. " if conflicts else ""
        )
        self.message.emit(f"Annotations: {lead}{text}")
        self.merged.emit(study_uid, "\n".join(result.notices))

    @property
    def session(self) -> Session | None:
        """The current study's session."""
        return self.sessions.get(self.current_uid) if self.current_uid else None

    @property
    def document(self) -> AnnotationDocument | None:
        session = self.session
        return session.document if session else None

    def set_current_study(self, study_uid: str | None) -> None:
        """Make ``study_uid`` the study undo/redo and the panel act on."""
        if study_uid in self.sessions and study_uid != self.current_uid:
            self.current_uid = study_uid
            self.selected = None
            self.changed.emit()
            self.selectionChanged.emit()

    def set_review_status(self, status: ReviewStatus | str) -> None:
        """Worklist status of the current study (new / in progress / done), saved at once."""
        session = self.session
        if session is not None:
            session.document.review_status = ReviewStatus(status)
            session.autosaver.save_now()
            self.changed.emit()

    # -- reading -----------------------------------------------------------------------------

    def annotations_on(self, ref: ImageRef | None) -> list[Annotation]:
        """What to draw on one frame (with drag previews applied)."""
        if ref is None or not self.visible:
            return []
        session = self.sessions.get(ref.study_uid)
        if session is None:
            return []
        items = session.document.on_image(ref.sop_instance_uid, ref.frame_number)
        return [self.preview.get(a.uid, a) for a in items]

    def find(self, uid: str | None) -> Annotation | None:
        """An annotation of any open study by uid."""
        if uid is None:
            return None
        for session in self.sessions.values():
            found = session.document.get(uid)
            if found is not None:
                return found
        return None

    def calibration_of(self, series_uid: str) -> Calibration | None:
        """The known-length calibration of a series of any open study (None: none)."""
        for session in self.sessions.values():
            found = session.document.calibrations.get(series_uid)
            if found is not None:
                return found
        return None

    def spacing_kind(self, ref: ImageRef) -> SpacingKind:
        """What the millimetres of the image ``ref``'s own spacing measure (PATIENT for an
        image of no opened study)."""
        return self._spacing_kinds.get(ref.sop_instance_uid, SpacingKind.PATIENT)

    def scale_of(self, ref: ImageRef) -> Scale:
        """What the millimetres of a measurement on the image ``ref`` are: its series'
        calibration, else its spacing kind (``mm (detector)`` on a radiograph known only by
        its detector spacing)."""
        session = self.sessions.get(ref.study_uid)
        calibrations = session.document.calibrations if session is not None else None
        return scale_of(ref.series_uid, self.spacing_kind(ref), calibrations)

    def measure(
        self, annotation: Annotation, values: np.ndarray | None, modality: str
    ) -> list[Measurement]:
        """The annotation's measurements by its image's scale (cached per value and scale:
        only edits and calibrations recompute)."""
        scale = self.scale_of(annotation.image)
        key = (annotation, id(values) if values is not None else 0, scale)
        cached = self._measure_cache.get(key)
        if cached is None:
            try:
                cached = measurements(annotation, values, unit=value_unit(modality), scale=scale)
            except ValueError:
                cached = []  # a degenerate shape (zero-length arm) measures nothing yet
            if len(self._measure_cache) > 2048:
                self._measure_cache.clear()
            self._measure_cache[key] = cached
        return cached

    def measure_all(self, annotation: Annotation) -> list[Measurement]:
        """Measurements with ROI statistics when the annotation's frame is on screen."""
        shown = self.pixels_of(annotation.image)
        values, modality = shown if shown is not None else (None, "")
        return self.measure(annotation, values, modality)

    # -- tools, labels, selection ---------------------------------------------------------------

    def set_tool(self, tool: str) -> None:
        if tool not in EDIT_TOOLS and tool not in ("window", "zoom", "pan"):
            raise ValueError(f"unknown tool {tool!r}")
        if tool != self.tool:
            self.tool = tool
            self.toolChanged.emit(tool)

    def set_label(self, label: str, state: str | None = None) -> None:
        """The label for new annotations; also relabels the selected one (undoable)."""
        self.label, self.state = label, state
        selected = self.find(self.selected)
        if selected is not None and (selected.label, selected.state) != (label, state):
            self.replace([selected.relabelled(label, state)], "Relabel")

    def select(self, uid: str | None) -> None:
        if uid != self.selected:
            self.selected = uid
            found = self.find(uid)
            if found is not None:
                self.set_current_study(found.image.study_uid)
            self.selectionChanged.emit()  # a repaint, not a new list or a worklist query

    # -- changing (every change is one undoable command) -------------------------------------------

    def _session_of(self, annotations: Iterable[Annotation]) -> Session | None:
        first = next(iter(annotations), None)
        return self.sessions.get(first.image.study_uid) if first is not None else None

    def push(self, session: Session, command: cmd.Command) -> bool:
        """Run, record and autosave ``command`` in ``session``."""
        self.current_uid = session.document.study_uid
        return session.stack.push(command)

    def add(self, annotation: Annotation, text: str | None = None) -> bool:
        """Add a new annotation (False when its study is not open); ``text`` names the undo
        step (default "Draw <kind>")."""
        session = self.sessions.get(annotation.image.study_uid)
        if session is None:
            self.message.emit("This image's study is not open for annotation.")
            return False
        annotation = self._in_author_name(session, annotation)
        text = text or f"Draw {annotation.kind.value}"
        self.push(session, cmd.AddAnnotations([annotation], text))
        self.select(annotation.uid)
        return True

    def add_proposals(self, study_uid: str, proposals: Sequence[Annotation], text: str) -> bool:
        """A model run's proposals as one undo step, replacing its earlier unreviewed ones."""
        session = self.sessions.get(study_uid)
        if session is None:
            self.message.emit("The analysed study is not open for annotation.")
            return False
        return self.push(session, cmd.run_model(session.document, proposals, text))

    def _in_author_name(self, session: Session, annotation: Annotation) -> Annotation:
        author = session.document.author
        if annotation.provenance.source == "human" and annotation.provenance.author != author:
            return replace(annotation, provenance=replace(annotation.provenance, author=author))
        return annotation

    def replace(self, after: Sequence[Annotation], text: str) -> bool:
        """New values for existing annotations (one undo step)."""
        session = self._session_of(after)
        if session is None:
            return False
        return self.push(session, cmd.change(session.document, after, text))

    def delete(self, uids: Sequence[str]) -> bool:
        found = [a for a in (self.find(u) for u in uids) if a is not None]
        session = self._session_of(found)
        if session is None:
            return False
        done = self.push(session, cmd.delete(session.document, [a.uid for a in found]))
        if self.selected in uids:
            self.select(None)
        return done

    def set_status(self, uids: Sequence[str], status: Status) -> bool:
        """Accept / reject (one undo step)."""
        found = [a for a in (self.find(u) for u in uids) if a is not None]
        session = self._session_of(found)
        if session is None:
            return False
        doc = session.document
        ids = [a.uid for a in found]
        command = cmd.accept(doc, ids) if status == Status.ACCEPTED else cmd.reject(doc, ids)
        return self.push(session, command)

    def accept_all(self) -> bool:
        session = self.session
        return session is not None and self.push(
            session, cmd.accept_all_proposals(session.document)
        )

    def shift_levels(self, step: int) -> bool:
        """Every vertebra label and disc level of the current study one level up (``step``
        -1) or down (+1), as one undo step; False with the reason in a message when the
        labels cannot move that way or there are none."""
        session = self.session
        if session is None:
            self.message.emit("No study open for annotation.")
            return False
        try:
            command = cmd.shift_levels(session.document, step)
        except ShiftError as exc:
            self.message.emit(f"Labels not shifted: {exc}.")
            return False
        if command.is_empty:
            self.message.emit("No vertebra or disc level labels to shift in this study.")
            return False
        self.push(session, command)
        pairs = sorted(
            {(a.label, b.label) for a, b in zip(command.before, command.after, strict=True)
             if is_level(a.label)},
            key=lambda pair: level_index(pair[0]),
        )  # fmt: skip
        self.message.emit(f"{command.text}: " + ", ".join(f"{a} → {b}" for a, b in pairs))
        return True

    def accept_labels(self) -> bool:
        """Accept the AI's vertebra labels of the current study (one undo step)."""
        session = self.session
        if session is None:
            return False
        doc = session.document
        uids = [a.uid for a in doc.proposed() if is_level(a.label)]
        command = cmd.accept(doc, uids)
        command.text = "Accept AI labels"
        if not self.push(session, command):
            self.message.emit("No AI vertebra labels waiting for review in this study.")
            return False
        return True

    def calibrate(self, line: Annotation, known_length_mm: float) -> Calibration | None:
        """Calibrate ``line``'s series so that ``line`` measures ``known_length_mm`` (one undo
        step; the line is not kept as a mark). None, with the reason in a message, when its
        study is not open or the line or length cannot calibrate."""
        session = self.sessions.get(line.image.study_uid)
        if session is None:
            self.message.emit("This image's study is not open for annotation.")
            return None
        self.current_uid = session.document.study_uid
        try:
            return calibrate(session.stack, line, known_length_mm)
        except ValueError as exc:
            self.message.emit(f"Not calibrated: {exc}.")
            return None

    def remove_calibration(self, ref: ImageRef | None) -> bool:
        """Take away the calibration of the series of the image ``ref`` (one undo step);
        False, with a message, when it has none."""
        session = self.sessions.get(ref.study_uid) if ref is not None else None
        if ref is None or session is None:
            self.message.emit("No calibrated series in view.")
            return False
        self.current_uid = session.document.study_uid
        if not remove_calibration(session.stack, ref.series_uid):
            self.message.emit("This series has no calibration to remove.")
            return False
        return True

    def _calibration_message(self, command: SetCalibration) -> None:
        """The status line after a calibration changed (set, removed, undone, redone)."""
        now = self.calibration_of(command.series_uid)
        if now is not None:
            self.message.emit(f"Series calibrated: {now.describe()}; lengths in mm (calibrated)")
        else:
            self.message.emit("Series calibration removed: lengths by the image's own spacing")

    def undo(self) -> None:
        session = self.session
        if session is not None and session.stack.can_undo:
            try:
                session.stack.undo()
            except (KeyError, ValueError):  # another writer changed it (merged since)
                self.message.emit(
                    f"Cannot {session.stack.undo_text.lower()}: another writer changed or "
                    f"deleted those annotations since."
                )

    def redo(self) -> None:
        session = self.session
        if session is not None and session.stack.can_redo:
            try:
                session.stack.redo()
            except (KeyError, ValueError):
                self.message.emit(
                    f"Cannot {session.stack.redo_text.lower()}: another writer changed or "
                    f"deleted those annotations since."
                )

    def _on_stack_changed(self, command: cmd.Command, done: bool) -> None:
        if self.selected is not None and self.find(self.selected) is None:
            self.selected = None
            self.selectionChanged.emit()
        self.changed.emit()
        if isinstance(command, SetCalibration):
            self._calibration_message(command)
