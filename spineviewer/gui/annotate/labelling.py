"""The vertebra labelling tool: click the bodies on a sagittal image, each gets the next level.

Tool "labels" (key L). The next level is chosen in the Annotations panel's "Vertebra labels"
box or with + / - (one level lower / higher); it advances after each click, downward by
default (L1, L2, ... L5, S1; L6 before S1 with "six lumbar"), upward when asked. A click
inside a body the AI (or a person) already labelled renames that mark instead of adding a
second one; elsewhere it places a point labelled with the level. Each click is one undo step,
and undoing it gives the level back to the tool. "Accept AI labels" accepts the AI's
vertebra proposals; "Shift labels up / down one level" renames every label of the study
(:meth:`~.controller.AnnotationController.shift_levels`). The labels show on every slice that
cuts the body and name the level of the axial slices (:mod:`.level_overlay`).
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPointF,
    QRectF,
    QStringListModel,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QIcon,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from spineviewer.annotations import Annotation, Kind, Vocabulary
from spineviewer.annotations.level_names import DOWN, UP, is_level, next_level
from spineviewer.annotations.shapes import shape
from spineviewer.annotations.vocabulary import Label
from spineviewer.geometry.levels import COLUMN
from spineviewer.gui.annotate.controller import LABELS_TOOL, AnnotationController, image_ref
from spineviewer.gui.annotate.drawing import outline_points
from spineviewer.gui.viewport import ImageViewport

__all__ = [
    "HINT",
    "LabelBox",
    "LabelPicker",
    "LabellingBar",
    "LabellingTool",
    "label_groups",
    "label_text",
    "labels_icon",
    "matching_labels",
]

#: Screen pixels within which a click lands on an existing label point.
PICK_PX = 8.0
#: The line colour of the shipped icons.
ICON_GREY = "#d8dee9"
HINT = (
    "Vertebra labels: click each body ({level} next, going {way}); + / - change the next "
    "level; Alt+Up / Alt+Down shift every label of the study"
)


def labels_icon() -> QIcon:
    """The tool's icon, drawn like the shipped line icons: three stacked bodies, each with a
    level tick."""
    pixmap = QPixmap(48, 48)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(ICON_GREY), 3.0)
    painter.setPen(pen)
    for i in range(3):
        top = 5 + i * 14
        painter.drawRoundedRect(QRectF(6, top, 20, 10), 3, 3)
        painter.drawLine(QPointF(30, top + 5), QPointF(36, top + 5))
        painter.drawEllipse(QPointF(40, top + 5), 3.0, 3.0)
    painter.end()
    return QIcon(pixmap)


class LabellingTool(QObject):
    """Which level the next click gives, and placing it."""

    #: The next level changed (the panel's combo follows).
    nextChanged = Signal(str)

    def __init__(self, controller: AnnotationController) -> None:
        super().__init__(controller)
        self.controller = controller
        self.next_level = "L1"
        #: +1: each click one level lower (L1, L2, ...); -1: higher (S1, L5, ...).
        self.direction = DOWN
        #: L6 between L5 and S1 when counting.
        self.six_lumbar = False
        self._placed: list[tuple[str, str]] = []  # (annotation uid, level), last click last
        controller.changed.connect(self._follow_undo)
        controller.toolChanged.connect(self._on_tool)

    def set_next(self, level: str) -> None:
        if not is_level(level):
            raise ValueError(f"{level!r} is not a vertebra level")
        if level != self.next_level:
            self.next_level = level
            self.nextChanged.emit(level)

    def step_next(self, step: int) -> bool:
        """Move the next level ``step`` down (+1) or up (-1); False at the end of the column."""
        level = next_level(self.next_level, step, self.six_lumbar)
        if level is None:
            return False
        self.set_next(level)
        return True

    def hint(self) -> str:
        return HINT.format(level=self.next_level, way="down" if self.direction > 0 else "up")

    def _on_tool(self, tool: str) -> None:
        if tool == LABELS_TOOL:
            self.controller.message.emit(self.hint())

    # -- placing --------------------------------------------------------------------------

    def press(self, vp: ImageViewport, ev: QMouseEvent) -> bool:
        """A left click on an image: label the body there with the next level."""
        if ev.button() != Qt.MouseButton.LeftButton:
            return False
        ref = image_ref(vp.info)
        if ref is None or vp.info is None:
            self.controller.message.emit(
                "Vertebra labels go on acquired images, not on reformats (MPR)."
            )
            return True
        level, pos = self.next_level, ev.position()
        hit = self._labelled_at(vp, pos)
        if hit is not None:
            done = self.controller.replace([hit.relabelled(level)], f"Label {level}")
            uid = hit.uid
        else:
            rc = vp.widget_to_image(pos)
            mark = Annotation.create(Kind.POINT, ref, [rc], vp.info.plane, label=level)
            done = self.controller.add(mark, f"Label {level}")
            uid = mark.uid
        if done:
            self._placed.append((uid, level))
            if not self.step_next(self.direction):
                self.controller.message.emit(f"{level} labelled: the end of the column.")
        vp.update()
        return True

    def _labelled_at(self, vp: ImageViewport, pos: QPointF) -> Annotation | None:
        """A level-labelled mark of this image under ``pos`` (a point, a box, an outline)."""
        for ann in reversed(self.controller.annotations_on(image_ref(vp.info))):
            if not is_level(ann.label):
                continue
            pts = [vp.image_to_widget(r, c) for r, c in outline_points(ann)]
            if shape(ann.kind).point_count == 1:
                if math.hypot(pts[0].x() - pos.x(), pts[0].y() - pos.y()) <= PICK_PX:
                    return ann
            elif ann.filled and QPolygonF(pts).containsPoint(pos, Qt.FillRule.OddEvenFill):
                return ann
        return None

    def _follow_undo(self) -> None:
        """An undone click gives its level back (the next click labels that body again)."""
        session = self.controller.session
        if session is None or not self._placed:
            return
        uid, level = self._placed[-1]
        undone = session.stack.redo_command
        if undone is not None and undone.text == f"Label {level}" and uid in undone.uids:
            self._placed.pop()
            self.set_next(level)
        elif uid not in session.document:
            self._placed.pop()  # deleted since: nothing to give back

    # -- keys -----------------------------------------------------------------------------

    def key_press(self, key: int) -> bool:
        """+ / = : next level one lower; - : one higher."""
        k = Qt.Key
        if key in (k.Key_Plus, k.Key_Equal):
            return self.step_next(DOWN) or True
        if key in (k.Key_Minus, k.Key_Underscore):
            return self.step_next(UP) or True
        return False


class LabellingBar(QGroupBox):
    """The "Vertebra labels" box of the Annotations panel: next level, direction, six lumbar
    vertebrae, accept the AI's labels, shift all labels."""

    def __init__(self, tool: LabellingTool, parent: QWidget | None = None) -> None:
        super().__init__("Vertebra labels (tool L)", parent)
        self.setObjectName("labelling-bar")
        self.tool = tool
        self.level_box = QComboBox(self)
        self.level_box.setObjectName("next-level")
        self.level_box.setToolTip("The level the next click gives (+ / - in the image)")
        for level in COLUMN:
            self.level_box.addItem(level, level)
        self.direction_box = QComboBox(self)
        self.direction_box.addItem("going down", DOWN)
        self.direction_box.addItem("going up", UP)
        self.six_box = QCheckBox("six lumbar (L6)", self)
        self.six_box.setToolTip("Count L1 .. L5, L6, S1 (transitional anatomy)")
        c = tool.controller
        self.accept_button = QPushButton("Accept AI labels", self)
        self.up_button = QPushButton("Shift up ↑", self)
        self.up_button.setToolTip("Rename every label one level up: L3 → L2 (Alt+Up)")
        self.down_button = QPushButton("Shift down ↓", self)
        self.down_button.setToolTip(
            "Rename every label one level down: L3 → L4; S1 stays, L5 → L6 (Alt+Down)"
        )
        self.accept_button.clicked.connect(c.accept_labels)
        self.up_button.clicked.connect(lambda: c.shift_levels(UP))
        self.down_button.clicked.connect(lambda: c.shift_levels(DOWN))
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.addWidget(QLabel("Next", self), 0, 0)
        grid.addWidget(self.level_box, 0, 1)
        grid.addWidget(self.direction_box, 0, 2)
        grid.addWidget(self.six_box, 0, 3)
        grid.addWidget(self.accept_button, 1, 0, 1, 2)
        grid.addWidget(self.up_button, 1, 2)
        grid.addWidget(self.down_button, 1, 3)
        self.level_box.activated.connect(lambda _i: tool.set_next(self.level_box.currentData()))
        self.direction_box.activated.connect(
            lambda _i: setattr(tool, "direction", self.direction_box.currentData())
        )
        self.six_box.toggled.connect(lambda on: setattr(tool, "six_lumbar", on))
        tool.nextChanged.connect(self._show_next)
        self._show_next(tool.next_level)

    def _show_next(self, level: str) -> None:
        self.level_box.setCurrentIndex(self.level_box.findData(level))


