"""Drawing and editing annotations with the mouse and keys, on any viewport.

One :class:`AnnotationTools` serves every viewport (it is each viewport's ``tool_handler``).
It turns gestures into new or changed :class:`~spineviewer.annotations.Annotation` values and
hands them to the :class:`~.controller.AnnotationController`, which records them as undoable
commands. While a shape is being drawn or dragged nothing is recorded: the draft (or a
preview of the dragged annotation) is painted, and one command is pushed at the end.

Gestures:

- rectangle, ellipse, line, arrow: drag from corner to corner (or click, click);
- point: click; freehand: drag; polygon: click each vertex, double-click or Enter closes;
- angle: click arm end, vertex, arm end (dragging an arm works too);
- Cobb angle: two lines, each dragged (or clicked end to end);
- select tool: click picks, drag moves, handles reshape, double-click on an edge adds a
  polygon vertex, Ctrl+click on a vertex removes it; Delete removes the selection; Esc
  cancels the drawing (or the drag) in progress; Ctrl+Shift+Up/Down copies the selection to
  the previous/next image;
- vertebra labels: click a body, it gets the next level (:mod:`.labelling`);
- calibrate on a known length: drag (or click, click) a line over something of known size;
  it is not kept as a mark but handed to :attr:`AnnotationTools.on_calibration_line`, which
  asks for its true length and calibrates the series.

A mark drawn with no label chosen is named after its shape and numbered in its study
("Distance 1", "Distance 2", "Angle 1"; :func:`default_name`): the name is its note, shown on
the image and in the Annotations panel, and can be edited there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter

from spineviewer.annotations import POINT_COUNT, Annotation, Kind, Status
from spineviewer.annotations.shapes import SHAPES, shape
from spineviewer.gui.annotate.controller import (
    CALIBRATE_TOOL,
    DRAW_TOOLS,
    LABELS_TOOL,
    AnnotationController,
    image_ref,
)
from spineviewer.gui.annotate.controller import format_measurement as fmt
from spineviewer.gui.annotate.drawing import (
    UNLABELLED,
    handle_points,
    outline_points,
    paint_annotation,
    paint_draft,
)
from spineviewer.gui.annotate.labelling import LabellingTool
from spineviewer.gui.annotate.layers import LayerStyles, layer_of
from spineviewer.gui.annotate.review_style import suffix
from spineviewer.gui.reference_lines import segment_distance
from spineviewer.gui.viewport import ImageViewport

#: Screen pixels within which a click grabs a handle or an outline.
PICK_PX = 6.0
#: A press and release further apart than this is a drag, not a click.
DRAG_PX = 4.0
#: Freehand outlines keep a point every this many screen pixels.
FREEHAND_STEP_PX = 3.0
#: The calibration line while it is drawn (amber: not a mark of any layer).
CALIBRATION_COLOR = QColor("#ffb000")

Point = tuple[float, float]

#: What a person calls each shape (the default name of an unlabelled mark, the panel's words).
KIND_NAMES: dict[Kind, str] = {kind: spec.title for kind, spec in SHAPES.items()}


def default_name(kind: Kind, existing: Iterable[Annotation]) -> str:
    """The name of a new unlabelled ``kind`` mark among ``existing`` ones: "Distance 1", then
    one more than the highest number in use ("Distance 3" after "Distance 2")."""
    name = KIND_NAMES[kind]
    pattern = re.compile(rf"{re.escape(name)} (\d+)")
    used = [int(m.group(1)) for a in existing if (m := pattern.fullmatch(a.text))]
    return f"{name} {max(used, default=0) + 1}"


@dataclass
class _Draft:
    viewport: ImageViewport
    kind: Kind
    points: list[Point] = field(default_factory=list)
    hover: Point | None = None
    press: QPointF | None = None
    dragging: bool = False
    #: A known-length calibration line (handed on, not kept as a mark).
    calibration: bool = False


@dataclass
class _Edit:
    viewport: ImageViewport
    original: Annotation
    #: "move" or "handle"
    mode: str
    handle: int
    start: Point


def _distance(a: QPointF, b: QPointF) -> float:
    return math.hypot(a.x() - b.x(), a.y() - b.y())


def reshaped(annotation: Annotation, handle: int, to: Point) -> list[Point]:
    """The points after dragging handle ``handle`` (see ``handle_points``) to ``to``."""
    pts = list(annotation.points)
    if annotation.kind in (Kind.RECTANGLE, Kind.ELLIPSE):
        (r0, c0), (r1, c1) = pts
        r, c = to
        corners = {0: (r, c, r1, c1), 1: (r, c0, r1, c), 2: (r0, c0, r, c), 3: (r0, c, r, c1)}
        a, b, d, e = corners[handle]
        return [(a, b), (d, e)]
    pts[handle] = to
    return pts


class AnnotationTools:
    """The drawing and editing tools; install with ``viewport.tool_handler = tools``."""

    def __init__(self, controller: AnnotationController) -> None:
        self.controller = controller
        #: Which layers are drawn, how opaque (the Layers panel changes them).
        self.layers = LayerStyles()
        #: The vertebra labelling tool (its next level, placing labels).
        self.labelling = LabellingTool(controller)
        self.draft: _Draft | None = None
        self.edit: _Edit | None = None
        #: Gets each finished calibration line (an annotation not in any document); the
        #: window asks for its true length there. Without it the line is dropped.
        self.on_calibration_line: Callable[[Annotation], object] | None = None
        controller.toolChanged.connect(lambda _tool: self.cancel())

    # -- helpers ------------------------------------------------------------------------------

    def _on_image(self, vp: ImageViewport) -> list[Annotation]:
        return self.controller.annotations_on(image_ref(vp.info))

    def _hit(self, vp: ImageViewport, pos: QPointF) -> tuple[Annotation, str, int] | None:
        """The annotation under ``pos``: (annotation, "handle" / "move" / "edge", index)."""
        items = self._on_image(vp)
        selected = self.controller.selected
        for ann in reversed(items):
            if ann.uid == selected:
                for i, (r, c) in enumerate(handle_points(ann)):
                    if _distance(vp.image_to_widget(r, c), pos) <= PICK_PX:
                        return ann, "handle", i
        for ann in reversed(items):
            pts = [vp.image_to_widget(r, c) for r, c in outline_points(ann)]
            if ann.kind == Kind.POINT:
                if _distance(pts[0], pos) <= PICK_PX + 2:
                    return ann, "move", 0
                continue
            closed = ann.filled
            pairs = list(zip(pts, pts[1:] + pts[:1] if closed else pts[1:], strict=False))
            if ann.kind == Kind.COBB:
                pairs = [(pts[0], pts[1]), (pts[2], pts[3])]
            if ann.kind == Kind.ELLIPSE:
                if self._near_ellipse(pts, pos):
                    return ann, "move", 0
                continue
            for i, (a, b) in enumerate(pairs):
                if segment_distance(pos, a, b)[0] <= PICK_PX:
                    return ann, "edge", i
        return None

    @staticmethod
    def _near_ellipse(corners: list[QPointF], pos: QPointF) -> bool:
        xs = [p.x() for p in corners]
        ys = [p.y() for p in corners]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        rx, ry = max((max(xs) - min(xs)) / 2, 1.0), max((max(ys) - min(ys)) / 2, 1.0)
        norm = math.hypot((pos.x() - cx) / rx, (pos.y() - cy) / ry)
        return norm <= 1.0 + PICK_PX / min(rx, ry)

    def _commit(self, draft: _Draft) -> None:
        self.draft = None
        vp = draft.viewport
        ref = image_ref(vp.info)
        pts = draft.points
        too_few = not shape(draft.kind).complete(len(pts))
        widget = [vp.image_to_widget(r, col) for r, col in pts]
        collapsed = len(pts) > 1 and all(_distance(p, widget[0]) < DRAG_PX for p in widget)
        if ref is None or too_few or collapsed:  # nothing drawn (a stray click): no annotation
            vp.update()
            return
        plane = vp.info.plane if vp.info is not None else None
        c = self.controller
        if draft.calibration:
            vp.update()
            if self.on_calibration_line is not None:
                self.on_calibration_line(Annotation.create(Kind.LINE, ref, pts, plane))
            return
        label = c.vocabulary.get(c.label)
        state = c.state if label is not None and label.category == "disc" else None
        session = c.sessions.get(ref.study_uid)
        name = ""
        if not c.label and draft.kind != Kind.ARROW and session is not None:
            name = default_name(draft.kind, session.document)  # a text arrow says its note
        mark = Annotation.create(draft.kind, ref, pts, plane, label=c.label, state=state, text=name)
        c.add(mark)
        vp.update()

    @staticmethod
    def _same_spot(vp: ImageViewport, a: Point, b: Point) -> bool:
        return _distance(vp.image_to_widget(*a), vp.image_to_widget(*b)) < DRAG_PX

    def cancel(self) -> bool:
        """Drop the drawing or drag in progress; True when there was one."""
        had = self.draft is not None or self.edit is not None
        for state in (self.draft, self.edit):
            if state is not None:
                state.viewport.update()
        if self.edit is not None:
            self.controller.preview.pop(self.edit.original.uid, None)
        self.draft, self.edit = None, None
        return had

    # -- mouse ----------------------------------------------------------------------------------

    def mouse_press(self, vp: ImageViewport, ev: QMouseEvent) -> bool:
        if ev.button() != Qt.MouseButton.LeftButton:
            return False
        tool = self.controller.tool
        pos = ev.position()
        rc = vp.widget_to_image(pos)
        if self.draft is not None and self.draft.viewport is vp:
            return self._press_in_draft(self.draft, pos, rc)
        if tool == "select":
            return self._press_select(vp, ev, pos, rc)
        if tool == LABELS_TOOL:
            return self.labelling.press(vp, ev)
        if tool not in DRAW_TOOLS and tool != CALIBRATE_TOOL:
            return False
        if image_ref(vp.info) is None:
            self.controller.message.emit(
                "Annotations are drawn on acquired images, not on reformats (MPR)."
            )
            return True
        calibration = tool == CALIBRATE_TOOL
        kind = Kind.LINE if calibration else DRAW_TOOLS[tool]
        self.draft = _Draft(vp, kind, [rc], press=pos, calibration=calibration)
        if kind == Kind.POINT:
            self._commit(self.draft)
        return True

    def _press_in_draft(self, draft: _Draft, pos: QPointF, rc: Point) -> bool:
        draft.press = pos
        draft.points.append(rc)
        need = POINT_COUNT[draft.kind]
        if need is not None and len(draft.points) >= need:
            self._commit(draft)
        else:
            draft.viewport.update()
        return True

    def _press_select(self, vp: ImageViewport, ev: QMouseEvent, pos: QPointF, rc: Point) -> bool:
        hit = self._hit(vp, pos)
        c = self.controller
        if hit is None:
            c.select(None)
            return True
        ann, mode, index = hit
        c.select(ann.uid)
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if ctrl and mode == "handle" and ann.kind in (Kind.POLYGON, Kind.FREEHAND):
            if len(ann.points) > 3:
                pts = [p for i, p in enumerate(ann.points) if i != index]
                c.replace(
                    [ann.with_points(pts, vp.info.plane if vp.info else None)], "Remove vertex"
                )
            return True
        self.edit = _Edit(vp, ann, "handle" if mode == "handle" else "move", index, rc)
        return True

    def mouse_move(self, vp: ImageViewport, ev: QMouseEvent) -> bool:
        pos = ev.position()
        held = bool(ev.buttons() & Qt.MouseButton.LeftButton)
        edit, draft = self.edit, self.draft
        if edit is not None and edit.viewport is vp and held:
            rc = vp.widget_to_image(pos)
            plane = vp.info.plane if vp.info is not None else None
            ann = edit.original
            if edit.mode == "move":
                moved = ann.moved(rc[0] - edit.start[0], rc[1] - edit.start[1], plane)
            else:
                moved = ann.with_points(reshaped(ann, edit.handle, rc), plane)
            self.controller.preview[ann.uid] = moved
            vp.update()
            return True
        if draft is not None and draft.viewport is vp:
            rc = vp.widget_to_image(pos)
            draft.hover = rc
            if held and draft.press is not None and _distance(pos, draft.press) > DRAG_PX:
                draft.dragging = True
            if held and draft.kind == Kind.FREEHAND:
                last = draft.points[-1]
                if _distance(vp.image_to_widget(*last), pos) >= FREEHAND_STEP_PX:
                    draft.points.append(rc)
            vp.update()
            return True
        return False

    def mouse_release(self, vp: ImageViewport, ev: QMouseEvent) -> bool:
        if ev.button() != Qt.MouseButton.LeftButton:
            return False
        edit, draft = self.edit, self.draft
        if edit is not None and edit.viewport is vp:
            self.edit = None
            moved = self.controller.preview.pop(edit.original.uid, None)
            if moved is not None and moved.points != edit.original.points:
                verb = "Move" if edit.mode == "move" else "Reshape"
                self.controller.replace([moved], f"{verb} {edit.original.kind.value}")
            vp.update()
            return True
        if draft is None or draft.viewport is not vp:
            return False
        rc = vp.widget_to_image(ev.position())
        if draft.kind == Kind.FREEHAND:
            self._commit(draft)
        elif draft.dragging:  # a dragged segment: its end is a point too
            draft.dragging = False
            draft.points.append(rc)
            need = POINT_COUNT[draft.kind]
            if need is not None and len(draft.points) >= need:
                self._commit(draft)
        return True

    def mouse_double_click(self, vp: ImageViewport, ev: QMouseEvent) -> bool:
        draft = self.draft
        if draft is not None and draft.viewport is vp and draft.kind == Kind.POLYGON:
            # The double-click ends at its position: a vertex there once (its first press may
            # have added it already), repeats dropped.
            pts = draft.points
            pts.append(vp.widget_to_image(ev.position()))
            while len(pts) >= 2 and self._same_spot(vp, pts[-1], pts[-2]):
                pts.pop()
            self._commit(draft)
            return True
        if self.controller.tool != "select":
            return self.controller.tool in DRAW_TOOLS or self.controller.tool == CALIBRATE_TOOL
        hit = self._hit(vp, ev.position())
        if hit is None:
            return False  # double-click on the image: maximise, as everywhere
        ann, mode, index = hit
        if mode == "edge" and ann.kind in (Kind.POLYGON, Kind.FREEHAND):
            pts = list(ann.points)
            pts.insert(index + 1, vp.widget_to_image(ev.position()))
            self.controller.replace(
                [ann.with_points(pts, vp.info.plane if vp.info else None)], "Add vertex"
            )
        return True

    # -- keys ------------------------------------------------------------------------------------

    def key_press(self, vp: ImageViewport, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        k = Qt.Key
        ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        draft = self.draft
        if key == k.Key_Escape:
            if self.cancel():
                return True
            if self.controller.selected is not None:
                self.controller.select(None)
                return True
            return False
        if self.controller.tool == LABELS_TOOL and self.labelling.key_press(key):
            return True
        if draft is not None and draft.kind == Kind.POLYGON:
            if key in (k.Key_Return, k.Key_Enter):
                self._commit(draft)
                return True
            if key == k.Key_Backspace and len(draft.points) > 1:
                draft.points.pop()
                vp.update()
                return True
        selected = self.controller.find(self.controller.selected)
        if selected is None:
            return False
        if key in (k.Key_Delete, k.Key_Backspace) and not ctrl:
            self.controller.delete([selected.uid])
            vp.update()
            return True
        if ctrl and shift and key in (k.Key_Up, k.Key_Down):
            return self.copy_to_neighbour(vp, selected, -1 if key == k.Key_Up else 1)
        return False

    def copy_to_neighbour(self, vp: ImageViewport, ann: Annotation, step: int) -> bool:
        """Copy ``ann`` to the image ``step`` away in ``vp`` and show that image."""
        source = vp.source
        if source is None or not 0 <= vp.index + step < len(source):
            return False
        info = source.info(vp.index + step)
        ref = image_ref(info)
        if ref is None:
            return False
        copy = Annotation.create(
            ann.kind, ref, ann.points, info.plane, label=ann.label, state=ann.state, text=ann.text
        )
        vp.set_index(vp.index + step)
        return self.controller.add(copy)

    # -- painting --------------------------------------------------------------------------------

    def paint(self, vp: ImageViewport, painter: QPainter) -> None:
        c = self.controller
        ref = image_ref(vp.info)
        modality = vp.source.modality if vp.source is not None else ""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        # Cobb lines last: they follow the vertebra boxes' edges and must lie on top of them
        for ann in sorted(c.annotations_on(ref), key=lambda a: a.kind == Kind.COBB):
            opacity = self.layers.opacity(layer_of(ann, c.vocabulary))
            selected = ann.uid == c.selected
            if opacity <= 0.0 and not selected:
                continue
            color = QColor(c.vocabulary.color(ann.label)) if ann.label else UNLABELLED
            values = vp.values if ref is not None else None
            lines = self.text_lines(ann, values, modality, detailed=selected)
            painter.setOpacity(1.0 if selected else opacity)
            paint_annotation(painter, ann, vp.image_to_widget, color, lines, selected=selected)
        painter.setOpacity(1.0)
        draft = self.draft
        if draft is not None and draft.viewport is vp:
            pts = list(draft.points) + ([draft.hover] if draft.hover is not None else [])
            color = CALIBRATION_COLOR if draft.calibration else UNLABELLED
            paint_draft(painter, draft.kind, pts, vp.image_to_widget, color)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def text_lines(
        self, ann: Annotation, values: object, modality: str, detailed: bool = True
    ) -> list[str]:
        """Label, state, review state and measurements shown beside an annotation.

        A proposal the model doubts says so after its label ("L3 ?", "L3 (review)") and, when
        ``detailed``, why. Lengths and angles are always shown (they are the point of drawing
        them); an ROI's area and pixel statistics only when ``detailed`` (the selected
        annotation), so a labelled spine stays readable.
        """
        c = self.controller
        lines: list[str] = []
        pending = ann.pending_review
        title = ann.label
        if ann.state:
            title = f"{title} {ann.state}".strip()
        if title and pending:
            title += suffix(pending)
        if ann.text:
            title = f"{title}: {ann.text}" if title else ann.text
        if title:
            lines.append(title)
        if ann.status == Status.PROPOSED:
            score = ann.provenance.score
            lines.append("proposed" + (f" {score:.0%}" if score is not None else ""))
        if pending and detailed and ann.review_reasons:
            lines.append(f"{pending}: " + "; ".join(ann.review_reasons))
        if ann.filled and not detailed:
            return lines
        arr = values if isinstance(values, np.ndarray) else None
        measured = c.measure(ann, arr, modality)
        by_name = {m.name: m for m in measured}
        lines.extend(
            fmt(m) for m in measured if m.name in ("length", "angle", "cobb_angle", "area")
        )
        if "mean" in by_name:
            mean, sd = by_name["mean"], by_name["sd"]
            low, high = by_name["min"].value, by_name["max"].value
            lines.append(f"{fmt(mean)} ± {sd.value:.1f}")
            lines.append(f"Min {low:.0f} / Max {high:.0f}")
        return lines
