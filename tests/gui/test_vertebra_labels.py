"""The vertebra labelling tool in the real window, with real mouse and key events: labels
placed by clicking with auto-increment, shown on neighbouring sagittal slices, naming the
level of the axial slices, shifted as one undoable step, saved with the annotations."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import open_window
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from spineviewer.annotations import Status, Workspace
from spineviewer.annotations.level_marks import LATERAL_HALF_WIDTH_MM
from spineviewer.gui.annotate.controller import image_ref
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.viewport import ImageViewport
from spineviewer.phantom import load_ground_truth

LEFT = Qt.MouseButton.LeftButton
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def viewport_of(win: MainWindow, plane: str) -> ImageViewport:
    """The viewport showing a sagittal (normal along x) or axial (normal along z) series."""
    axis = {"sagittal": 0, "axial": 2}[plane]
    for vp in win.grid.viewports:
        info = vp.info
        if info is not None and info.plane is not None and abs(info.plane.normal[axis]) > 0.8:
            return vp
    raise AssertionError(f"no {plane} viewport")


def grab(vp: ImageViewport) -> np.ndarray:
    vp.viewport().repaint()
    image = vp.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    bits = np.frombuffer(image.constBits(), np.uint8)
    rows = bits.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return rows.reshape(image.height(), image.width(), 3).copy()  # the QImage goes away


def labels_of(win: MainWindow) -> dict[str, str]:
    """uid -> label of the study's vertebra labels."""
    doc = win.annotation.controller.document
    assert doc is not None
    return {a.uid: a.label for a in doc}


