"""File > PACS nodes: our AE title and storage port, the DIMSE and DICOMweb nodes, "Test
connection" (C-ECHO or a QIDO-RS request, in the background), saved with
:func:`spineviewer.pacs.save_config`.

Also the one way the PACS dialogs run network work: :func:`run_pacs_job` (a background
:class:`~spineviewer.gui.workers.Job`; a :class:`~spineviewer.pacs.PacsError` comes back as
its message, to be shown as it is)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from spineviewer.gui.theme import ERROR_COLOR
from spineviewer.gui.workers import Cancelled, Job, Progress, Work
from spineviewer.pacs import (
    DicomWebNode,
    DimseNode,
    LocalAE,
    Node,
    PacsCancelled,
    PacsConfig,
    PacsError,
    echo,
    load_config,
    save_config,
)
from spineviewer.pacs.nodes import AUTH_KINDS

if TYPE_CHECKING:
    from spineviewer.gui.shell import Shell

__all__ = [
    "NodeEditor",
    "PacsJobResult",
    "fill_node_box",
    "load_config_or_say",
    "run_pacs_job",
    "show_if_failed",
    "show_message",
    "show_notice",
]

OK_COLOR = "#90be6d"


@dataclass(frozen=True)
class PacsJobResult:
    """How a PACS job ended: its value, or the message to show (``error``), or cancelled."""

    value: Any = None
    error: str = ""
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.error and not self.cancelled


def run_pacs_job(
    owner: QWidget,
    shell: Shell | None,
    title: str,
    work: Work,
    done: Callable[[PacsJobResult], None],
    bar: QProgressBar | None = None,
) -> Job:
    """Run ``work`` in the background (in the window's status bar, with its cancel button, when
    there is a window, ``shell``); ``done`` gets the :class:`PacsJobResult` on the GUI thread,
    ``bar`` (shown while it runs) the progress."""

    def guarded(progress: Progress, cancelled: Cancelled) -> PacsJobResult:
        try:
            return PacsJobResult(work(progress, cancelled))
        except PacsCancelled:
            raise
        except PacsError as exc:  # the user-facing message, as it is
            return PacsJobResult(error=str(exc))

    job = Job(title, guarded, shell.widget if shell is not None else owner)
    job.succeeded.connect(done)
    if bar is not None:
        bar.setRange(0, 0)
        bar.show()
        job.progress.connect(lambda value, total, text: _show_progress(bar, value, total))
        job.finished.connect(bar.hide)
    job.failed.connect(lambda message: done(PacsJobResult(error=message)))
    job.cancelled.connect(lambda: done(PacsJobResult(error=f"{title}: cancelled", cancelled=True)))
    if shell is not None:
        return shell.start_job(job)
    return job.start()


def show_if_failed(
    label: QLabel,
    result: PacsJobResult,
    owner: QWidget | None = None,
    shell: Shell | None = None,
    title: str = "",
) -> bool:
    """True when ``result`` was cancelled or failed: said in ``label`` and, with a ``title``,
    a failure also in a non-modal notice."""
    if result.ok:
        return False
    show_message(label, result.error, not result.cancelled)
    if title and not result.cancelled and owner is not None:
        show_notice(owner, shell, title, result.error)
    return True


def _show_progress(bar: QProgressBar, value: int, total: int) -> None:
    if total > 0:
        bar.setRange(0, total)
        bar.setValue(value)
    else:
        bar.setRange(0, 0)


def show_message(label: QLabel, text: str, error: bool = False) -> None:
    """A dialog's status line: plain, or in the error colour."""
    label.setText(text)
    label.setStyleSheet(f"color: {ERROR_COLOR}" if error else "")


def show_notice(
    owner: QWidget, shell: Shell | None, title: str, text: str, details: str = ""
) -> None:
    """A non-modal warning (the window's, when there is one)."""
    if shell is not None:
        shell.notify(title, text, details)
        return
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=owner)
    box.setDetailedText(details)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()


def load_config_or_say(status: QLabel) -> PacsConfig:
    """The saved PACS configuration; an empty one, with the reason in ``status``, when it
    cannot be read."""
    try:
        return load_config()
    except PacsError as exc:
        show_message(status, f"{exc}; starting from an empty configuration", True)
        return PacsConfig()


