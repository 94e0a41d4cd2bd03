"""File > Export report (Ctrl+E): the report of the current study, previewed as it stands (the
findings with the current review of the proposals and the manual measurements), written in the
formats chosen (the registry's report family: JSON, HTML, PDF, DICOM SR, Encapsulated PDF,
KOS, GSPS) into a folder, in the background.

The reader writes the impression here (the conclusion in their own words). It is saved with
the study's annotations when the report is exported or with "Save impression": one step of
the study's undo stack when the dialog has it (Ctrl+Z in the viewer takes it back; the
autosave writes it), else set on the document and saved to the workspace at once (merged
like any other writer's save). The preview follows the typing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from spineviewer import formats as registry
from spineviewer.ai.findings import Findings
from spineviewer.annotations import AnnotationDocument
from spineviewer.annotations.commands import UndoStack
from spineviewer.annotations.errors import WorkspaceError
from spineviewer.annotations.impression import Impression, impression_text
from spineviewer.annotations.impression_edits import set_impression
from spineviewer.dicom import Study
from spineviewer.gui.format_checks import chosen, format_checks
from spineviewer.gui.workers import Cancelled, Progress, Work
from spineviewer.reports import Report, build_report
from spineviewer.reports.comparison import with_prior
from spineviewer.reports.html import render_html

__all__ = ["Analysed", "ReportDialog", "export_work", "open_report_dialog"]


@dataclass(frozen=True)
class Analysed:
    """What a report (or a PACS send) is made of: an analysed study, its findings, and its
    annotations as reviewed so far (None when it has no annotation document), with the
    document's undo stack when there is one (the impression is then an undoable edit)."""

    study: Study
    findings: Findings
    document: AnnotationDocument | None
    stack: UndoStack | None = None
    #: The report of the prior study it is compared with (File > Open prior), else None.
    prior: Report | None = None


def export_work(
    study: Study,
    findings: Findings,
    document: AnnotationDocument | None,
    report: Report,
    folder: Path,
    formats: list[str],
) -> Work:
    """The background job's work: the report set, step by step in the progress bar."""
    from spineviewer.reports.writer import write_report_set

    def work(progress: Progress, cancelled: Cancelled) -> list[Path]:
        steps = iter(range(3))
        say = lambda text: progress(next(steps, 2), 3, text)  # noqa: E731
        return write_report_set(report, study, findings, document, folder, formats, say)

    return work


class ReportDialog(QDialog):
    """Format choice, output folder, and a preview of the report as it stands."""

    def __init__(
        self,
        parent: QWidget | None,
        study: Study,
        findings: Findings,
        document: AnnotationDocument | None,
        folder: Path,
        institution: str = "",
        stack: UndoStack | None = None,
        prior: Report | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.prior = prior
        self.resize(900, 820)
        self.study, self.findings, self.document = study, findings, document
        self.stack = stack
        self.institution = institution
        saved = document.impression if document is not None else None
        self.impression = QPlainTextEdit(saved.text if saved is not None else "")
        self.impression.setPlaceholderText(
            "Impression: your conclusion, in your own words (saved with the annotations)"
        )
        self.impression.setAccessibleName("Impression")
        self.impression.setFixedHeight(96)
        self.preview = QTextBrowser()
        self.preview.setStyleSheet("QTextBrowser { background: #ffffff; color: #111111; }")
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(300)
        self._typing.timeout.connect(self.refresh)
        self.impression.textChanged.connect(self._typing.start)
        self.report = with_prior(build_report(study, findings, document, institution), prior)
        self.refresh()
        save = QPushButton("Save impression")
        save.setToolTip("Save the impression with the study's annotations (undo: Ctrl+Z)")
        save.clicked.connect(self.save_impression)
        save.setEnabled(document is not None)
        family = registry.Family.REPORT
        self.checks = format_checks(registry.of(family), registry.defaults(family))
        self.folder = QLineEdit(str(folder))
        browse = QPushButton("Choose...")
        browse.clicked.connect(self._choose)
        formats = QHBoxLayout()
        formats.addWidget(QLabel("Formats:"))
        for check in self.checks.values():
            formats.addWidget(check)
        formats.addStretch(1)
        where = QHBoxLayout()
        where.addWidget(QLabel("Folder:"))
        where.addWidget(self.folder, 1)
        where.addWidget(browse)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        impression = QHBoxLayout()
        impression.addWidget(self.impression, 1)
        impression.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.preview, 1)
        layout.addWidget(QLabel("Impression:"))
        layout.addLayout(impression)
        layout.addLayout(formats)
        layout.addLayout(where)
        layout.addWidget(buttons)

    def impression_text(self) -> str:
        """What the reader typed, as an impression keeps it."""
        return impression_text(self.impression.toPlainText())

    def _impression(self) -> Impression | str:
        """The impression of the report as it stands: the document's when unchanged (its
        author and time), else the typed text ("" for none)."""
        saved = self.document.impression if self.document is not None else None
        text = self.impression_text()
        if saved is not None and saved.text == text:
            return saved
        return text

    def refresh(self) -> None:
        """The report and its preview with the impression as typed."""
        self._typing.stop()
        self.report = with_prior(
            build_report(
                self.study, self.findings, self.document, self.institution,
                impression=self._impression(),
            ),
            self.prior,
        )  # fmt: skip
        self.preview.setHtml(render_html(self.report))  # on paper, as it will print

    def save_impression(self) -> bool:
        """Keep the typed impression in the study's annotation document (an undo step when
        the dialog has the stack); False when there is no document or nothing changed."""
        document = self.document
        if document is None:
            return False
        if self.stack is not None:
            changed = set_impression(self.stack, self.impression_text())
        else:
            changed = set_impression(UndoStack(document), self.impression_text())
            if changed:
                self._commit(document)
        self.refresh()
        return changed

    def _commit(self, document: AnnotationDocument) -> None:
        """Save ``document`` to the workspace now (no autosave watches it here); a failure is
        said in the dialog, the impression stays in the document and the report."""
        from spineviewer.annotations import Workspace

        try:
            with Workspace() as workspace:
                workspace.commit(document)
        except (OSError, sqlite3.Error, WorkspaceError, ValueError) as exc:
            QMessageBox.warning(
                self, "Impression not saved", f"The impression was not saved: {exc}"
            )

    def accept(self) -> None:
        """Export: the impression is saved first, so the files and the annotations agree."""
        self.save_impression()
        super().accept()

    def _choose(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export the report to", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def formats(self) -> list[str]:
        return chosen(self.checks)

    def work(self) -> Work:
        folder = Path(self.folder.text()).expanduser()
        return export_work(
            self.study, self.findings, self.document, self.report, folder, self.formats()
        )


def open_report_dialog(parent: QWidget | None, analysed: Analysed) -> ReportDialog:
    """The dialog for an analysed study (AnalysisUi.analysed), writing to the user's
    "SpineViewer reports" folder unless changed."""
    study = analysed.study
    folder = Path.home() / "SpineViewer reports" / study.uid
    return ReportDialog(
        parent, study, analysed.findings, analysed.document, folder, stack=analysed.stack,
        prior=analysed.prior,
    )  # fmt: skip