@pytest.fixture
def labelled(qtbot, demo_study_dir):
    """The demo study with L3, L4 and L5 labelled by clicks on the middle sagittal slice."""
    truth = load_ground_truth(demo_study_dir)
    win = open_window(qtbot, demo_study_dir)
    win.activateWindow()  # window shortcuts (L, Alt+Down, Ctrl+Z) need the active window
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    sagittal = viewport_of(win, "sagittal")
    sagittal.setFocus()
    sagittal.set_index(len(sagittal.source) // 2)
    tool = win.annotation.tools.labelling
    bar = win.annotation.labelling_bar
    qtbot.keyClick(sagittal, Qt.Key.Key_L)  # the tool's key
    assert win.annotation.controller.tool == "labels"
    assert tool.next_level == "L1"
    qtbot.keyClick(sagittal, Qt.Key.Key_Plus)
    qtbot.keyClick(sagittal, Qt.Key.Key_Plus)  # start level L3, by keyboard
    assert tool.next_level == "L3" and bar.level_box.currentText() == "L3"
    plane = sagittal.info.plane
    for label in ("L3", "L4", "L5"):
        row, col = plane.to_pixel(truth.vertebra(label).centre_mm)
        pos = sagittal.image_to_widget(float(row), float(col)).toPoint()
        qtbot.mouseClick(sagittal.viewport(), LEFT, pos=pos)
    yield win, truth, sagittal
    win.close()


def test_three_clicks_label_three_bodies_and_undo_gives_the_level_back(qtbot, labelled) -> None:
    win, truth, sagittal = labelled
    tool = win.annotation.tools.labelling
    doc = win.annotation.controller.document
    marks = [a for a in doc if a.label in ("L3", "L4", "L5")]
    assert sorted(a.label for a in marks) == ["L3", "L4", "L5"]
    assert all(a.kind.value == "point" and a.status == Status.ACCEPTED for a in marks)
    for a in marks:  # each where it was clicked, within a pixel of the true centre
        true = np.asarray(truth.vertebra(a.label).centre_mm)
        assert abs(sagittal.info.plane.distance(true)) < 5.0
        assert np.linalg.norm(np.subtract(a.points_mm[0], true)[1:]) < 1.5
    assert tool.next_level == "S1" and win.annotation.labelling_bar.level_box.currentText() == "S1"
    qtbot.keyClick(sagittal, Qt.Key.Key_Z, CTRL)
    assert sorted(labels_of(win).values()) == ["L3", "L4"]
    assert tool.next_level == "L5"  # the undone click's level comes back
    qtbot.keyClick(sagittal, Qt.Key.Key_Y, CTRL)
    assert sorted(labels_of(win).values()) == ["L3", "L4", "L5"]
    # clicking a labelled body again renames it instead of adding a second mark
    tool.set_next("L2")
    l3 = next(a for a in doc if a.label == "L3")
    pos = sagittal.image_to_widget(*l3.points[0]).toPoint() + QPoint(2, 1)
    qtbot.mouseClick(sagittal.viewport(), LEFT, pos=pos)
    assert doc[l3.uid].label == "L2" and len(doc) == 3
    win.annotation.controller.undo()
    assert doc[l3.uid].label == "L3"


def test_labels_show_on_the_neighbouring_sagittal_slices(qtbot, labelled) -> None:
    win, _, sagittal = labelled
    overlay = win.annotation.level_overlay
    middle = sagittal.index
    assert overlay.labels_on(sagittal) == []  # drawn as annotations on their own image
    qtbot.keyClick(sagittal, Qt.Key.Key_Down)  # the next slice, with the wheel key
    assert sagittal.index == middle + 1
    shown = {m.mark.label: m for m in overlay.labels_on(sagittal)}
    assert set(shown) == {"L3", "L4", "L5"}
    # drawn: the diamond at the projected centre is there with the layer, gone without it
    item = shown["L4"]
    at = sagittal.image_to_widget(item.row, item.col)
    x, y = round(at.x()), round(at.y())
    with_labels = grab(sagittal)
    win.analysis.layer_checks["Vertebrae"].setChecked(False)
    without = grab(sagittal)
    win.analysis.layer_checks["Vertebrae"].setChecked(True)
    patch = (slice(y - 3, y + 4), slice(x - 3, x + 4))
    assert np.abs(with_labels[patch].astype(int) - without[patch].astype(int)).max() > 60
    # far lateral slices do not cut the bodies: nothing shown there
    spacing = abs(
        float(sagittal.source.info(1).plane.distance(sagittal.source.info(0).plane.origin))
    )
    far = middle + int(LATERAL_HALF_WIDTH_MM / spacing) + 1
    if far < len(sagittal.source):
        sagittal.set_index(far)
        assert overlay.labels_on(sagittal) == []


def test_axial_level_follows_a_shift_and_its_undo(qtbot, labelled) -> None:
    win, truth, sagittal = labelled
    axial = viewport_of(win, "axial")
    overlay = win.annotation.level_overlay
    source = axial.source
    at_disc = {}
    for index in range(len(source)):
        frame = source.info(index).frame
        for level in truth.axial_levels:
            if (
                frame is not None
                and level.sop_instance_uid == frame.instance.sop_instance_uid
                and level.level in ("L3-L4", "L4-L5")
                and level.distance_mm < 3.0
            ):
                at_disc.setdefault(level.level, index)
    assert set(at_disc) == {"L3-L4", "L4-L5"}, "the axial series crosses both discs"
    axial.set_index(at_disc["L3-L4"])
    level = overlay.level_of(axial)
    assert level is not None and (level.level, level.kind) == ("L3-L4", "disc")
    before = grab(axial)
    top = before[: axial.viewport().height() // 6]
    # Annotate > Shift labels down one level (Alt+Down): one undo step, every label moves
    qtbot.keyClick(sagittal, Qt.Key.Key_Down, ALT)
    assert sorted(labels_of(win).values()) == ["L4", "L5", "S1"]
    assert win.annotation.undo_action.text() == "Undo Shift labels down one level"
    assert overlay.level_of(axial).level == "L4-L5"  # the same slice, now named L4-L5
    shifted = grab(axial)[: axial.viewport().height() // 6]
    assert np.abs(shifted.astype(int) - top.astype(int)).max() > 60  # the text changed
    # saved at once with the annotations
    saved = Workspace().load(win.annotation.controller.current_uid)
    assert saved is not None and sorted(a.label for a in saved.document) == ["L4", "L5", "S1"]
    # one undo restores every label and the axial level
    qtbot.keyClick(sagittal, Qt.Key.Key_Z, CTRL)
    assert sorted(labels_of(win).values()) == ["L3", "L4", "L5"]
    assert overlay.level_of(axial).level == "L3-L4"
    # the other way: up one level from the menu action
    win.annotation.shift_up_action.trigger()
    assert sorted(labels_of(win).values()) == ["L2", "L3", "L4"]
    assert overlay.level_of(axial).level == "L2-L3"
    axial.set_index(at_disc["L4-L5"])
    assert overlay.level_of(axial).level == "L3-L4"


def test_a_shift_that_cannot_be_done_says_why(qtbot, labelled) -> None:
    win, truth, sagittal = labelled
    controller = win.annotation.controller
    assert win.annotation.tools.labelling.next_level == "S1"
    row, col = sagittal.info.plane.to_pixel(truth.vertebra("S1").centre_mm)
    pos = sagittal.image_to_widget(float(row), float(col)).toPoint()
    qtbot.mouseClick(sagittal.viewport(), LEFT, pos=pos)
    assert sorted(labels_of(win).values()) == ["L3", "L4", "L5", "S1"]
    # L5 renamed L6 by hand: down, S1 stays and L6 would become S1 too
    l5 = next(a for a in controller.document if a.label == "L5")
    controller.replace([l5.relabelled("L6")], "Relabel")
    before = dict(labels_of(win))
    undo_text = win.annotation.undo_action.text()
    with qtbot.waitSignal(controller.message, timeout=1000) as message:
        assert not controller.shift_levels(1)
    assert "not shifted" in message.args[0] and "L6 and S1 would both become S1" in message.args[0]
    assert labels_of(win) == before and win.annotation.undo_action.text() == undo_text


def test_accept_ai_labels_from_the_panel(qtbot, demo_study_dir) -> None:
    from spineviewer.annotations import Annotation, Provenance

    win = open_window(qtbot, demo_study_dir)
    sagittal = viewport_of(win, "sagittal")
    controller = win.annotation.controller
    ref, plane = image_ref(sagittal.info), sagittal.info.plane
    model = Provenance.model("vertebra-detector", "1.0", 0.8)
    ai = [
        Annotation.create("rectangle", ref, [(100 + 30 * i, 100), (120 + 30 * i, 140)], plane,
                          label=label, status=Status.PROPOSED, provenance=model)
        for i, label in enumerate(("L4", "L5", "S1"))
    ]  # fmt: skip
    disc = Annotation.create("ellipse", ref, [(121, 100), (129, 140)], plane, label="L4-L5",
                             state="bulge", status=Status.PROPOSED, provenance=model)  # fmt: skip
    controller.add_proposals(controller.current_uid, [*ai, disc], "Run AI models")
    win.annotation.labelling_bar.accept_button.click()
    doc = controller.document
    assert [doc[a.uid].status for a in ai] == [Status.ACCEPTED] * 3
    assert doc[disc.uid].status == Status.PROPOSED  # only the vertebra labels
    assert win.annotation.undo_action.text() == "Undo Accept AI labels"
    win.annotation.labelling_bar.up_button.click()
    assert [doc[a.uid].label for a in ai] == ["L3", "L4", "L5"]
    assert doc[disc.uid].label == "L3-L4" and doc[disc.uid].state == "bulge"
    win.close()