def fill_node_box(box: QComboBox, status: QLabel) -> PacsConfig:
    """The configured nodes into ``box`` (by name, the node as item data), keeping the current
    choice when it is still there."""
    config = load_config_or_say(status)
    current = box.currentText()
    box.blockSignals(True)
    box.clear()
    for node in config.nodes:
        box.addItem(node.name, node)
        box.setItemData(box.count() - 1, node.label, Qt.ItemDataRole.ToolTipRole)
    box.setCurrentIndex(max(0, box.findText(current)))
    box.blockSignals(False)
    if not config.nodes:
        show_message(status, "No PACS node configured yet: add one with PACS nodes...")
    return config


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name} {number}" in taken:
        number += 1
    return f"{name} {number}"


def _timeout_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(1.0, 600.0)
    box.setDecimals(0)
    box.setSuffix(" s")
    box.setValue(value)
    return box


class _DimseForm(QWidget):
    """The fields of a DIMSE node."""

    def __init__(self) -> None:
        super().__init__()
        self.name = QLineEdit()
        self.ae_title = QLineEdit()
        self.ae_title.setMaxLength(16)
        self.host = QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.timeout = _timeout_box(10.0)
        form = QFormLayout(self)
        form.addRow("Name:", self.name)
        form.addRow("AE title:", self.ae_title)
        form.addRow("Host:", self.host)
        form.addRow("Port:", self.port)
        form.addRow("Timeout:", self.timeout)
        self.fields: tuple[QWidget, ...] = (
            self.name,
            self.ae_title,
            self.host,
            self.port,
            self.timeout,
        )

    def load(self, node: DimseNode) -> None:
        self.name.setText(node.name)
        self.ae_title.setText(node.ae_title)
        self.host.setText(node.host)
        self.port.setValue(node.port)
        self.timeout.setValue(node.timeout_s)

    def node(self) -> DimseNode:
        host = self.host.text().strip()
        if not host:
            raise PacsError(f"node {self.name.text()!r}: the host is empty")
        return DimseNode(
            self.name.text().strip(),
            self.ae_title.text(),
            host,
            self.port.value(),
            self.timeout.value(),
        )


class _DicomWebForm(QWidget):
    """The fields of a DICOMweb node; the credential fields follow the authentication."""

    def __init__(self) -> None:
        super().__init__()
        self.name = QLineEdit()
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://pacs.example.org/dicom-web")
        self.auth = QComboBox()
        self.auth.addItems(list(AUTH_KINDS))
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.verify_tls = QCheckBox("Verify the TLS certificate")
        self.verify_tls.setChecked(True)
        self.ca_bundle = QLineEdit()
        self.ca_bundle.setPlaceholderText("the system's (or REQUESTS_CA_BUNDLE)")
        self.ca_bundle.setToolTip("A PEM file of the certificate authorities to trust")
        self.timeout = _timeout_box(30.0)
        self.form = QFormLayout(self)
        self.form.addRow("Name:", self.name)
        self.form.addRow("Base URL:", self.url)
        self.form.addRow("Authentication:", self.auth)
        self.form.addRow("User name:", self.username)
        self.form.addRow("Password:", self.password)
        self.form.addRow("Token:", self.token)
        self.form.addRow("", self.verify_tls)
        self.form.addRow("CA bundle:", self.ca_bundle)
        self.form.addRow("Timeout:", self.timeout)
        self.auth.currentTextChanged.connect(self._show_credentials)
        self._show_credentials(self.auth.currentText())
        self.fields: tuple[QWidget, ...] = (
            self.name,
            self.url,
            self.auth,
            self.username,
            self.password,
            self.token,
            self.verify_tls,
            self.ca_bundle,
            self.timeout,
        )

    def _show_credentials(self, auth: str) -> None:
        for widget, shown in (
            (self.username, auth == "basic"),
            (self.password, auth == "basic"),
            (self.token, auth == "bearer"),
        ):
            self.form.setRowVisible(widget, shown)

    def load(self, node: DicomWebNode) -> None:
        self.name.setText(node.name)
        self.url.setText(node.url)
        self.auth.setCurrentText(node.auth)
        self.username.setText(node.username)
        self.password.setText(node.password)
        self.token.setText(node.token)
        self.verify_tls.setChecked(node.verify_tls)
        self.ca_bundle.setText(node.ca_bundle)
        self.timeout.setValue(node.timeout_s)

    def node(self) -> DicomWebNode:
        auth = self.auth.currentText()
        return DicomWebNode(
            self.name.text().strip(),
            self.url.text().strip(),
            auth,
            self.username.text() if auth == "basic" else "",
            self.password.text() if auth == "basic" else "",
            self.token.text().strip() if auth == "bearer" else "",
            self.verify_tls.isChecked(),
            self.timeout.value(),
            ca_bundle=self.ca_bundle.text().strip(),
        )


