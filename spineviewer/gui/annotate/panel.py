"""The Annotations panel: the study's marks with their measurements, the label for new ones,
and the review of model proposals (accept / reject / next)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from spineviewer.annotations import Annotation, ReviewStatus, Status
from spineviewer.annotations.model import NEEDS_REVIEW
from spineviewer.gui.annotate.controller import AnnotationController
from spineviewer.gui.annotate.controller import format_measurement as fmt
from spineviewer.gui.annotate.review_style import REVIEW_COLOR
from spineviewer.gui.icons import icon
from spineviewer.gui.rows_model import RowsModel, RowsView

COLUMNS = ("Label", "Shape", "Image", "Status", "Source", "Measurements")
STATUS_COLUMN = COLUMNS.index("Status")
STATUS_COLORS = {
    Status.PROPOSED: "#f2c14e",
    Status.ACCEPTED: "#8fd18f",
    Status.EDITED: "#8fd18f",
    Status.REJECTED: "#8a8f98",
}
REVIEW_TEXT = {
    ReviewStatus.NEW: "New",
    ReviewStatus.IN_PROGRESS: "In progress",
    ReviewStatus.DONE: "Done",
}


class AnnotationPanel(QWidget):
    """Lists the current study's annotations; picks labels; reviews proposals."""

    #: The user picked an annotation in the list: show its image.
    navigateRequested = Signal(object)

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        vocabulary = controller.vocabulary
        self.label_box = QComboBox(self)
        self.label_box.setObjectName("label-box")
        self.label_box.addItem("(no label)", "")
        for category in ("vertebra", "disc", "implant", "fracture", "text"):
            for label in vocabulary.in_category(category):
                self.label_box.addItem(f"{label.key} — {label.meaning}", label.key)
                self.label_box.setItemData(
                    self.label_box.count() - 1,
                    QBrush(QColor(label.color)),
                    Qt.ItemDataRole.ForegroundRole,
                )
        self.state_box = QComboBox(self)
        self.state_box.addItem("(no state)", None)
        for state in vocabulary.disc_states:
            self.state_box.addItem(state.meaning, state.key)
        self.text_edit = QLineEdit(self)
        self.text_edit.setPlaceholderText("Note (text arrows, comments)")
        self.author_edit = QLineEdit(self)
        self.review_box = QComboBox(self)
        for status, text in REVIEW_TEXT.items():
            self.review_box.addItem(text, status.value)

        form = QFormLayout()
        form.addRow("Label", self.label_box)
        form.addRow("Disc state", self.state_box)
        form.addRow("Note", self.text_edit)
        form.addRow("Annotator", self.author_edit)
        form.addRow("Study review", self.review_box)

        self.model: RowsModel[Annotation] = RowsModel(
            COLUMNS, self._cells, lambda a: a.uid, self._colour, self
        )
        self.tree = RowsView(self.model, self, fitted=len(COLUMNS) - 1)  # measurements: the rest
        self.tree.setAlternatingRowColors(True)
        self.tree.clicked.connect(self._on_row_clicked)
        self.details = QLabel(self)
        self.details.setObjectName("annotation-details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.accept_button = QPushButton(icon("accept"), "Accept", self)
        self.reject_button = QPushButton(icon("reject"), "Reject", self)
        self.next_button = QPushButton(icon("next"), "Next proposal", self)
        self.accept_all_button = QPushButton("Accept all", self)
        self.accept_button.clicked.connect(lambda: self.review(Status.ACCEPTED))
        self.reject_button.clicked.connect(lambda: self.review(Status.REJECTED))
        self.next_button.clicked.connect(self.next_proposal)
        self.accept_all_button.clicked.connect(controller.accept_all)
        buttons = QHBoxLayout()
        for b in (self.accept_button, self.reject_button, self.next_button, self.accept_all_button):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        self._boxes = QVBoxLayout()
        layout.addLayout(self._boxes)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)

        self.label_box.activated.connect(lambda _i: self._label_picked())
        self.state_box.activated.connect(lambda _i: self._label_picked())
        self.text_edit.editingFinished.connect(self._text_edited)
        self.author_edit.editingFinished.connect(self._author_edited)
        self.review_box.activated.connect(
            lambda _i: controller.set_review_status(self.review_box.currentData())
        )
        controller.changed.connect(self.refresh)
        controller.selectionChanged.connect(self._show_selection)
        self.refresh()

    def add_box(self, box: QWidget) -> None:
        """A tool's own controls (the vertebra labels box) under the label form."""
        self._boxes.addWidget(box)

    # -- reading the controller ------------------------------------------------------------

    def refresh(self) -> None:
        """Show the current document's annotations (their texts are made for the rows shown)."""
        doc = self.controller.document
        enabled = doc is not None
        for w in (self.author_edit, self.review_box, self.accept_all_button):
            w.setEnabled(enabled)
        self.tree.show_rows(list(doc) if doc is not None else [])
        if doc is None:
            self._update_buttons()
            return
        if not self.author_edit.hasFocus():
            self.author_edit.setText(doc.author)
        self.review_box.setCurrentIndex(self.review_box.findData(doc.review_status.value))
        self._show_selection()

    def _cells(self, ann: Annotation) -> tuple[str, ...]:
        source = ann.provenance
        origin = (
            f"{source.model_id} {source.model_version or ''}".strip()
            + (f" ({source.score:.0%})" if source.score is not None else "")
            if source.is_model
            else source.author
        )
        values = self.controller.measure(ann, None, "")
        return (
            f"{ann.label} {ann.state or ''}".strip() or "—",
            ann.kind.value,
            f"…{ann.image.sop_instance_uid[-8:]}#{ann.image.frame_number}",
            ann.status.value + (f", {ann.pending_review}" if ann.pending_review else ""),
            origin,
            ", ".join(fmt(m) for m in values),
        )

    def _colour(self, ann: Annotation, column: int) -> str | None:
        if column == 0:
            return self.controller.vocabulary.color(ann.label) if ann.label else "#5ce1e6"
        if column != STATUS_COLUMN:
            return None
        if ann.pending_review == NEEDS_REVIEW:
            return REVIEW_COLOR.name()
        return STATUS_COLORS[ann.status]

    def _show_selection(self) -> None:
        uid = self.controller.selected
        self.tree.select_key(uid)
        ann = self.controller.find(uid)
        self.details.setText(self.describe(ann) if ann is not None else "")
        if ann is not None:
            self.label_box.setCurrentIndex(max(0, self.label_box.findData(ann.label)))
            self.state_box.setCurrentIndex(max(0, self.state_box.findData(ann.state)))
            if not self.text_edit.hasFocus():
                self.text_edit.setText(ann.text)
        self._update_buttons()

    def describe(self, ann: Annotation) -> str:
        """The selected annotation in full: measurements (with ROI statistics when its image
        is on screen) and provenance."""
        p = ann.provenance
        who = (
            f"model {p.model_id} {p.model_version or ''} score {p.score:.2f}"
            if p.is_model and p.score is not None
            else (f"model {p.model_id} {p.model_version or ''}" if p.is_model else p.author)
        )
        parts = [fmt(m) for m in self.controller.measure_all(ann) if m.name != "pixels"]
        doubt = (
            f"{ann.pending_review}: {'; '.join(ann.review_reasons) or 'the model is unsure'}\n"
            if ann.pending_review
            else ""
        )
        return (
            f"{ann.kind.value} · {ann.status.value} · {who}\n"
            + doubt
            + (" · ".join(parts) + "\n" if parts else "")
            + f"created {p.created} · modified {p.modified}"
        )

    def _update_buttons(self) -> None:
        ann = self.controller.find(self.controller.selected)
        doc = self.controller.document
        self.accept_button.setEnabled(
            ann is not None and ann.status in (Status.PROPOSED, Status.REJECTED)
        )
        self.reject_button.setEnabled(ann is not None and ann.status != Status.REJECTED)
        self.next_button.setEnabled(doc is not None and bool(doc.proposed()))
        self.state_box.setEnabled(
            (label := self.controller.vocabulary.get(self.label_box.currentData() or ""))
            is not None
            and label.category == "disc"
        )

    # -- acting ------------------------------------------------------------------------------

    def _on_row_clicked(self, index: QModelIndex) -> None:
        if not 0 <= index.row() < len(self.model.rows):
            return
        uid = self.model.rows[index.row()].uid
        self.controller.select(uid)
        ann = self.controller.find(uid)
        if ann is not None:
            self.navigateRequested.emit(ann)

    def _label_picked(self) -> None:
        label = self.label_box.currentData() or ""
        known = self.controller.vocabulary.get(label)
        state = (
            self.state_box.currentData() if known is not None and known.category == "disc" else None
        )
        self.controller.set_label(label, state)
        self._update_buttons()

    def _text_edited(self) -> None:
        ann = self.controller.find(self.controller.selected)
        text = self.text_edit.text()
        if ann is not None and ann.text != text:
            self.controller.replace([ann.with_text(text)], "Edit note")

    def _author_edited(self) -> None:
        doc = self.controller.document
        name = self.author_edit.text().strip()
        if doc is not None and name and name != doc.author:
            doc.author = name
            session = self.controller.session
            if session is not None:
                session.autosaver.save_now()

    def review(self, status: Status) -> None:
        """Accept or reject the selected annotation, then move to the next proposal."""
        uid = self.controller.selected
        if uid is not None:
            self.controller.set_status([uid], status)
            self.next_proposal()

    def next_proposal(self) -> None:
        """Select and show the next pending proposal (after the selected one, wrapping)."""
        doc = self.controller.document
        if doc is None:
            return
        pending = list(doc.proposed())
        if not pending:
            return
        uids = doc.uids()
        current = uids.index(self.controller.selected) if self.controller.selected in uids else -1
        after = [a for a in pending if uids.index(a.uid) > current]
        target = (after or pending)[0]
        self.controller.select(target.uid)
        self.navigateRequested.emit(target)
