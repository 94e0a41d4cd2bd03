"""Drawing and editing annotations with real mouse and key events; the model is checked after
every step, including undo and redo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import shown_viewport
from PySide6.QtCore import QPoint, Qt

from spineviewer.annotations import Kind, Status, Workspace
from spineviewer.dicom import scan
from spineviewer.gui.annotate.controller import AnnotationController
from spineviewer.gui.annotate.tools import AnnotationTools
from spineviewer.gui.viewport import ImageViewport
from spineviewer.phantom import load_ground_truth

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(scope="module")
def study(demo_study_dir: Path):
    return scan(demo_study_dir).studies[0]


@pytest.fixture
def setup(qtbot, study, tmp_path):
    controller = AnnotationController(Workspace(tmp_path / "ws"))
    controller.open_study(study, [])
    tools = AnnotationTools(controller)
    vp = shown_viewport(qtbot, study)
    vp.tool_handler = tools
    yield vp, controller, tools
    controller.close_all()


def doc(controller):
    return controller.document


def px(vp: ImageViewport, row: float, col: float) -> QPoint:
    return vp.image_to_widget(row, col).toPoint()


def image_at(vp: ImageViewport, pos: QPoint) -> tuple[float, float]:
    return vp.widget_to_image(pos)


def drag(qtbot, vp, a: QPoint, b: QPoint, steps: int = 4, modifier=Qt.KeyboardModifier.NoModifier):
    target = vp.viewport()
    qtbot.mousePress(target, LEFT, modifier, a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(target, a + (b - a) * (i / steps))
    qtbot.mouseRelease(target, LEFT, modifier, b)


def click(qtbot, vp, p: QPoint) -> None:
    qtbot.mouseClick(vp.viewport(), LEFT, pos=p)


def only(controller):
    items = list(doc(controller))
    assert len(items) == 1, items
    return items[0]


def assert_points(ann, expected, tol=1e-6):
    assert np.allclose(np.array(ann.points), np.array(expected), atol=tol), (ann.points, expected)


def undo_redo(controller, before_count: int, after_count: int) -> None:
    controller.undo()
    assert len(doc(controller)) == before_count
    controller.redo()
    assert len(doc(controller)) == after_count


@pytest.mark.parametrize("tool", ["rectangle", "ellipse", "line", "arrow"])
def test_two_point_shapes_by_drag(qtbot, setup, tool) -> None:
    vp, controller, _ = setup
    controller.set_tool(tool)
    a, b = px(vp, 60, 50), px(vp, 120, 140)
    drag(qtbot, vp, a, b)
    ann = only(controller)
    assert ann.kind == Kind(tool) and ann.status == Status.ACCEPTED
    assert_points(ann, [image_at(vp, a), image_at(vp, b)])
    ref = vp.info.frame.instance
    assert ann.image.sop_instance_uid == ref.sop_instance_uid and ann.image.frame_number == 1
    # patient points lie on the slice plane, at the drawn pixels
    assert np.allclose(ann.points_mm[0], vp.info.plane.to_patient(*ann.points[0]))
    assert controller.selected == ann.uid
    undo_redo(controller, 0, 1)


def test_point_polygon_freehand_angle_and_cobb(qtbot, setup) -> None:
    vp, controller, _ = setup
    controller.set_tool("point")
    click(qtbot, vp, px(vp, 100, 100))
    assert list(doc(controller))[-1].kind == Kind.POINT

    controller.set_tool("polygon")
    corners = [px(vp, 40, 40), px(vp, 40, 120), px(vp, 110, 130), px(vp, 120, 50)]
    for p in corners[:-1]:
        click(qtbot, vp, p)
    qtbot.mouseDClick(vp.viewport(), LEFT, pos=corners[-1])
    polygon = list(doc(controller))[-1]
    assert polygon.kind == Kind.POLYGON
    assert_points(polygon, [image_at(vp, p) for p in corners])

    controller.set_tool("freehand")
    path = [px(vp, 150 + 20 * np.sin(t), 150 + 20 * np.cos(t)) for t in np.linspace(0, 6, 25)]
    target = vp.viewport()
    qtbot.mousePress(target, LEFT, pos=path[0])
    for p in path[1:]:
        qtbot.mouseMove(target, p)
    qtbot.mouseRelease(target, LEFT, pos=path[-1])
    freehand = list(doc(controller))[-1]
    assert freehand.kind == Kind.FREEHAND and len(freehand.points) >= 10

    controller.set_tool("angle")
    arm, vertex, other = px(vp, 60, 160), px(vp, 100, 160), px(vp, 100, 200)
    for p in (arm, vertex, other):
        click(qtbot, vp, p)
    angle = list(doc(controller))[-1]
    assert angle.kind == Kind.ANGLE
    assert_points(angle, [image_at(vp, p) for p in (arm, vertex, other)])

    controller.set_tool("cobb")
    drag(qtbot, vp, px(vp, 30, 30), px(vp, 40, 200))
    assert len(doc(controller)) == 4  # half a Cobb angle is not an annotation yet
    drag(qtbot, vp, px(vp, 200, 30), px(vp, 180, 200))
    cobb = list(doc(controller))[-1]
    assert cobb.kind == Kind.COBB and len(cobb.points) == 4
    assert len(doc(controller)) == 5
    for _ in range(5):
        controller.undo()
    assert len(doc(controller)) == 0
    for _ in range(5):
        controller.redo()
    assert [a.kind for a in doc(controller)] == [
        Kind.POINT,
        Kind.POLYGON,
        Kind.FREEHAND,
        Kind.ANGLE,
        Kind.COBB,
    ]


def test_escape_cancels_a_polygon_and_backspace_drops_its_last_vertex(qtbot, setup) -> None:
    vp, controller, tools = setup
    controller.set_tool("polygon")
    for p in (px(vp, 40, 40), px(vp, 40, 120), px(vp, 110, 130)):
        click(qtbot, vp, p)
    qtbot.keyClick(vp, Qt.Key.Key_Backspace)
    assert len(tools.draft.points) == 2
    qtbot.keyClick(vp, Qt.Key.Key_Escape)
    assert tools.draft is None and len(doc(controller)) == 0


def test_select_move_resize_vertex_edit_delete_with_undo(qtbot, setup) -> None:
    vp, controller, _ = setup
    controller.set_tool("rectangle")
    drag(qtbot, vp, px(vp, 60, 60), px(vp, 120, 140))
    rect = only(controller)
    controller.set_tool("select")
    # move: drag the top edge by (+10 rows, +20 cols)
    start = px(vp, 60, 100)
    drag(qtbot, vp, start, start + (px(vp, 70, 120) - px(vp, 60, 100)))
    moved = only(controller)
    shift = np.array(moved.points) - np.array(rect.points)
    assert np.allclose(shift, shift[0]) and np.allclose(shift[0], [10, 20], atol=0.6)
    assert moved.uid == rect.uid
    # resize by the bottom-right handle
    corner = px(vp, *moved.points[1])
    drag(qtbot, vp, corner, px(vp, moved.points[1][0] + 30, moved.points[1][1] + 15))
    resized = only(controller)
    assert np.allclose(resized.points[0], moved.points[0])
    assert np.allclose(resized.points[1], np.add(moved.points[1], (30, 15)), atol=0.6)
    controller.undo()
    assert only(controller).points == moved.points
    controller.undo()
    assert only(controller).points == rect.points
    controller.redo()
    controller.redo()
    assert only(controller).points == resized.points
    # delete with the Delete key, undo brings it back
    qtbot.keyClick(vp, Qt.Key.Key_Delete)
    assert len(doc(controller)) == 0
    controller.undo()
    assert only(controller) == resized


def test_polygon_vertices_added_and_removed(qtbot, setup) -> None:
    vp, controller, _ = setup
    controller.set_tool("polygon")
    corners = [(40, 40), (40, 120), (110, 120), (110, 40)]
    for r, c in corners[:-1]:
        click(qtbot, vp, px(vp, r, c))
    qtbot.mouseDClick(vp.viewport(), LEFT, pos=px(vp, *corners[-1]))
    controller.set_tool("select")
    poly = only(controller)
    assert len(poly.points) == 4
    # double-click the middle of the top edge adds a vertex there
    qtbot.mouseDClick(vp.viewport(), LEFT, pos=px(vp, 40, 80))
    added = only(controller)
    assert len(added.points) == 5 and np.allclose(added.points[1], (40, 80), atol=0.6)
    # drag that vertex upwards
    drag(qtbot, vp, px(vp, *added.points[1]), px(vp, 20, 80))
    dragged = only(controller)
    assert np.allclose(dragged.points[1], (20, 80), atol=0.6)
    # Ctrl+click removes it again
    qtbot.mouseClick(
        vp.viewport(), LEFT, Qt.KeyboardModifier.ControlModifier, px(vp, *dragged.points[1])
    )
    assert len(only(controller).points) == 4
    for expected in (5, 5, 4):
        controller.undo()
        assert len(only(controller).points) == expected


def test_copy_to_next_slice_and_labels(qtbot, setup) -> None:
    vp, controller, _ = setup
    controller.set_label("L4-L5", "herniation")
    controller.set_tool("ellipse")
    drag(qtbot, vp, px(vp, 80, 80), px(vp, 100, 120))
    first = only(controller)
    assert (first.label, first.state) == ("L4-L5", "herniation")
    index = vp.index
    qtbot.keyClick(
        vp, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert vp.index == index + 1
    items = list(doc(controller))
    assert len(items) == 2
    copy = items[1]
    assert copy.points == first.points and copy.label == "L4-L5"
    assert copy.image.sop_instance_uid == vp.info.frame.instance.sop_instance_uid
    assert copy.image.sop_instance_uid != first.image.sop_instance_uid
    controller.set_label("L3-L4", "bulge")  # relabels the selected copy, undoably
    assert doc(controller).get(copy.uid).label == "L3-L4"
    controller.undo()
    assert doc(controller).get(copy.uid).label == "L4-L5"


def test_measured_length_matches_phantom_truth_within_a_pixel(qtbot, setup, demo_study_dir) -> None:
    vp, controller, _ = setup
    truth = load_ground_truth(demo_study_dir)
    centres = {v.label: np.array(v.centre_mm) for v in truth.vertebrae}
    plane = vp.info.plane
    # the sagittal slice nearest the L3 centre
    vp.set_index(
        min(
            range(len(vp.source)),
            key=lambda i: abs(vp.source.info(i).plane.distance(centres["L3"])),
        )
    )
    plane = vp.info.plane
    (r3, c3), (r4, c4) = (tuple(float(x) for x in plane.to_pixel(centres[k])) for k in ("L3", "L4"))
    controller.set_tool("line")
    drag(qtbot, vp, px(vp, r3, c3), px(vp, r4, c4))
    ann = only(controller)
    from spineviewer.annotations.measure import length_mm

    measured = length_mm(ann).value
    a, b = plane.to_patient(r3, c3), plane.to_patient(r4, c4)  # the truth points, in plane
    known = float(np.linalg.norm(a - b))
    assert abs(measured - known) <= max(vp.info.pixel_spacing)
    assert known > 20  # a real distance (vertebra to vertebra), not a degenerate line


def test_model_proposal_is_dashed_until_accepted(qtbot, setup) -> None:
    from spineviewer.annotations import Annotation, Provenance
    from spineviewer.gui.annotate.controller import image_ref

    vp, controller, tools = setup
    proposal = Annotation.create(
        "rectangle",
        image_ref(vp.info),
        [(50, 50), (90, 110)],
        vp.info.plane,
        label="L4",
        status=Status.PROPOSED,
        provenance=Provenance.model("vertebra-detector", "0.1.0", 0.93),
    )
    controller.add(proposal)
    assert tools.text_lines(proposal, None, "MR")[:2] == ["L4", "proposed 93%"]
    assert tools.text_lines(proposal, vp.values, "MR", detailed=False) == ["L4", "proposed 93%"]
    lines = tools.text_lines(proposal, vp.values, "MR")
    inside = vp.values[50:91, 50:111]  # pixel centres inside the rectangle
    spacing = vp.info.pixel_spacing
    assert lines[2] == f"Area {40 * spacing[0] * 60 * spacing[1]:.0f} mm²"
    assert lines[3].startswith(f"Mean {inside.mean():.1f}") and f"± {inside.std():.1f}" in lines[3]
    assert lines[4] == f"Min {inside.min():.0f} / Max {inside.max():.0f}"
    controller.set_status([proposal.uid], Status.ACCEPTED)
    assert doc(controller).get(proposal.uid).status == Status.ACCEPTED
    controller.undo()
    assert doc(controller).get(proposal.uid).status == Status.PROPOSED


def test_drawing_is_refused_on_a_reformat(qtbot, setup) -> None:
    from spineviewer.dicom import StackPixels
    from spineviewer.viewing.mpr import MprSource

    vp, controller, _ = setup
    stack = vp.source.stacks[0]
    vp.set_source(MprSource(StackPixels(stack).volume(), "axial"))
    controller.set_tool("line")
    with qtbot.waitSignal(controller.message, timeout=1000) as message:
        drag(qtbot, vp, QPoint(200, 200), QPoint(300, 300))
    assert "reformat" in message.args[0]
    assert len(doc(controller)) == 0


def test_a_stray_double_click_draws_nothing(qtbot, setup) -> None:
    vp, controller, _ = setup
    controller.set_tool("line")
    p = px(vp, 100, 100)
    click(qtbot, vp, p)
    click(qtbot, vp, p)  # click, click on the same spot: a zero-length line is not kept
    assert len(doc(controller)) == 0
