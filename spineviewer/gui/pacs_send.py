"""File > Send results to PACS: the analysis of the study in the active viewport in the formats
of the registry's ``send`` family (an SR of its findings and annotations, its PDF report as an
Encapsulated PDF, its key images as a Key Object Selection, its accepted marks and windows as
a Grayscale Softcopy Presentation State), written into a temporary folder and stored on a node
(C-STORE or STOW-RS), as one background job. What was left out (no GSPS without an accepted
mark) is said beside the result."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from spineviewer import formats as registry
from spineviewer.ai.findings import Findings
from spineviewer.annotations import AnnotationDocument
from spineviewer.dicom import Study
from spineviewer.gui.format_checks import chosen, format_checks
from spineviewer.gui.pacs_nodes import (
    PacsJobResult,
    fill_node_box,
    run_pacs_job,
    show_if_failed,
    show_message,
    show_notice,
)
from spineviewer.gui.workers import Cancelled, Job, Progress, Work
from spineviewer.pacs import (
    LocalAE,
    Node,
    PacsCancelled,
    PacsConfig,
    PacsError,
    StoreResult,
    store,
)
from spineviewer.reports import Report, build_report
from spineviewer.reports.comparison import with_prior

if TYPE_CHECKING:
    from spineviewer.gui.report_dialog import Analysed
    from spineviewer.gui.shell import Shell

__all__ = ["SEND_FORMATS", "SendDialog", "Sent", "open_send_dialog", "send_work"]

#: What can be sent from the dialog: the registry's ``send`` family.
SEND_FORMATS = registry.of(registry.Family.SEND)


@dataclass(frozen=True)
class Sent:
    """What a send did: the store's result, and what was not written and why."""

    result: StoreResult
    left_out: tuple[str, ...] = ()


def send_work(
    node: Node,
    local: LocalAE,
    report: Report,
    study: Study,
    findings: Findings,
    document: AnnotationDocument | None,
    formats: Sequence[str],
) -> Work:
    """The job's work: write the report set into a temporary folder, store its DICOM files
    (the job's value: :class:`Sent`)."""
    from spineviewer.reports.writer import write_report_set

    def work(progress: Progress, cancelled: Cancelled) -> Sent:
        left_out: list[str] = []
        with tempfile.TemporaryDirectory(prefix="spineviewer-send-") as folder:
            try:
                written = write_report_set(
                    report,
                    study,
                    findings,
                    document,
                    folder,
                    formats,
                    lambda text: progress(0, 0, text),
                    left_out=left_out.append,
                )
            except ValueError as exc:
                raise PacsError(f"nothing sent: the report could not be written ({exc})") from exc
            files = [p for p in written if Path(p).suffix == ".dcm"]
            if cancelled():
                raise PacsCancelled("sending cancelled before anything was sent")
            if not files:
                raise PacsError(f"nothing sent: {'; '.join(left_out) or 'no DICOM file written'}")
            return Sent(store(node, files, local, progress, cancelled), tuple(left_out))

    return work


class SendDialog(QDialog):
    """The node and what to send for one analysed study (non-modal)."""

    def __init__(self, shell: Shell) -> None:
        super().__init__(shell.widget)
        self.setWindowTitle("Send results to PACS")
        self.setModal(False)
        self.shell = shell
        self.job: Job | None = None
        self.store_result: StoreResult | None = None
        #: What the last send left out and why (a GSPS without an accepted mark).
        self.left_out: tuple[str, ...] = ()
        self.study: Study | None = None
        self.findings: Findings | None = None
        self.document: AnnotationDocument | None = None
        #: The report of the prior the study is compared with: the SR and PDF list both dates.
        self.prior: Report | None = None
        self.config = PacsConfig()
        self.what = QLabel()
        self.what.setWordWrap(True)
        self.node_box = QComboBox()
        self.node_box.setMinimumWidth(260)
        self.checks = format_checks(SEND_FORMATS, registry.defaults(registry.Family.SEND))
        for check in self.checks.values():
            check.toggled.connect(self._update_buttons)
        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("Study:", self.what)
        form.addRow("Send to:", self.node_box)
        for check in self.checks.values():
            form.addRow("", check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.cancel_button = QPushButton("Cancel sending")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def prepare(
        self,
        study: Study,
        findings: Findings,
        document: AnnotationDocument | None,
        prior: Report | None = None,
    ) -> None:
        """Send the results of ``study`` (its nodes reloaded), compared with ``prior`` (the
        prior study's report) when given."""
        self.study, self.findings, self.document = study, findings, document
        self.prior = prior
        keys = ("PatientName", "PatientID", "StudyDate", "StudyDescription")
        label = " · ".join(study.info[k].replace("^", " ") for k in keys if study.info.get(k))
        self.what.setText(
            f"{label or study.uid}\nanalysed: {len(findings.vertebrae)} vertebrae, "
            f"{len(findings.discs)} discs, {len(findings.implants)} implants"
        )
        show_message(self.status, "")
        self.config = fill_node_box(self.node_box, self.status)
        self._update_buttons()

    def formats(self) -> list[str]:
        return chosen(self.checks)

    def sending(self) -> bool:
        return self.job is not None and not self.job.done

    def _update_buttons(self) -> None:
        ready = self.study is not None and self.node_box.count() > 0 and bool(self.formats())
        self.send_button.setEnabled(ready and not self.sending())
        self.cancel_button.setEnabled(self.sending())

    def send(self) -> Job | None:
        """Write and store the chosen files in the background."""
        node = self.node_box.currentData()
        study, findings = self.study, self.findings
        if study is None or findings is None or node is None or self.sending():
            return None
        report = with_prior(build_report(study, findings, self.document), self.prior)
        work = send_work(
            node, self.config.local, report, study, findings, self.document, self.formats()
        )
        show_message(self.status, f"Sending to {node.label}...")
        self.job = run_pacs_job(
            self,
            self.shell,
            f"Sending results to {node.name}",
            work,
            lambda result: self._sent(node, result),
            self.progress,
        )
        self.job.finished.connect(self._update_buttons)
        self._update_buttons()
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _sent(self, node: Node, job: PacsJobResult) -> None:
        if show_if_failed(self.status, job, self, self.shell, "Sending failed"):
            return
        sent: Sent = job.value
        result = self.store_result = sent.result
        self.left_out = sent.left_out
        text = " ".join([result.summary(node.name), *(f"Not sent: {n}." for n in sent.left_out)])
        show_message(self.status, text, bool(result.failed))
        if result.failed:
            show_notice(self, self.shell, "Some results were not sent", text)
        else:
            self.shell.show_status(text, 10000)


def open_send_dialog(shell: Shell, analysed: Analysed) -> SendDialog:
    """The dialog (one per window) for an analysed study: what Export report would write."""
    dialog = shell.widget.findChild(SendDialog) or SendDialog(shell)
    dialog.prepare(analysed.study, analysed.findings, analysed.document, analysed.prior)
    return dialog