# -- choosing a label by typing -----------------------------------------------------------------

#: Spine regions by the first letter of a level, in the order the groups are listed.
REGIONS = {"C": "Cervical", "T": "Thoracic", "L": "Lumbar", "S": "Sacral"}
#: Data role of a label key in :class:`LabelBox` items (None: a group heading).
KEY_ROLE = Qt.ItemDataRole.UserRole


def _region(label: Label) -> str:
    """Which spine region a vertebra or disc label belongs to (a disc: its lower level's,
    except the lumbosacral discs, which are lumbar)."""
    if label.key == "sacrum":
        return "Sacral"
    level = label.key.split("-")[-1] if label.category == "disc" else label.key
    region = REGIONS.get(level[:1], "Other")
    return "Lumbar" if label.category == "disc" and region == "Sacral" else region


def label_groups(vocabulary: Vocabulary) -> list[tuple[str, list[Label]]]:
    """The vocabulary in groups: vertebrae and discs by region ("Lumbar vertebrae",
    "Lumbar discs", ...), then implants and the rest."""
    groups: dict[str, list[Label]] = {}
    for region in REGIONS.values():
        groups[f"{region} vertebrae"] = []
        groups[f"{region} discs"] = []
    groups["Implants"], groups["Other"] = [], []
    for label in vocabulary.labels:
        if label.category == "vertebra":
            groups[f"{_region(label)} vertebrae"].append(label)
        elif label.category == "disc":
            groups[f"{_region(label)} discs"].append(label)
        elif label.category == "implant":
            groups["Implants"].append(label)
        else:
            groups["Other"].append(label)
    return [(name, labels) for name, labels in groups.items() if labels]


