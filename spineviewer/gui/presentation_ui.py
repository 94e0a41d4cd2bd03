"""File > Save key images (a DICOM Key Object Selection of the images the current study's marks
are on), File > Save presentation state (its accepted marks, and the active viewport's window,
flip and turn, as a Grayscale Softcopy Presentation State) and File > Open presentation state
or key images (from this viewer or another system: the marks are added to the study as one
undoable step, the window applied; the key images listed). Written in the background; both
files go to a PACS with ``spineviewer pacs store`` or File > Send results to PACS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pydicom
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from spineviewer.annotations import Annotation, source_headers
from spineviewer.annotations.commands import AddAnnotations
from spineviewer.annotations.export import exportable, reviewed
from spineviewer.dicom.display import Window
from spineviewer.gui.actions import make_action
from spineviewer.gui.annotate.ui import AnnotationUi
from spineviewer.gui.shell import Shell
from spineviewer.gui.workers import Cancelled, Job, Progress

if TYPE_CHECKING:
    from spineviewer.annotations.gsps import View

__all__ = ["PresentationUi"]

_DICOM_FILES = "DICOM (*.dcm);;All files (*)"


class PresentationUi(QObject):
    """The key-image and presentation-state actions of one window."""

    def __init__(self, shell: Shell, annotation: AnnotationUi) -> None:
        super().__init__(shell.widget)
        self.shell, self.annotation = shell, annotation
        w = shell.widget
        self.save_key_images_action: QAction = make_action(
            w, "Save &key images (DICOM KOS)...", self.save_key_images_dialog
        )
        self.save_presentation_action: QAction = make_action(
            w, "Save presentation &state (DICOM GSPS)...", self.save_presentation_dialog
        )
        self.open_presentation_action: QAction = make_action(
            w, "Open presentation state or key &images...", self.open_dialog
        )

    @property
    def actions(self) -> list[QAction]:
        return [
            self.save_key_images_action,
            self.save_presentation_action,
            self.open_presentation_action,
        ]

    # -- saving --------------------------------------------------------------------------

    def _marks(self, accepted_only: bool) -> list[Annotation]:
        doc = self.annotation.controller.document
        if doc is None:
            return []
        marks = exportable(doc)
        return reviewed(marks) if accepted_only else marks

    def _ask_path(self, title: str, name: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.shell.widget, title, name, _DICOM_FILES)
        return Path(path) if path else None

    def save_key_images_dialog(self) -> None:
        path = self._ask_path("Save key images", "key_images_kos.dcm")
        if path is not None:
            self.save_key_images(path)

    def save_presentation_dialog(self) -> None:
        path = self._ask_path("Save presentation state", "presentation_state_gsps.dcm")
        if path is not None:
            self.save_presentation_state(path)

    def _run(self, title: str, write: Callable[[], Path]) -> Job:
        def work(progress: Progress, cancelled: Cancelled) -> Path:
            progress(0, 1, title)
            return write()

        job = Job(title, work, self.shell.widget)
        job.succeeded.connect(lambda path: self.shell.show_status(f"Saved {path}", 8000))
        job.failed.connect(lambda message: self.shell.notify(title, message))
        return self.shell.start_job(job)

    def save_key_images(self, path: Path) -> Job | None:
        """A KOS ("Of Interest") of the images the study's marks (rejected ones left out) are
        on, at ``path``, in the background; None (the reason said) when there is none."""
        from spineviewer.annotations.kos import export_kos

        marks = self._marks(accepted_only=False)
        if not marks:
            self.annotation.controller.message.emit("No marks: no key image to save.")
            return None
        stacks = self.annotation.study_stacks()

        def write() -> Path:
            uids = list(dict.fromkeys(a.image.sop_instance_uid for a in marks))
            headers = source_headers(stacks, only=set(uids))
            return export_kos([headers[u] for u in uids], path)

        return self._run("Saving key images", write)

    def save_presentation_state(self, path: Path) -> Job | None:
        """A GSPS of the accepted marks and the active viewport's window, flip and turn at
        ``path``, in the background; None (the reason said) when no mark is accepted."""
        from spineviewer.annotations.gsps import export_gsps

        marks = self._marks(accepted_only=True)
        if not marks:
            self.annotation.controller.message.emit(
                "No accepted marks: accept or draw marks before saving a presentation state."
            )
            return None
        stacks = self.annotation.study_stacks()
        view = self._view()

        def write() -> Path:
            headers = source_headers(stacks, only={a.image.sop_instance_uid for a in marks})
            return export_gsps(marks, headers, path, view=view)

        return self._run("Saving the presentation state", write)

    def _view(self) -> View:
        """The active viewport's window (for its series), flip and turn as a GSPS view."""
        from spineviewer.annotations.gsps import flip_and_rotation

        viewport = self.shell.grid.active
        model = viewport.model
        flip, rotation = flip_and_rotation(model.transform.matrix)
        windows: dict[str, tuple[float, float]] = {}
        frame = viewport.info.frame if viewport.info is not None else None
        if frame is not None and model.window is not None:  # an acquired image, windowed
            windows[frame.instance.series_uid] = (model.window.center, model.window.width)
        from spineviewer.annotations.gsps import View

        return View(windows=windows, horizontal_flip=flip, rotation=rotation)

    # -- reading -------------------------------------------------------------------------

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.shell.widget, "Open presentation state or key images", "", _DICOM_FILES
        )
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path) -> str:
        """Show a GSPS or a KOS on the current study; the message said, returned."""
        from spineviewer.annotations.gsps_read import GSPS_SOP_CLASS
        from spineviewer.annotations.kos import KOS_SOP_CLASS

        try:
            sop_class = str(pydicom.dcmread(path, stop_before_pixels=True).SOPClassUID)
        except (OSError, AttributeError, pydicom.errors.InvalidDicomError) as exc:
            return self._say(f"{path.name}: not a readable DICOM file ({exc})", path.name)
        try:
            if sop_class == GSPS_SOP_CLASS:
                return self._say(self._show_gsps(path))
            if sop_class == KOS_SOP_CLASS:
                return self._say(self._show_kos(path))
        except (ValueError, OSError, KeyError) as exc:
            return self._say(f"{path.name}: {exc}", path.name)
        return self._say(f"{path.name}: neither a presentation state nor key images", path.name)

    def _say(self, text: str, failed_title: str = "") -> str:
        if failed_title:
            self.shell.notify("Cannot open", text)
        self.annotation.controller.message.emit(text)
        return text

    def _show_gsps(self, path: Path) -> str:
        from spineviewer.annotations.gsps_read import read_gsps_for

        session = self.annotation.controller.session
        if session is None:
            return "No study open for annotation."
        state = read_gsps_for(path, self.annotation.study_stacks())
        doc = session.document
        new = [a for a in state.annotations if a.uid not in doc]
        if new:
            step = AddAnnotations(new, f"Presentation state {state.label}")
            self.annotation.controller.push(session, step)
        viewport = self.shell.grid.active
        info = viewport.info
        frame = info.frame if info is not None else None
        window = state.windows.get(frame.instance.sop_instance_uid) if frame else None
        if window is not None and window[1] >= 1.0:
            viewport.set_window(Window(window[0], window[1]))
        if frame is not None and any(a.image.series_uid == frame.instance.series_uid
                                     for a in state.annotations):  # fmt: skip
            from spineviewer.annotations.gsps import display_matrix

            model = viewport.model
            matrix = display_matrix(state.view.horizontal_flip, state.view.rotation)
            model.set_transform(replace(model.transform, matrix=matrix))
        text = f"{path.name}: {len(new)} marks added ({len(state.annotations) - len(new)} present)"
        if state.skipped:
            text += f"; {len(state.skipped)} not shown (their images are not open)"
        return text

    def _show_kos(self, path: Path) -> str:
        from spineviewer.annotations.frames import image_refs
        from spineviewer.annotations.kos import read_kos

        keys = read_kos(path)
        refs = keys.refs(image_refs(self.annotation.study_stacks()))
        series = len({r.series_uid for r in refs})
        return (
            f"{path.name}: {keys.title}: {len(keys.images)} key images "
            f"({len(refs)} open, in {series} series)"
        )
