"""File > Export report (Ctrl+E): the report of the current study, previewed as it stands (the
findings with the current review of the proposals and the manual measurements), written in the
formats chosen (the registry's report family: JSON, HTML, PDF, DICOM SR, Encapsulated PDF,
KOS, GSPS) into a folder, in the background."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from spineviewer import formats as registry
from spineviewer.ai.findings import Findings
from spineviewer.annotations import AnnotationDocument
from spineviewer.dicom import Study
from spineviewer.gui.format_checks import chosen, format_checks
from spineviewer.gui.workers import Cancelled, Progress, Work
from spineviewer.reports import Report, build_report
from spineviewer.reports.html import render_html

__all__ = ["Analysed", "ReportDialog", "export_work", "open_report_dialog"]


@dataclass(frozen=True)
class Analysed:
    """What a report (or a PACS send) is made of: an analysed study, its findings, and its
    annotations as reviewed so far (None when it has no annotation document)."""

    study: Study
    findings: Findings
    document: AnnotationDocument | None


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
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.resize(900, 760)
        self.study, self.findings, self.document = study, findings, document
        self.report = build_report(study, findings, document, institution)
        self.preview = QTextBrowser()
        self.preview.setStyleSheet("QTextBrowser { background: #ffffff; color: #111111; }")
        self.preview.setHtml(render_html(self.report))  # on paper, as it will print
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.preview, 1)
        layout.addLayout(formats)
        layout.addLayout(where)
        layout.addWidget(buttons)

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
    return ReportDialog(parent, study, analysed.findings, analysed.document, folder)