def label_text(label: Label) -> str:
    """How a label reads in lists: a level as itself ("L3", "L4-L5"), the rest by meaning
    ("Pedicle screw"); a level with more to say keeps it ("L6 (sixth lumbar, transitional)")."""
    if label.category in ("vertebra", "disc") and label.key != "sacrum":
        extra = re.search(r"\((.*)\)", label.meaning)
        return f"{label.key} ({extra.group(1)})" if extra else label.key
    return label.meaning


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _aliases(label: Label) -> tuple[str, ...]:
    """What typing may match: the key, the meaning and, for a disc "L4-L5", "L4-5" / "L45"."""
    names = [label.key, label.meaning, label_text(label)]
    if label.category == "disc" and "-" in label.key:
        upper, lower = label.key.split("-", 1)
        if upper[:1] == lower[:1]:
            names.append(f"{upper}{lower[1:]}")
    return tuple(_squash(n) for n in names)


def matching_labels(vocabulary: Vocabulary, typed: str) -> list[Label]:
    """The labels ``typed`` names, best first: the exact key, then keys starting with it,
    then any name containing it (case, spaces and dashes ignored); all labels for ""."""
    query = _squash(typed)
    if not query:
        return list(vocabulary.labels)
    ranked: list[tuple[int, int, Label]] = []
    for order, label in enumerate(vocabulary.labels):
        names = _aliases(label)
        if query == names[0]:
            rank = 0
        elif any(n == query for n in names[1:]):
            rank = 1
        elif names[0].startswith(query) or any(n.startswith(query) for n in names[3:]):
            rank = 2
        elif any(query in n for n in names):
            rank = 3
        else:
            continue
        ranked.append((rank, order, label))
    return [label for *_, label in sorted(ranked, key=lambda t: (t[0], t[1]))]


def _heading(text: str) -> QStandardItem:
    item = QStandardItem(text)
    item.setFlags(Qt.ItemFlag.NoItemFlags)  # not selectable: the arrow keys skip it
    font = QFont()
    font.setBold(True)
    item.setFont(font)
    return item


