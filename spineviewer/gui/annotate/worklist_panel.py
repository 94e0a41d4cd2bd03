"""The worklist: every study of the annotation workspace with its review state and counts;
open one, or step to the next / previous study."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from spineviewer.annotations import ReviewStatus, StudyEntry
from spineviewer.gui.annotate.controller import AnnotationController

COLUMNS = ("Patient", "Date", "Description", "Status", "Annotator", "Marks", "Proposed")
STATUS_COLORS = {
    ReviewStatus.NEW: "#d8dee9",
    ReviewStatus.IN_PROGRESS: "#f2c14e",
    ReviewStatus.DONE: "#8fd18f",
}


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
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.itemDoubleClicked.connect(lambda item, _c: self._open(item))
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
        self.entries: list[StudyEntry] = []
        controller.changed.connect(self.refresh)

    @property
    def status_filter(self) -> str | None:
        return self.filter_box.currentData()

    def refresh(self) -> None:
        """Re-read the workspace index (cheap: one SQLite query)."""
        if self.controller._workspace is None and not self.controller.sessions:
            return  # nothing opened yet: do not create the default workspace just to list it
        self.entries = self.controller.workspace.studies(self.status_filter)
        self.tree.clear()
        current = self.controller.current_uid
        for entry in self.entries:
            item = QTreeWidgetItem(
                [
                    entry.patient_name or entry.patient_id or "—",
                    entry.study_date,
                    entry.study_description,
                    entry.review_status.value.replace("_", " "),
                    entry.annotator,
                    str(entry.total),
                    str(entry.proposed),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, entry.study_uid)
            item.setForeground(3, QBrush(QColor(STATUS_COLORS[entry.review_status])))
            self.tree.addTopLevelItem(item)
            if entry.study_uid == current:
                self.tree.setCurrentItem(item)
        for i in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(i)

    def _open(self, item: QTreeWidgetItem) -> None:
        uid = item.data(0, Qt.ItemDataRole.UserRole)
        entry = next((e for e in self.entries if e.study_uid == uid), None)
        if entry is not None:
            self.openRequested.emit(entry)

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
