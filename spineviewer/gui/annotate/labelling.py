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

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QMouseEvent, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QWidget,
)

from spineviewer.annotations import Annotation, Kind
from spineviewer.annotations.levels import DOWN, UP, is_level, next_level
from spineviewer.geometry.levels import COLUMN
from spineviewer.gui.annotate.controller import LABELS_TOOL, AnnotationController, image_ref
from spineviewer.gui.annotate.drawing import outline_points
from spineviewer.gui.viewport import ImageViewport

__all__ = ["HINT", "LabellingBar", "LabellingTool", "labels_icon"]

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
            if ann.kind == Kind.POINT:
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