class LabelBox(QComboBox):
    """The label for new marks (and the selected one): a drop-down of the vocabulary in
    groups, and a field that completes what is typed (Enter takes the best match).

    ``labelChosen(key)`` says a label was picked ("" for none); :meth:`set_key` shows a
    label without saying so.
    """

    labelChosen = Signal(str)

    def __init__(self, vocabulary: Vocabulary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vocabulary = vocabulary
        self.setObjectName("label-box")
        items = QStandardItemModel(self)
        none = QStandardItem("(no label)")
        none.setData("", KEY_ROLE)
        items.appendRow(none)
        for name, labels in label_groups(vocabulary):
            items.appendRow(_heading(name))
            for label in labels:
                item = QStandardItem("    " + label_text(label))
                item.setData(label.key, KEY_ROLE)
                item.setData(QBrush(QColor(label.color)), Qt.ItemDataRole.ForegroundRole)
                item.setToolTip(f"{label.key}: {label.meaning}")
                items.appendRow(item)
        self.setModel(items)
        self.setMaxVisibleItems(20)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.edit = edit = QLineEdit(self)
        self.setLineEdit(edit)
        edit.setPlaceholderText("Type a label: L4, L4-5, screw...")
        self._matches = QStringListModel(self)
        self.completions = completer = QCompleter(self._matches, self)
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setMaxVisibleItems(12)
        self.setCompleter(completer)
        completer.activated.connect(self._completed)
        edit.textEdited.connect(self._typed)
        edit.returnPressed.connect(self._return)
        edit.editingFinished.connect(self._show_current)
        self.activated.connect(lambda _i: self._pick(self.currentData(KEY_ROLE)))
        self.setCurrentIndex(0)
        self._show_current()

    def key(self) -> str:
        """The label shown ("" for none)."""
        return self.currentData(KEY_ROLE) or ""

    def set_key(self, key: str | None) -> None:
        """Show ``key`` (none for an unknown one), without ``labelChosen``."""
        self.setCurrentIndex(max(0, self.findData(key or "", KEY_ROLE)))
        self._show_current()

    def _typed(self, text: str) -> None:
        self._matches.setStringList(
            [f"{label_text(lb)}  \u2014 {lb.key}" for lb in matching_labels(self.vocabulary, text)]
        )

    def _completed(self, chosen: object) -> None:
        text = chosen.data() if isinstance(chosen, QModelIndex) else chosen
        self._pick(str(text).rsplit("\u2014", 1)[-1].strip())

    def _return(self) -> None:
        popup = self.completions.popup()
        if popup is not None and popup.isVisible():
            return  # the completer's own Enter picks the highlighted match
        found = matching_labels(self.vocabulary, self.edit.text())
        if found and self.edit.text().strip():
            self._pick(found[0].key)
        else:
            self._show_current()

    def _pick(self, key: object) -> None:
        if key is None:
            return
        self.set_key(str(key))
        self.labelChosen.emit(self.key())

    def _show_current(self) -> None:
        text = self.currentText().strip()
        if self.edit.text() != text:
            self.edit.setText(text)


class LabelPicker(QDialog):
    """The relabel popup: a field and the matching labels (grouped while nothing is typed).
    Up / Down move, Enter picks (the best match unless another is highlighted), Esc closes.
    ``picked(key)`` says which label was chosen."""

    picked = Signal(str)

    def __init__(
        self, vocabulary: Vocabulary, current: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("label-picker")
        self.setWindowTitle("Label")
        self.vocabulary = vocabulary
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Type a label: L4, L4-5, screw... (Enter picks, Esc closes)")
        self.list = QListWidget(self)
        self.list.setUniformItemSizes(True)
        self.list.itemActivated.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list, 1)
        self.edit.textChanged.connect(self._filter)
        self.edit.installEventFilter(self)
        self.resize(320, 360)
        self._filter("")
        row = next(
            (i for i in range(self.list.count()) if self.list.item(i).data(KEY_ROLE) == current),
            None,
        )
        if row is not None:
            self.list.setCurrentRow(row)
        self.edit.setFocus()

    def keys(self) -> list[str]:
        """The label keys listed, in order (no headings)."""
        items = (self.list.item(i) for i in range(self.list.count()))
        return [it.data(KEY_ROLE) for it in items if it.data(KEY_ROLE)]

    def _filter(self, text: str) -> None:
        self.list.clear()
        if text.strip():
            for label in matching_labels(self.vocabulary, text):
                self._add(label)
        else:
            for name, labels in label_groups(self.vocabulary):
                heading = QListWidgetItem(name)
                heading.setFlags(Qt.ItemFlag.NoItemFlags)
                font = heading.font()
                font.setBold(True)
                heading.setFont(font)
                self.list.addItem(heading)
                for label in labels:
                    self._add(label, indent="    ")
        first = next((i for i in range(self.list.count()) if self.list.item(i).data(KEY_ROLE)), -1)
        self.list.setCurrentRow(first)

    def _add(self, label: Label, indent: str = "") -> None:
        item = QListWidgetItem(f"{indent}{label_text(label)}")
        item.setData(KEY_ROLE, label.key)
        item.setForeground(QBrush(QColor(label.color)))
        item.setToolTip(f"{label.key}: {label.meaning}")
        self.list.addItem(item)

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        while 0 <= row + step < self.list.count():
            row += step
            if self.list.item(row).data(KEY_ROLE):
                self.list.setCurrentRow(row)
                return

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                self._move(-1 if key == Qt.Key.Key_Up else 1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._activated(self.list.currentItem())
                return True
        return super().eventFilter(watched, event)

    def _activated(self, item: QListWidgetItem | None) -> None:
        key = item.data(KEY_ROLE) if item is not None else None
        if key:
            self.picked.emit(str(key))
            self.accept()
