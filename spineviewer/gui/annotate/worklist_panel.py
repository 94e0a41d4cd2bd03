"""The worklist: every study of the annotation workspace with its review state and counts;
open one, or step to the next / previous study.

Names read as in a radiology viewer ("Phantom, Lumbar 00001" for ``PHANTOM^LUMBAR^00001``),
dates as 2024-01-02. In PHI-free mode (:meth:`WorklistPanel.set_phi_free`) no name, patient
ID or study date is shown: each patient is "Patient 1", "Patient 2", ... in list order. The
columns fit the dock; the description takes what is left.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from spineviewer.annotations import ReviewStatus, StudyEntry
from spineviewer.gui.annotate.controller import AnnotationController
from spineviewer.gui.rows_model import RowsModel, RowsView, dicom_date, person_name

COLUMNS = ("Patient", "Date", "Description", "Status", "Annotator", "Marks", "Proposed")
STATUS_COLORS = {
    ReviewStatus.NEW: "#d8dee9",
    ReviewStatus.IN_PROGRESS: "#f2c14e",
    ReviewStatus.DONE: "#8fd18f",
}
STATUS_COLUMN = COLUMNS.index("Status")
PATIENT_COLUMN = COLUMNS.index("Patient")
DESCRIPTION_COLUMN = COLUMNS.index("Description")
#: What PHI-free mode shows for a study date.
HIDDEN = "—"


def patient_text(entry: StudyEntry) -> str:
    """The patient as a person reads it: the formatted name, else the patient ID."""
    return person_name(entry.patient_name) or entry.patient_id or HIDDEN


def _colour(entry: StudyEntry, column: int) -> str | None:
    return STATUS_COLORS[entry.review_status] if column == STATUS_COLUMN else None


class WorklistPanel(QWidget):
    """Studies in the workspace; ``openRequested(StudyEntry)`` asks the window to open one."""

    openRequested = Signal(object)

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.filter_box = QComboBox(self)
        self.filter_box.addItem("All studies", None)
        for status in ReviewStatus:
            self.filter_box.addItem(status.value.replace("_", " ").capitalize(), status.value)
        self.filter_box.activated.connect(lambda _i: self.refresh())
        #: PHI-free mode: no names, patient IDs or dates.
        self.phi_free = False
        self._pseudonyms: dict[tuple[str, str], str] = {}
        self.model: RowsModel[StudyEntry] = RowsModel(
            COLUMNS, self._cells, lambda e: e.study_uid, _colour, self, tooltip=self._tooltip
        )
        self.tree: RowsView[StudyEntry] = RowsView(
            self.model, self, stretch=DESCRIPTION_COLUMN, elastic=(PATIENT_COLUMN,)
        )
        self.tree.doubleClicked.connect(self._open)
        self.previous_button = QPushButton("◀ Previous study", self)
        self.next_button = QPushButton("Next study ▶", self)
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        buttons = QHBoxLayout()
        buttons.addWidget(self.filter_box, 1)
        buttons.addWidget(self.previous_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.tree, 1)
        controller.changed.connect(self.refresh)

    def _cells(self, entry: StudyEntry) -> tuple[str, ...]:
        if self.phi_free:
            key = (entry.patient_id or "", entry.patient_name or "")
            patient = self._pseudonyms.setdefault(key, f"Patient {len(self._pseudonyms) + 1}")
            date = HIDDEN
        else:
            patient, date = patient_text(entry), dicom_date(entry.study_date)
        return (
            patient,
            date,
            entry.study_description,
            entry.review_status.value.replace("_", " "),
            entry.annotator,
            str(entry.total),
            str(entry.proposed),
        )

    def _tooltip(self, entry: StudyEntry, column: int) -> str | None:
        if column == PATIENT_COLUMN and not self.phi_free and entry.patient_id:
            return f"{patient_text(entry)}\nID {entry.patient_id}"
        return None

    def set_phi_free(self, on: bool) -> None:
        """Hide (or show again) names, patient IDs and dates."""
        if on != self.phi_free:
            self.phi_free = on
            self._show(self.model.rows)
            self.tree.refit()

    def _show(self, rows: list[StudyEntry]) -> None:
        self._pseudonyms.clear()
        if self.phi_free:  # numbered in list order, whichever rows are painted first
            for entry in rows:
                key = (entry.patient_id or "", entry.patient_name or "")
                self._pseudonyms.setdefault(key, f"Patient {len(self._pseudonyms) + 1}")
        self.tree.show_rows(rows)

    @property
    def status_filter(self) -> str | None:
        return self.filter_box.currentData()

    @property
    def entries(self) -> list[StudyEntry]:
        return self.model.rows

    def refresh(self) -> None:
        """Re-read the workspace index (one SQLite query) into the list."""
        if self.controller._workspace is None and not self.controller.sessions:
            return  # nothing opened yet: do not create the default workspace just to list it
        self._show(self.controller.workspace.studies(self.status_filter))
        self.tree.select_key(self.controller.current_uid)

    def _open(self, index: QModelIndex) -> None:
        if 0 <= index.row() < len(self.entries):
            self.openRequested.emit(self.entries[index.row()])

    def step(self, direction: int) -> StudyEntry | None:
        """Open the next (1) or previous (-1) study of the worklist."""
        workspace = self.controller.workspace
        current = self.controller.current_uid
        status = self.status_filter
        entry = (
            workspace.next_study(current, status)
            if direction > 0
            else workspace.previous_study(current, status)
        )
        if entry is not None:
            self.openRequested.emit(entry)
        return entry
