"""File > Query/Retrieve from PACS (Ctrl+Shift+Q): search a node's studies (patient name with
``*`` and ``?``, patient ID, accession, dates, modality), list a study's series, retrieve it
(C-GET, C-MOVE or WADO-RS) into the workspace and open it in the viewer. Every network call
is a background job; a partial retrieve is said to be partial, never shown as whole.

File > Open prior from PACS uses the same dialog for the patient of the current study
(:meth:`QueryDialog.find_priors`): the node's other studies of its PatientID, newest first,
each with its date; the one retrieved opens as the prior, beside the current."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from spineviewer.gui.pacs_nodes import (
    NodeEditor,
    PacsJobResult,
    fill_node_box,
    run_pacs_job,
    show_if_failed,
    show_message,
    show_notice,
)
from spineviewer.gui.theme import WARNING_COLOR
from spineviewer.gui.workers import Cancelled, Job, Progress
from spineviewer.pacs import (
    DicomWebNode,
    DimseNode,
    Node,
    PacsConfig,
    PacsError,
    Query,
    RetrieveResult,
    SeriesMatch,
    StudyMatch,
    find_series,
    find_studies,
    retrieve,
    retrieve_root,
)

if TYPE_CHECKING:
    from spineviewer.dicom import Study
    from spineviewer.gui.report_dialog import Analysed
    from spineviewer.gui.shell import Shell

__all__ = ["QueryDialog", "open_pacs"]

METHODS = {"get": "C-GET", "move": "C-MOVE", "wado": "WADO-RS"}
STUDY_COLUMNS = (
    "Patient",
    "Patient ID",
    "Date",
    "Description",
    "Modalities",
    "Series",
    "Images",
    "Accession",
)
SERIES_COLUMNS = ("Number", "Modality", "Description", "Images")
MODALITIES = ("", "MR", "CT", "CR", "DX", "XA", "US", "NM", "PT", "SR", "SEG", "DOC")
MAX_COLUMN_WIDTH = 300
#: A date edit at this date means "any date" (it shows the words).
ANY_DATE = QDate(1900, 1, 1)


def _date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(ANY_DATE)
    edit.setSpecialValueText("any date")
    edit.setDate(ANY_DATE)
    return edit


def date_text(edit: QDateEdit) -> str:
    """``YYYYMMDD``, or '' for "any date"."""
    date = edit.date()
    return "" if date == edit.minimumDate() else date.toString("yyyyMMdd")


def _person(name: str) -> str:
    return " ".join(part for part in name.split("^") if part)


def _day(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 else value


def _item(value: str | int | None) -> QTableWidgetItem:
    """A read-only cell; numbers sort as numbers."""
    item = QTableWidgetItem()
    item.setData(Qt.ItemDataRole.DisplayRole, "" if value is None else value)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


def _table(
    columns: tuple[str, ...], sort_by: str, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder
) -> QTableWidget:
    """A read-only, sortable table, sorted by the column ``sort_by`` until the user chooses."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSortingEnabled(True)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    table.sortByColumn(columns.index(sort_by), order)
    return table


def _fill(table: QTableWidget, rows: list[tuple[object, list[str | int | None]]]) -> None:
    """(data of the row, cell values) into ``table``; the data rides on the first cell."""
    table.setSortingEnabled(False)
    table.clearContents()
    table.setRowCount(len(rows))
    for r, (data, values) in enumerate(rows):
        for c, value in enumerate(values):
            item = _item(value)
            if c == 0:
                item.setData(Qt.ItemDataRole.UserRole, data)
            table.setItem(r, c, item)
    table.setSortingEnabled(True)
    table.resizeColumnsToContents()
    for c in range(table.columnCount()):  # long descriptions must not hide the other columns
        table.setColumnWidth(c, min(table.columnWidth(c), MAX_COLUMN_WIDTH))


def _study_cells(m: StudyMatch) -> list[str | int | None]:
    return [_person(m.patient_name), m.patient_id, _day(m.study_date), m.description,
            m.modalities, m.series_count, m.image_count, m.accession]  # fmt: skip


def _series_cells(s: SeriesMatch) -> list[str | int | None]:
    number = int(s.number) if s.number.isdigit() else s.number
    return [number, s.modality, s.description, s.image_count]


