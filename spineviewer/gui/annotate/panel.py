"""The Annotations panel: the study's marks with their measurements, the label for new ones,
and the review of model proposals (accept / reject / next / previous, relabel, disc state).

Columns fit the dock without horizontal scrolling: the label (with the shape's icon), the
image as series / image number ("Se 3 / Im 7", the numbers in the DICOM headers), the review
status, who made the mark ("AI 92%" or the annotator; the model in the tooltip) and the
measurements, which take the rest of the width (all of them in the tooltip). An unlabelled
mark reads as its name ("Distance 1", see :func:`~.tools.default_name`) or its shape.

Reviewing by keyboard (the window's actions call these methods): :meth:`next_proposal` /
:meth:`previous_proposal`, :meth:`review` (accept / reject, then the next),
:meth:`relabel` (the typed :class:`~.labelling.LabelPicker`, then the next) and
:meth:`set_disc_state` (state *n* of the vocabulary: 1 normal, 2 bulge, 3 herniation; a
proposal whose state it confirms is accepted, else corrected; then the next). In the list
itself the digit keys set the disc state and Enter accepts.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
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
from spineviewer.annotations.annotation import NEEDS_REVIEW
from spineviewer.dicom import Study
from spineviewer.gui import theme
from spineviewer.gui.annotate.controller import AnnotationController
from spineviewer.gui.annotate.controller import format_measurement as fmt
from spineviewer.gui.annotate.labelling import LabelBox, LabelPicker, label_text
from spineviewer.gui.annotate.review_style import REVIEW_COLOR
from spineviewer.gui.annotate.tools import KIND_NAMES
from spineviewer.gui.icons import icon
from spineviewer.gui.rows_model import RowsModel, RowsView
from spineviewer.viewing.corners import image_number

COLUMNS = ("Label", "Shape", "Image", "Status", "Source", "Measurements")
LABEL_COLUMN = COLUMNS.index("Label")
SHAPE_COLUMN = COLUMNS.index("Shape")
STATUS_COLUMN = COLUMNS.index("Status")
SOURCE_COLUMN = COLUMNS.index("Source")
MEASURE_COLUMN = COLUMNS.index("Measurements")
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
#: The panel's width when it first shows (px): every column but the measurements at the
#: width of its texts for a reviewed spine study, the measurements readable.
PREFERRED_WIDTH = 510

#: (series number, image number) of an acquired frame, by (SOP instance UID, frame number).
ImageNumbers = dict[tuple[str, int], tuple[int | None, int]]


def image_numbers(studies: Iterable[Study]) -> ImageNumbers:
    """Series and image (instance) numbers of every frame of ``studies``; a frame without an
    instance number gets its place in its stack."""
    out: ImageNumbers = {}
    for study in studies:
        for series in study.series:
            for stack in series.stacks:
                for place, frame in enumerate(stack.frames, start=1):
                    inst = frame.instance
                    number = inst.instance_number if inst.instance_number is not None else place
                    out[(inst.sop_instance_uid, frame.index + 1)] = (series.number, number)
    return out


class AnnotationPanel(QWidget):
    """Lists the current study's annotations; picks labels; reviews proposals."""

    #: The user picked an annotation in the list: show its image.
    navigateRequested = Signal(object)

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        vocabulary = controller.vocabulary
        self.numbers: ImageNumbers = {}
        #: The relabel popup while it is open.
        self.picker: LabelPicker | None = None
        self.label_box = LabelBox(vocabulary, self)
        self.label_box.setToolTip("Type to find a label (L4, L4-5, screw); F2 relabels")
        self.state_box = QComboBox(self)
        self.state_box.addItem("(no state)", None)
        for number, state in enumerate(vocabulary.disc_states, start=1):
            self.state_box.addItem(f"{number}  {state.meaning}", state.key)
        self.state_box.setToolTip("Disc state: Alt+1 .. Alt+9 anywhere, 1 .. 9 in the list below")
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
            COLUMNS,
            self._cells,
            lambda a: a.uid,
            self._colour,
            self,
            tooltip=self._tooltip,
            icon=self._icon,
        )
        self.tree = RowsView(
            self.model,
            self,
            stretch=MEASURE_COLUMN,
            elastic=(LABEL_COLUMN, SOURCE_COLUMN),
        )
        self.tree.setColumnHidden(SHAPE_COLUMN, True)  # the label's icon shows the shape
        self.tree.setIconSize(QSize(14, 14))
        self.tree.setAlternatingRowColors(True)
        self.tree.clicked.connect(self._on_row_clicked)
        self.tree.installEventFilter(self)
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

        self.label_box.labelChosen.connect(lambda _key: self._label_picked())
        self.state_box.activated.connect(lambda _i: self._label_picked())
        self.text_edit.editingFinished.connect(self._text_edited)
        self.author_edit.editingFinished.connect(self._author_edited)
        self.review_box.activated.connect(
            lambda _i: controller.set_review_status(self.review_box.currentData())
        )
        controller.changed.connect(self.refresh)
        controller.selectionChanged.connect(self._show_selection)
        self.refresh()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        hint.setWidth(max(hint.width(), PREFERRED_WIDTH))
        return hint

    def add_box(self, box: QWidget) -> None:
        """A tool's own controls (the vertebra labels box) under the label form."""
        self._boxes.addWidget(box)

    def index_studies(self, studies: Iterable[Study]) -> None:
        """Learn the series and image numbers of ``studies``' frames (the Image column)."""
        self.numbers.update(image_numbers(studies))
        self.refresh()
        self.tree.refit()

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

    def label_of(self, ann: Annotation) -> str:
        """What the Label column says: the label (a level as itself, others in words) with the
        disc state; else the mark's name ("Distance 1"); else its shape ("Distance")."""
        known = self.controller.vocabulary.get(ann.label)
        if known is None or known.category in ("vertebra", "disc"):
            label = ann.label  # a level as itself: "L6", not "L6 (sixth lumbar, ...)"
        else:
            label = label_text(known)  # "Pedicle screw"
        text = f"{label} {ann.state or ''}".strip()
        return text or ann.text.split("\n", 1)[0] or KIND_NAMES[ann.kind]

    def image_of(self, ann: Annotation) -> str:
        """ "Se 3 / Im 7" (and "/ Fr 2" for a frame of a multi-frame image)."""
        ref = ann.image
        found = self.numbers.get((ref.sop_instance_uid, ref.frame_number))
        if found is None:
            return f"…{ref.sop_instance_uid[-8:]}#{ref.frame_number}"
        series, number = found  # the corner text's rule (spineviewer.viewing.corners)
        return (
            f"Se {series if series is not None else '?'} / {image_number(number, ref.frame_number)}"
        )

    def _cells(self, ann: Annotation) -> tuple[str, ...]:
        source = ann.provenance
        if source.is_model:
            origin = "AI" + (f" {source.score:.0%}" if source.score is not None else "")
        else:
            origin = source.author
        values = self.controller.measure(ann, None, "")
        return (
            self.label_of(ann),
            ann.kind.value,
            self.image_of(ann),
            ann.status.value + (f", {ann.pending_review}" if ann.pending_review else ""),
            origin,
            ", ".join(fmt(m) for m in values),
        )

    def _tooltip(self, ann: Annotation, column: int) -> str | None:
        if column == SOURCE_COLUMN and ann.provenance.is_model:
            p = ann.provenance
            score = f", score {p.score:.0%}" if p.score is not None else ""
            return f"model {p.model_id} {p.model_version or ''}".strip() + score
        if column == LABEL_COLUMN:
            known = self.controller.vocabulary.get(ann.label)
            meaning = f" ({known.meaning})" if known is not None else ""
            return f"{self.label_of(ann)}{meaning} · {KIND_NAMES[ann.kind].lower()}"
        if column == 2:
            return f"{self.image_of(ann)}\nSOP instance {ann.image.sop_instance_uid}"
        return None

    def _icon(self, ann: Annotation, column: int) -> QIcon | None:
        return icon(ann.kind.value) if column == LABEL_COLUMN else None

    def _colour(self, ann: Annotation, column: int) -> str | None:
        if column == 0:  # the overlay's colours: levels never share the disc states' hues
            if not ann.label:
                return "#5ce1e6"
            return theme.label_color(ann.label, ann.state) or self.controller.vocabulary.color(
                ann.label
            )
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
            self.label_box.set_key(ann.label)
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
        label = self.controller.vocabulary.get(self.label_box.key())
        self.state_box.setEnabled(label is not None and label.category == "disc")

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
        label = self.label_box.key()
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

    def next_proposal(self) -> Annotation | None:
        """Select and show the next pending proposal (after the selected one, wrapping)."""
        return self._step_proposal(1)

    def previous_proposal(self) -> Annotation | None:
        """Select and show the pending proposal before the selected one (wrapping)."""
        return self._step_proposal(-1)

    def _step_proposal(self, step: int) -> Annotation | None:
        doc = self.controller.document
        if doc is None:
            return None
        pending = list(doc.proposed())
        if not pending:
            self.controller.message.emit("No proposals waiting for review in this study.")
            return None
        uids = doc.uids()
        current = uids.index(self.controller.selected) if self.controller.selected in uids else -1
        if step > 0:
            after = [a for a in pending if uids.index(a.uid) > current]
            target = (after or pending)[0]
        else:
            if current < 0:
                current = len(uids)
            before = [a for a in pending if uids.index(a.uid) < current]
            target = (before or pending)[-1]
        self.controller.select(target.uid)
        self.navigateRequested.emit(target)
        return target

    def set_disc_state(self, number: int) -> bool:
        """Give the selected disc the vocabulary's disc state ``number`` (1-based: 1 normal,
        2 bulge, 3 herniation). A proposal that already says so is accepted, one that says
        otherwise corrected; either way the review moves to the next proposal."""
        states = self.controller.vocabulary.disc_states
        ann = self.controller.find(self.controller.selected)
        known = self.controller.vocabulary.get(ann.label) if ann is not None else None
        if not 1 <= number <= len(states):
            self.controller.message.emit(
                f"Disc states are 1 .. {len(states)}: "
                + ", ".join(f"{n} {s.meaning}" for n, s in enumerate(states, start=1))
            )
            return False
        if ann is None or known is None or known.category != "disc":
            self.controller.message.emit("Select a disc to set its state.")
            return False
        state = states[number - 1]
        was_proposed = ann.status == Status.PROPOSED
        if ann.state == state.key:
            if was_proposed:
                self.controller.set_status([ann.uid], Status.ACCEPTED)
        else:
            self.controller.replace(
                [ann.relabelled(ann.label, state.key)], f"{ann.label} {state.meaning.lower()}"
            )
        self.controller.message.emit(f"{ann.label}: {state.meaning}")
        if was_proposed:
            self.next_proposal()
        return True

    def relabel(self) -> LabelPicker | None:
        """Open the typed label picker for the selected annotation; the label picked
        replaces its own (a disc keeps its state while it stays a disc) and the review moves
        on to the next proposal."""
        ann = self.controller.find(self.controller.selected)
        if ann is None:
            self.controller.message.emit("Select an annotation to relabel.")
            return None
        if self.picker is not None:
            self.picker.close()
        picker = LabelPicker(self.controller.vocabulary, ann.label, self.window())
        picker.setWindowTitle(f"Relabel {self.label_of(ann)}")
        picker.picked.connect(lambda key, uid=ann.uid: self._relabelled(uid, key))
        back = QApplication.focusWidget()  # the keys go back there when the picker closes
        picker.finished.connect(lambda _r: self._picker_closed(back))
        self.picker = picker
        picker.open()
        picker.activateWindow()
        picker.edit.setFocus()
        return picker

    def _picker_closed(self, back: QWidget | None) -> None:
        self.picker = None
        if back is not None:  # once the picker has gone (it still shows while it finishes)
            QTimer.singleShot(0, lambda: self._focus(back))

    @staticmethod
    def _focus(widget: QWidget) -> None:
        widget.window().activateWindow()
        widget.setFocus()

    def _relabelled(self, uid: str, key: str) -> None:
        ann = self.controller.find(uid)
        if ann is None:
            return
        known = self.controller.vocabulary.get(key)
        state = ann.state if known is not None and known.category == "disc" else None
        was_proposed = ann.status == Status.PROPOSED
        if (ann.label, ann.state) != (key, state):
            self.controller.replace([ann.relabelled(key, state)], f"Relabel {key}")
        elif was_proposed:
            self.controller.set_status([uid], Status.ACCEPTED)
        if was_proposed:
            self.next_proposal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """In the list: 1 .. 9 set the selected disc's state, Enter accepts (then the next)."""
        if watched is self.tree and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            plain = event.modifiers() in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.KeypadModifier,
            )
            key = event.key()
            if plain and Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
                self.set_disc_state(key - Qt.Key.Key_0)
                return True
            if plain and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.review(Status.ACCEPTED)
                return True
        return super().eventFilter(watched, event)