class NodeEditor(QDialog):
    """Our AE and the PACS nodes: add, edit, remove, test, save (non-modal)."""

    #: The configuration just saved.
    saved = Signal(object)

    def __init__(self, parent: QWidget | None = None, shell: Shell | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS nodes")
        self.setModal(False)
        self.resize(760, 480)
        self.shell = shell
        self.job: Job | None = None
        self.test_ok: bool | None = None
        self._loading = False
        self._errors: dict[int, str] = {}
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.nodes: list[Node] = []

        self.ae_title = QLineEdit()
        self.ae_title.setMaxLength(16)
        self.ae_title.setToolTip("Our AE title: the PACS must know it (C-FIND, C-GET, C-MOVE)")
        self.local_port = QSpinBox()
        self.local_port.setRange(1, 65535)
        self.local_port.setToolTip("Where our storage SCP listens during a C-MOVE")
        ours = QGroupBox("This viewer")
        ours_form = QFormLayout(ours)
        ours_form.addRow("AE title:", self.ae_title)
        ours_form.addRow("Storage port (C-MOVE):", self.local_port)

        self.node_list = QListWidget()
        self.node_list.currentRowChanged.connect(self._on_row_changed)
        add_dimse = QPushButton("Add DIMSE")
        add_dimse.clicked.connect(lambda: self.add_node("dimse"))
        add_web = QPushButton("Add DICOMweb")
        add_web.clicked.connect(lambda: self.add_node("dicomweb"))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_node)
        list_buttons = QHBoxLayout()
        for button in (add_dimse, add_web, self.remove_button):
            list_buttons.addWidget(button)
        left = QVBoxLayout()
        left.addWidget(QLabel("Nodes:"))
        left.addWidget(self.node_list, 1)
        left.addLayout(list_buttons)

        self.dimse_form = _DimseForm()
        self.web_form = _DicomWebForm()
        self.forms = QStackedWidget()
        self.forms.addWidget(QLabel("Add a node, or choose one in the list."))
        self.forms.addWidget(self.dimse_form)
        self.forms.addWidget(self.web_form)
        for form in (self.dimse_form, self.web_form):
            for widget in form.fields:
                for name in ("textChanged", "valueChanged", "currentTextChanged", "toggled"):
                    signal = getattr(widget, name, None)
                    if signal is not None:
                        signal.connect(self._on_form_edited)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right = QVBoxLayout()
        right.addWidget(self.forms)
        right.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        right.addWidget(self.test_result)
        right.addStretch(1)

        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addLayout(right, 3)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addWidget(ours)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        """Show the saved configuration (edits not saved are dropped)."""
        show_message(self.status, "")
        config = load_config_or_say(self.status)
        problem = self.status.text()
        self.ae_title.setText(config.local.ae_title)
        self.local_port.setValue(config.local.port)
        self.nodes = list(config.nodes)
        self._errors = {}
        self.node_list.clear()
        for node in self.nodes:
            self.node_list.addItem(node.label)
        self.node_list.setCurrentRow(0 if self.nodes else -1)
        self._on_row_changed(self.node_list.currentRow())
        show_message(self.status, problem, bool(problem))

    # -- the list ------------------------------------------------------------------------

    def add_node(self, kind: str) -> Node:
        """A new node with placeholder values, selected for editing."""
        taken = {n.name for n in self.nodes}
        node: Node
        if kind == "dimse":
            node = DimseNode(_unique("PACS", taken), "PACS", "localhost", 104)
        else:
            node = DicomWebNode(_unique("DICOMweb", taken), "http://localhost:8042/dicom-web")
        self.nodes.append(node)
        self.node_list.addItem(node.label)
        self.node_list.setCurrentRow(len(self.nodes) - 1)
        return node

    def remove_node(self) -> None:
        row = self.node_list.currentRow()
        if row < 0:
            return
        del self.nodes[row]
        self._errors = {r - (r > row): e for r, e in self._errors.items() if r != row}
        self.node_list.takeItem(row)
        self._on_row_changed(self.node_list.currentRow())

    def _on_row_changed(self, row: int) -> None:
        self.remove_button.setEnabled(row >= 0)
        self.test_button.setEnabled(row >= 0)
        self.test_result.clear()
        self.test_ok = None
        if row < 0 or row >= len(self.nodes):
            self.forms.setCurrentIndex(0)
            return
        node = self.nodes[row]
        self._loading = True
        try:
            if isinstance(node, DimseNode):
                self.dimse_form.load(node)
                self.forms.setCurrentWidget(self.dimse_form)
            else:
                self.web_form.load(node)
                self.forms.setCurrentWidget(self.web_form)
        finally:
            self._loading = False
        show_message(self.status, self._errors.get(row, ""), row in self._errors)

    def _form_node(self) -> Node:
        if self.forms.currentWidget() is self.dimse_form:
            return self.dimse_form.node()
        return self.web_form.node()

    def _on_form_edited(self, *_: object) -> None:
        """Every edit updates the node in the list, or says what is wrong with it."""
        row = self.node_list.currentRow()
        if self._loading or row < 0:
            return
        self.test_ok = None
        try:
            node = self._form_node()
            if not node.name:
                raise PacsError("a node needs a name")
        except PacsError as exc:
            self._errors[row] = str(exc)
            show_message(self.status, str(exc), True)
            return
        self._errors.pop(row, None)
        self.nodes[row] = node
        self.node_list.item(row).setText(node.label)
        show_message(self.status, "")

    # -- test and save ---------------------------------------------------------------------

    def local(self) -> LocalAE:
        """Our AE as the fields say (PacsError when the AE title is not valid)."""
        return LocalAE(self.ae_title.text(), self.local_port.value())

    def test_connection(self) -> Job | None:
        """C-ECHO (DIMSE) or one QIDO-RS request (DICOMweb) with the node as edited."""
        try:
            node, local = self._form_node(), self.local()
        except PacsError as exc:
            self._tested(PacsJobResult(error=str(exc)))
            return None
        self.test_ok = None
        self.test_button.setEnabled(False)
        show_message(self.test_result, f"Testing {node.label}...")
        work = lambda progress, cancelled: echo(node, local)  # noqa: E731
        self.job = run_pacs_job(
            self,
            self.shell,
            f"Testing {node.name}",
            work,
            lambda result: self._tested(result, node),
        )
        return self.job

    def _tested(self, result: PacsJobResult, node: Node | None = None) -> None:
        self.test_button.setEnabled(self.node_list.currentRow() >= 0)
        self.test_ok = result.ok
        if result.ok and node is not None:
            service = "C-ECHO" if isinstance(node, DimseNode) else "QIDO-RS"
            self.test_result.setText(f"Connection OK: {node.label} answered ({service}).")
            self.test_result.setStyleSheet(f"color: {OK_COLOR}")
        else:
            show_message(self.test_result, result.error, True)

    def config(self) -> PacsConfig:
        """The configuration as edited; PacsError naming what is still wrong."""
        if self._errors:
            row, error = min(self._errors.items())
            raise PacsError(f"{self.node_list.item(row).text()}: {error}")
        names = [n.name for n in self.nodes]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PacsError(f"two nodes are named {twice[0]!r}: give each its own name")
        return PacsConfig(self.local(), tuple(self.nodes))

    def save(self) -> bool:
        """Write the configuration (and close); on a problem, say it and stay open."""
        try:
            config = self.config()
            path = save_config(config)
        except (PacsError, OSError) as exc:
            show_message(self.status, f"Not saved: {exc}", True)
            return False
        show_message(self.status, f"Saved to {path}")
        self.saved.emit(config)
        self.accept()
        return True
