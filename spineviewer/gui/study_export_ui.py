"""File > Export anonymised study...: the opened studies, ticked, exported anonymised (DICOM
PS3.15 Basic Profile, one UID map) into a folder with a DICOMDIR or a zip, with the
annotation objects (SR, SEG, KOS, GSPS) from the workspace's saved documents, as a background
job with the window's progress bar and Cancel (:mod:`spineviewer.annotations.study_objects`).

A study whose images may show burned-in text comes back refused with its reasons; the user is
asked (:func:`burned_in_box`, No by default) and the export runs again only on Yes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QWidget,
)

from spineviewer import formats as registry
from spineviewer.gui.actions import make_action
from spineviewer.gui.workers import Cancelled, Job, Progress, Work

if TYPE_CHECKING:
    from spineviewer.dicom import Study
    from spineviewer.dicom.study_export import StudyExportResult
    from spineviewer.gui.shell import Shell

__all__ = ["StudyExportDialog", "StudyExportUi", "burned_in_box", "study_export_work"]

DIALOG_WIDTH = 560
TITLE = "Export anonymised study"


LABEL_PART = 32


def _study_label(study: Study) -> str:
    """``(3 series) 20240102 - LUMBAR MR - DOE^JANE``, each part cut to :data:`LABEL_PART`."""
    keys = ("StudyDate", "StudyDescription", "PatientName")
    parts = [study.info.get(key, "")[:LABEL_PART] for key in keys]
    return f"({len(study.series)} series) {' - '.join(p for p in parts if p) or study.uid}"


class StudyExportDialog(QDialog):
    """Which studies, where (a folder or a zip: the registry's ``study`` formats), and whether
    the annotations go with them."""

    def __init__(self, parent: QWidget | None, studies: Sequence[Study], path: Path) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setMinimumWidth(DIALOG_WIDTH)
        self.studies = list(studies)
        self.list = QListWidget()
        for study in self.studies:
            item = QListWidgetItem(_study_label(study), self.list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
        self.formats = registry.of(registry.Family.STUDY)
        self.format = QComboBox()
        self.format.addItems([f.label for f in self.formats])
        self.format.setCurrentIndex(
            self.formats.index(registry.get(registry.defaults(registry.Family.STUDY)[0]))
        )
        self.format.currentIndexChanged.connect(self._suffix)
        self.path = QLineEdit(str(path))
        browse = QPushButton("Choose...")
        browse.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.annotations = QCheckBox(
            "With the annotations (DICOM SR, SEG, key images, presentation state)"
        )
        self.annotations.setChecked(True)
        self.keep_text = QCheckBox("Keep the annotations' notes and free-text labels")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Studies:", self.list)
        form.addRow("Format:", self.format)
        form.addRow("Save as:", row)
        form.addRow(self.annotations)
        form.addRow(self.keep_text)
        form.addRow(buttons)
        self._suffix()

    def chosen(self) -> list[Study]:
        """The ticked studies."""
        return [
            study
            for i, study in enumerate(self.studies)
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    @property
    def fmt(self) -> registry.OutputFormat:
        return self.formats[self.format.currentIndex()]

    def target(self) -> Path:
        return Path(self.path.text()).expanduser()

    def _suffix(self) -> None:
        path = Path(self.path.text())
        self.path.setText(str(path.with_suffix(self.fmt.suffix)))

    def _choose(self) -> None:
        if self.fmt.suffix:
            chosen, _ = QFileDialog.getSaveFileName(
                self, TITLE, self.path.text(), f"{self.fmt.label} (*{self.fmt.suffix})"
            )
        else:
            chosen = QFileDialog.getSaveFileName(
                self, f"{TITLE}: the new folder", self.path.text()
            )[0]
        if chosen:
            self.path.setText(chosen)


@dataclass(frozen=True)
class Refused:
    """The export's answer when studies may show burned-in text: nothing was written."""

    reasons: list[str]


def study_export_work(
    studies: Sequence[Study], out: Path, with_annotations: bool, keep_text: bool, burned_in_ok: bool
) -> Work:
    """The background job's work: the export's result, or :class:`Refused`."""

    def work(progress: Progress, cancelled: Cancelled) -> StudyExportResult | Refused:
        from spineviewer.annotations.study_objects import (
            export_studies_with_annotations,
            saved_documents,
        )
        from spineviewer.dicom.study_export import BurnedInRefused

        documents = saved_documents(studies) if with_annotations else None
        try:
            return export_studies_with_annotations(
                studies, out, documents, keep_text=keep_text, burned_in_ok=burned_in_ok,
                progress=progress, cancelled=cancelled,
            )  # fmt: skip
        except BurnedInRefused as exc:
            return Refused(exc.reasons)

    return work


def burned_in_box(parent: QWidget | None, reasons: Sequence[str]) -> QMessageBox:
    """The question asked before exporting studies whose pixels may show text (No default)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(TITLE)
    box.setText(
        f"{len(reasons)} series may show burned-in text (names, dates) in their pixels, which "
        "the anonymisation cannot remove."
    )
    box.setInformativeText("Export them anyway? Check the images first.")
    box.setDetailedText("\n".join(reasons))
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box


def _ask(parent: QWidget | None, reasons: Sequence[str]) -> bool:
    return burned_in_box(parent, reasons).exec() == QMessageBox.StandardButton.Yes


class StudyExportUi:
    """The File > Export anonymised study action of the window (see the module text)."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.export_study_action: QAction = make_action(
            shell.widget, "Export &anonymised study...", self.export_study
        )
        self.folder = Path.home()
        #: Asks whether to export burned-in studies anyway (the tests answer without a box).
        self.confirm: Callable[[QWidget | None, Sequence[str]], bool] = _ask
        self.last: StudyExportResult | None = None

    def export_study(self, dialog: StudyExportDialog | None = None) -> Job | None:
        """File > Export anonymised study; a ``dialog`` given (already set up) is used as set."""
        studies = self.shell.studies()
        if not studies:
            self.shell.show_status("Nothing to export: open a study first.")
            return None
        if dialog is None:
            dialog = StudyExportDialog(self.shell.widget, studies, self.folder / "anonymised-study")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        chosen = dialog.chosen()
        if not chosen:
            self.shell.show_status("Nothing to export: no study ticked.")
            return None
        target = dialog.target()
        self.folder = target.parent
        run = partial(
            self._start,
            chosen,
            target,
            dialog.annotations.isChecked(),
            dialog.keep_text.isChecked(),
        )
        return run(False)

    def _start(
        self, studies: list[Study], target: Path, annotations: bool, keep: bool, burned_in_ok: bool
    ) -> Job:
        work = study_export_work(studies, target, annotations, keep, burned_in_ok)
        job = self.shell.start_job(Job("Exporting the anonymised study", work, self.shell.widget))
        again = partial(self._start, studies, target, annotations, keep)
        job.succeeded.connect(lambda result: self._done(result, again))
        return job

    def _done(self, result: StudyExportResult | Refused, again: Callable[[bool], Job]) -> None:
        if isinstance(result, Refused):
            if self.confirm(self.shell.widget, result.reasons):
                again(True)
            else:
                self.shell.show_status("Anonymised study export: refused (burned-in text)", 10000)
            return
        self.last = result
        self.shell.show_status(f"Anonymised study written: {result.path} ({result.summary})", 15000)
        if result.skipped:
            self.shell.notify(TITLE, f"Written: {result.path}", "\n".join(result.skipped))