class QueryDialog(QDialog):
    """Query a node, list a study's series, retrieve it and open it (non-modal)."""

    def __init__(self, parent: QWidget | None = None, shell: Shell | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Query / Retrieve from PACS")
        self.setModal(False)
        self.resize(1000, 640)
        self.shell = shell
        self.config = PacsConfig()
        self.search_job: Job | None = None
        self.series_job: Job | None = None
        self.retrieve_job: Job | None = None
        self.last_result: RetrieveResult | None = None
        self._searches = 0
        self._listings = 0
        #: While looking for a prior: the study it is for, and what opens the one retrieved.
        self.prior_for: Study | None = None
        self._open_prior: Callable[[Path], None] | None = None
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.node_box = QComboBox()
        self.node_box.setMinimumWidth(220)
        self.node_box.currentIndexChanged.connect(self._on_node_changed)
        nodes_button = QPushButton("PACS nodes...")
        nodes_button.setAutoDefault(False)
        nodes_button.clicked.connect(self.edit_nodes)
        self.patient_name = QLineEdit()
        self.patient_name.setPlaceholderText("DOE^J*  (wildcards * and ?)")
        self.patient_id = QLineEdit()
        self.accession = QLineEdit()
        self.modality = QComboBox()
        self.modality.setEditable(True)
        self.modality.addItems(list(MODALITIES))
        self.date_from = _date_edit()
        self.date_to = _date_edit()
        any_date = QPushButton("Any date")
        any_date.setAutoDefault(False)
        any_date.clicked.connect(self.clear_dates)
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        for edit in (self.patient_name, self.patient_id, self.accession):
            edit.setClearButtonEnabled(True)  # (Return in a field presses Search, the default)

        fields = QGridLayout()
        fields.addWidget(QLabel("Node:"), 0, 0)
        fields.addWidget(self.node_box, 0, 1)
        fields.addWidget(nodes_button, 0, 2, Qt.AlignmentFlag.AlignLeft)
        fields.addWidget(QLabel("Patient name:"), 1, 0)
        fields.addWidget(self.patient_name, 1, 1)
        fields.addWidget(QLabel("Patient ID:"), 1, 2)
        fields.addWidget(self.patient_id, 1, 3)
        fields.addWidget(QLabel("Accession:"), 1, 4)
        fields.addWidget(self.accession, 1, 5)
        fields.addWidget(QLabel("Study date from:"), 2, 0)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from, 1)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.date_to, 1)
        dates.addWidget(any_date)
        fields.addLayout(dates, 2, 1)
        fields.addWidget(QLabel("Modality:"), 2, 2)
        fields.addWidget(self.modality, 2, 3)
        fields.addWidget(self.search_button, 2, 5)
        fields.setColumnStretch(1, 2)
        fields.setColumnStretch(3, 1)
        fields.setColumnStretch(5, 1)

        self.studies = _table(STUDY_COLUMNS, "Date", Qt.SortOrder.DescendingOrder)
        self.studies.itemSelectionChanged.connect(self._on_study_selected)
        self.studies.doubleClicked.connect(lambda *_: self.retrieve_selected())
        self.series = _table(SERIES_COLUMNS, "Number")
        self.series.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.studies)
        split.addWidget(self.series)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.method = QComboBox()
        self.method.setToolTip(
            "How the study comes: C-GET (one association, no port to open), "
            "C-MOVE (to our storage port) or WADO-RS (DICOMweb)"
        )
        self.retrieve_button = QPushButton("Retrieve and open")
        self.retrieve_button.setAutoDefault(False)
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Retrieve by:"))
        actions.addWidget(self.method)
        actions.addWidget(self.retrieve_button)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.progress)
        actions.addStretch(1)
        actions.addWidget(QLabel(f"into {retrieve_root()}"))

        layout = QVBoxLayout(self)
        layout.addLayout(fields)
        layout.addWidget(split, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        self.reload_nodes()
        self._update_buttons()

    # -- nodes -----------------------------------------------------------------------------

    def reload_nodes(self) -> None:
        """The configured nodes into the chooser (after File > PACS nodes saved them)."""
        show_message(self.status, "")
        self.config = fill_node_box(self.node_box, self.status)
        self._on_node_changed()

    def edit_nodes(self) -> NodeEditor:
        editor = self.findChild(NodeEditor)
        if editor is None:
            editor = NodeEditor(self, self.shell)
            editor.saved.connect(lambda _config: self.reload_nodes())
        elif not editor.isVisible():
            editor.reload()
        editor.show()
        editor.raise_()
        return editor

    def node(self) -> Node | None:
        node = self.node_box.currentData()
        return node if isinstance(node, DimseNode | DicomWebNode) else None

    def _on_node_changed(self, *_: object) -> None:
        """Results belong to the node that gave them: a new node starts afresh."""
        node = self.node()
        self.method.clear()
        methods = ("get", "move") if isinstance(node, DimseNode) else ("wado",)
        for method in methods if node is not None else ():
            self.method.addItem(METHODS[method], method)
        self._searches += 1
        self._listings += 1
        _fill(self.studies, [])
        _fill(self.series, [])
        self._update_buttons()

    # -- searching ---------------------------------------------------------------------------

    def clear_dates(self) -> None:
        self.date_from.setDate(ANY_DATE)
        self.date_to.setDate(ANY_DATE)

    def query(self) -> Query:
        """The query the fields say (PacsError for a date range that ends before it starts)."""
        query = Query(
            patient_name=self.patient_name.text().strip(),
            patient_id=self.patient_id.text().strip(),
            accession=self.accession.text().strip(),
            date_from=date_text(self.date_from),
            date_to=date_text(self.date_to),
            modality=self.modality.currentText().strip().upper(),
        )
        query.dates()
        return query

    def search(self) -> Job | None:
        """C-FIND / QIDO-RS in the background; only the latest search fills the table."""
        node = self.node()
        if node is None:
            show_message(self.status, "Choose a PACS node first (PACS nodes...).", True)
            return None
        try:
            query = self.query()
        except PacsError as exc:
            show_message(self.status, str(exc), True)
            return None
        self._searches += 1
        token, local = self._searches, self.config.local
        show_message(self.status, f"Searching {node.label}...")
        work = lambda progress, cancelled: find_studies(node, query, local)  # noqa: E731
        self.search_job = run_pacs_job(
            self,
            self.shell,
            f"Searching {node.name}",
            work,
            lambda result: self._found(token, result),
        )
        return self.search_job

    def _found(self, token: int, result: PacsJobResult) -> None:
        if token != self._searches or show_if_failed(self.status, result):
            return
        matches: list[StudyMatch] = result.value
        prior_for = self.prior_for
        if prior_for is not None:  # the current study is no prior of itself
            matches = [m for m in matches if m.study_uid != prior_for.uid]
        _fill(self.studies, [(m, _study_cells(m)) for m in matches])
        _fill(self.series, [])
        count = len(matches)
        found = f"{count} stud{'y' if count == 1 else 'ies'} found"
        if prior_for is not None:
            found = f"{count} other stud{'y' if count == 1 else 'ies'} of this patient"
            choose = ": choose the prior, then Retrieve and open as prior"
        else:
            choose = ": choose one to see its series"
        show_message(self.status, found + (choose if count else ""))
        if count == 1:
            self.studies.selectRow(0)
        self._update_buttons()

    def selected_study(self) -> StudyMatch | None:
        rows = self.studies.selectionModel().selectedRows()
        item = self.studies.item(rows[0].row(), 0) if rows else None
        data = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return data if isinstance(data, StudyMatch) else None

    def _on_study_selected(self) -> None:
        """The series of the chosen study, in the background."""
        self._update_buttons()
        self._listings += 1
        _fill(self.series, [])
        study, node = self.selected_study(), self.node()
        if study is None or node is None:
            return
        token, local = self._listings, self.config.local
        work = lambda progress, cancelled: find_series(node, study.study_uid, local)  # noqa: E731
        self.series_job = run_pacs_job(
            self,
            self.shell,
            "Listing the series",
            work,
            lambda result: self._listed(token, result),
        )

    def _listed(self, token: int, result: PacsJobResult) -> None:
        if token != self._listings or show_if_failed(self.status, result):
            return
        series: list[SeriesMatch] = result.value
        _fill(self.series, [(s, _series_cells(s)) for s in series])

    def find_priors(self, study: Study, open_prior: Callable[[Path], None]) -> Job | None:
        """Search the node for the other studies of ``study``'s patient (its PatientID, any
        date, any modality); the one retrieved is given to ``open_prior`` (its folder) instead
        of being opened on its own. None (said in the dialog) without a PatientID or node."""
        pid = study.info.get("PatientID", "")
        if not pid:
            self.set_prior_for(None)
            show_message(self.status, "The current study has no patient ID to look for.", True)
            return None
        self.set_prior_for(study, open_prior)
        for edit in (self.patient_name, self.accession):
            edit.clear()
        self.patient_id.setText(pid)
        self.modality.setCurrentText("")
        self.clear_dates()
        return self.search()

    def set_prior_for(
        self, study: Study | None, open_prior: Callable[[Path], None] | None = None
    ) -> None:
        """Look for a prior of ``study`` (None: an ordinary query / retrieve again)."""
        self.prior_for, self._open_prior = study, open_prior if study is not None else None
        prior = study is not None
        self.setWindowTitle("Open prior from PACS" if prior else "Query / Retrieve from PACS")
        self.retrieve_button.setText("Retrieve and open as prior" if prior else "Retrieve and open")

    # -- retrieving --------------------------------------------------------------------------

    def retrieving(self) -> bool:
        return self.retrieve_job is not None and not self.retrieve_job.done

    def _update_buttons(self) -> None:
        has_node = self.node() is not None
        self.search_button.setEnabled(has_node)
        self.retrieve_button.setEnabled(
            has_node and self.selected_study() is not None and not self.retrieving()
        )
        self.cancel_button.setEnabled(self.retrieving())

    def retrieve_selected(self) -> Job | None:
        """Retrieve the chosen study into the workspace, then open it in the viewer."""
        study, node = self.selected_study(), self.node()
        if study is None or node is None or self.retrieving():
            return None
        method, local, dest = self.method.currentData() or "", self.config.local, retrieve_root()

        def work(progress: Progress, cancelled: Cancelled) -> RetrieveResult:
            return retrieve(node, study.study_uid, dest, method, local, progress, cancelled)

        who = _person(study.patient_name) or study.study_uid
        show_message(self.status, f"Retrieving {who} from {node.label} by {METHODS[method]}...")
        self.retrieve_job = run_pacs_job(
            self, self.shell, f"Retrieving {who}", work, self._retrieved, self.progress
        )
        self.retrieve_job.finished.connect(self._update_buttons)
        self._update_buttons()
        return self.retrieve_job

    def cancel(self) -> None:
        for job in (self.retrieve_job, self.search_job, self.series_job):
            if job is not None and not job.done:
                job.cancel()

    def _retrieved(self, job: PacsJobResult) -> None:
        if show_if_failed(self.status, job, self, self.shell, "Retrieve failed"):
            return
        result: RetrieveResult = job.value
        self.last_result = result
        if result.received == 0:
            text = f"Nothing arrived: {result.summary()}"
            show_message(self.status, text, True)
            show_notice(self, self.shell, "Retrieve failed", text, "\n".join(result.warnings))
            return
        if result.complete:
            show_message(self.status, f"Retrieved {result.summary()}; opening it.")
        else:
            self.status.setText(f"{result.summary()}; opening what arrived.")
            self.status.setStyleSheet(f"color: {WARNING_COLOR}")
            show_notice(
                self,
                self.shell,
                "Partial retrieve",
                f"{result.summary()}. What arrived is opened; the study is not whole.",
                "\n".join(result.warnings),
            )
        if self._open_prior is not None:
            self._open_prior(Path(result.folder))
        elif self.shell is not None:
            self.shell.open_paths([result.folder])


def open_pacs(
    shell: Shell, what: str, analysed: Callable[[], Analysed | None] | None = None
) -> QDialog | None:
    """File > PACS: ``what`` is "query", "prior" (the query dialog as it is, for
    :meth:`QueryDialog.find_priors`), "send" or "nodes"; one dialog of each kind, shown
    non-modal. Sending sends what ``analysed`` gives (None: nothing to send, no dialog)."""
    window = shell.widget
    dialog: QDialog | None
    if what == "send":
        from spineviewer.gui.pacs_send import open_send_dialog

        results = analysed() if analysed is not None else None
        dialog = open_send_dialog(shell, results) if results is not None else None
    elif what == "nodes":
        editor = window.findChild(NodeEditor, "pacs-nodes")
        if editor is None:
            editor = NodeEditor(window, shell)
            editor.setObjectName("pacs-nodes")
            editor.saved.connect(lambda _config: _nodes_saved(window))
        elif not editor.isVisible():
            editor.reload()
        dialog = editor
    else:
        query = window.findChild(QueryDialog)
        if query is None:
            query = QueryDialog(window, shell)
        elif not query.isVisible():
            query.reload_nodes()
        if what != "prior":
            query.set_prior_for(None)
        dialog = query
    if dialog is not None:
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
    return dialog


def _nodes_saved(window: QWidget) -> None:
    query = window.findChild(QueryDialog)
    if query is not None:
        query.reload_nodes()
