"""Calibrated measurements in the viewer (issue 22, item 3), on real magnified radiograph
phantoms in the real window, drawn with real mouse events.

A distance on a radiograph known only by its detector spacing reads ``mm (detector)`` on the
image, in the Annotations panel and in the corner; the calibrate tool's line over the
calibration sphere, told the sphere's true diameter, makes the same distance ``mm
(calibrated)`` and true within 1 %; undo, redo and Remove calibration take it back and forth
as one step each, and the calibration is saved with the annotations. A radiograph whose header
tells its magnification reads ``mm (calibrated)`` without the tool; an MR's corner is as it
was.

Run as a script under ``xvfb-run`` it drives the real window on the X server, calibrates on
the sphere and measures two body heights with real mouse events, and saves the X framebuffer
(``import -window root``) as ``OUT/xr-calibrated-measurement.png``;
``test_the_calibrated_measurement_on_the_real_screen`` checks that capture, and the same run
made ``docs/screenshots/xr-calibrated-measurement.png``::

    SPINEVIEWER_WORKSPACE=/tmp/ws xvfb-run -a -s "-screen 0 1600x1000x24" \\
        python tests/gui/test_xr_calibration_tool.py --out /tmp/shot
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import open_window, shown_viewport
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QInputDialog
from xvfb_script import MISSING, run_on_xvfb

from spineviewer.annotations import Kind, Workspace
from spineviewer.annotations.measure import Measurement
from spineviewer.dicom import scan
from spineviewer.dicom.spacing import SpacingKind
from spineviewer.gui.annotate.calibration_ui import MIN_KNOWN_MM, ask_known_length
from spineviewer.gui.annotate.controller import format_measurement
from spineviewer.gui.annotate.drawing import UNLABELLED
from spineviewer.gui.viewport import ImageViewport
from spineviewer.phantom import load_ground_truth
from spineviewer.phantom.xr import XrGeometry, generate_magnified_xr, magnified_folder_name

SEED = 2
LEFT = Qt.MouseButton.LeftButton
#: Screen pixels per image pixel while drawing: a point lands within 1/8 pixel of its target.
DRAW_ZOOM = 4.0
MEASURE_COLUMN = 5
SCREEN = (1600, 1000)
SHOT = "xr-calibrated-measurement.png"
#: The bodies whose heights the screenshot measures.
MEASURED = ("L2", "L4")


@pytest.fixture(scope="module")
def radiographs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("xr_calibration")
    out = {}
    for tags, modality in (("detector", "CR"), ("ermf", "DX")):
        geometry = XrGeometry(tags, modality)
        generate_magnified_xr(root, SEED, geometry)
        out[tags] = root / magnified_folder_name(SEED, geometry)
    return out


def centre_on(vp: ImageViewport, row: float, col: float) -> None:
    """Zoom to :data:`DRAW_ZOOM` and bring image point (row, col) to the viewport's centre."""
    vp.zoom_by(DRAW_ZOOM / vp.zoom)
    at = vp.image_to_widget(row, col)
    centre = QPointF(vp.viewport().rect().center())
    vp.pan_by(centre.x() - at.x(), centre.y() - at.y())
    QApplication.processEvents()


def draw_line(qtbot, vp: ImageViewport, line_px: list[list[float]]) -> None:
    """Drag from one truth point to the other (rows, cols), zoomed in on them."""
    (r0, c0), (r1, c1) = line_px
    centre_on(vp, (r0 + r1) / 2, (c0 + c1) / 2)
    a, b = vp.image_to_widget(r0, c0).toPoint(), vp.image_to_widget(r1, c1).toPoint()
    target = vp.viewport()
    assert target.rect().contains(a) and target.rect().contains(b)
    qtbot.mousePress(target, LEFT, pos=a)
    for i in range(1, 5):
        qtbot.mouseMove(target, a + (b - a) * (i / 4))
    qtbot.mouseRelease(target, LEFT, pos=b)


def length_of(text: str) -> float:
    """The number of "Length 28.1 mm (detector)"."""
    return float(text.split()[1])


def test_a_length_or_area_says_what_its_millimetres_are() -> None:
    assert format_measurement(Measurement("length", 42.34, "mm")) == "Length 42.3 mm"
    detector = Measurement("length", 51.73, "mm", SpacingKind.DETECTOR)
    assert format_measurement(detector) == "Length 51.7 mm (detector)"
    area = Measurement("area", 118.2, "mm2", SpacingKind.CALIBRATED)
    assert format_measurement(area) == "Area 118 mm² (calibrated)"
    assert format_measurement(Measurement("cobb_angle", 12.04, "deg")) == "Cobb 12.0°"
    assert format_measurement(Measurement("length", 7.0, "px")) == "Length 7.0 px"


def test_calibrating_on_the_sphere_makes_the_distance_true_and_undo_takes_it_back(
    qtbot, radiographs, tmp_path: Path
) -> None:
    folder = radiographs["detector"]
    truth = load_ground_truth(folder).parameters
    magnification = truth["xr_geometry"]["magnification"]
    height = truth["body_heights"]["L3"]
    sphere = truth["calibration_sphere"]
    win = open_window(qtbot, folder)
    ui, vp = win.annotation, win.grid.viewports[0]
    c = ui.controller
    assert vp.source is not None and vp.source.modality == "CR"

    # a distance over L3's height, in detector mm
    win.set_tool("line")
    draw_line(qtbot, vp, height["line_px"])
    [mark] = list(c.document)
    assert mark.kind == Kind.LINE
    cell = ui.panel.model.index(0, MEASURE_COLUMN).data()
    assert cell.endswith(" mm (detector)"), cell
    assert length_of(cell) == pytest.approx(height["height_mm"] * magnification, rel=0.01)
    on_image = ui.tools.text_lines(mark, None, "CR")
    assert on_image[-1] == cell  # the same words beside the line
    corner = vp.corner_text()
    assert corner is not None and "Lengths in mm (detector)" in corner.bottom_right

    # the calibrate tool's line over the sphere, told its true diameter
    asked: list[tuple[str, float]] = []

    def answer(parent, measured: str, default: float) -> float:
        asked.append((measured, default))
        return float(sphere["diameter_mm"])

    ui.calibration.ask_length = answer
    win.set_tool("calibrate")
    assert ui.tools.draft is None
    draw_line(qtbot, vp, sphere["line_px"])
    [(measured, default)] = asked
    assert measured.endswith(" mm (detector)")
    assert default == pytest.approx(sphere["diameter_mm"] * magnification, rel=0.01)
    assert list(c.document) == [mark]  # the calibration line is not kept as a mark
    series = vp.source.series_uid
    calibration = c.document.calibrations[series]
    assert calibration.factor == pytest.approx(1 / magnification, rel=0.01)
    assert (
        win.statusBar().currentMessage().startswith(f"Series calibrated: {calibration.describe()}")
    )
    cell = ui.panel.model.index(0, MEASURE_COLUMN).data()
    assert cell.endswith(" mm (calibrated)"), cell
    assert length_of(cell) == pytest.approx(height["height_mm"], rel=0.01)
    assert ui.tools.text_lines(mark, None, "CR")[-1] == cell
    corner = vp.corner_text()
    assert corner is not None and "Lengths in mm (calibrated)" in corner.bottom_right
    assert ui.undo_action.text() == "Undo Calibrate series"

    # saved with the annotations (the workspace file, read back)
    loaded = Workspace().load(c.document.study_uid)
    assert loaded is not None and loaded.document.calibrations[series] == calibration

    # undo: detector mm again; redo: calibrated
    ui.undo_action.trigger()
    assert series not in c.document.calibrations
    cell = ui.panel.model.index(0, MEASURE_COLUMN).data()
    assert cell.endswith(" mm (detector)")
    assert length_of(cell) == pytest.approx(height["height_mm"] * magnification, rel=0.01)
    assert "Lengths in mm (detector)" in vp.corner_text().bottom_right
    ui.redo_action.trigger()
    assert ui.panel.model.index(0, MEASURE_COLUMN).data().endswith(" mm (calibrated)")

    # Remove calibration is one step too
    ui.remove_calibration_action.trigger()
    assert ui.panel.model.index(0, MEASURE_COLUMN).data().endswith(" mm (detector)")
    assert "calibration removed" in win.statusBar().currentMessage()
    ui.remove_calibration_action.trigger()  # nothing left to remove: said, not an error
    assert "no calibration" in win.statusBar().currentMessage()
    ui.undo_action.trigger()
    assert c.document.calibrations[series] == calibration
    assert len(c.document) == 1


def test_a_cancelled_question_calibrates_nothing(qtbot, radiographs) -> None:
    folder = radiographs["detector"]
    sphere = load_ground_truth(folder).parameters["calibration_sphere"]
    win = open_window(qtbot, folder)
    ui, vp = win.annotation, win.grid.viewports[0]
    ui.calibration.ask_length = lambda parent, measured, default: None
    win.set_tool("calibrate")
    draw_line(qtbot, vp, sphere["line_px"])
    assert not ui.controller.document.calibrations
    assert not ui.controller.session.stack.can_undo
    assert win.statusBar().currentMessage() == "Calibration cancelled."


def test_the_length_dialog_takes_only_a_positive_length(qtbot) -> None:
    seen: list[float] = []

    def type_then(accept: bool, value: float) -> None:
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QInputDialog))
        dialog.setDoubleValue(value)
        seen.append(dialog.doubleValue())
        dialog.accept() if accept else dialog.reject()

    QTimer.singleShot(0, lambda: type_then(True, -5.0))
    assert ask_known_length(None, "30.2 mm (detector)", 30.2) == MIN_KNOWN_MM
    assert seen == [MIN_KNOWN_MM]  # a negative length cannot be typed
    QTimer.singleShot(0, lambda: type_then(True, 25.0))
    assert ask_known_length(None, "30.2 mm (detector)", 30.2) == 25.0
    QTimer.singleShot(0, lambda: type_then(False, 25.0))
    assert ask_known_length(None, "30.2 mm (detector)", 30.2) is None


def test_a_header_calibrated_radiograph_reads_calibrated_mm(qtbot, radiographs) -> None:
    folder = radiographs["ermf"]
    truth = load_ground_truth(folder).parameters
    height = truth["body_heights"]["L2"]
    win = open_window(qtbot, folder)
    ui, vp = win.annotation, win.grid.viewports[0]
    win.set_tool("line")
    draw_line(qtbot, vp, height["line_px"])
    cell = ui.panel.model.index(0, MEASURE_COLUMN).data()
    assert cell.endswith(" mm (calibrated)"), cell
    assert length_of(cell) == pytest.approx(height["height_mm"], rel=0.01)
    assert "Lengths in mm (calibrated)" in vp.corner_text().bottom_right
    assert not ui.controller.document.calibrations


def test_the_scale_bar_follows_the_calibration(qtbot, radiographs, monkeypatch) -> None:
    study = scan(radiographs["detector"]).studies[0]
    vp = shown_viewport(qtbot, study)
    bars: list[tuple[float, str]] = []

    def record(painter, rect, mm_per_px: float, unit: str) -> None:
        bars.append((mm_per_px, unit))

    monkeypatch.setattr(vp._painter, "scale_bar", record)
    vp.grab()
    mm_per_px, unit = bars[-1]
    assert unit == "mm (detector)" and mm_per_px > 0
    vp.calibration_factor = lambda series_uid: 0.8 if series_uid == vp.source.series_uid else None
    vp.grab()
    assert bars[-1] == (pytest.approx(mm_per_px * 0.8), "mm (calibrated)")


def test_mr_corners_have_no_length_unit_line(qtbot, demo_study_dir: Path, monkeypatch) -> None:
    vp = shown_viewport(qtbot, scan(demo_study_dir).studies[0])
    corner = vp.corner_text()
    assert corner is not None
    assert not [line for line in corner.bottom_right if line.startswith("Lengths")]
    bars: list[str] = []
    monkeypatch.setattr(
        vp._painter, "scale_bar", lambda painter, rect, mm_per_px, unit: bars.append(unit)
    )
    vp.grab()
    assert bars[-1] == "mm"


# -- on the real X server ----------------------------------------------------------------------


@pytest.mark.real_display
def test_the_calibrated_measurement_on_the_real_screen(tmp_path: Path) -> None:
    """The window on Xvfb, captured from the X server: the two distances are drawn where they
    were measured, and every length the window shows is mm (calibrated) and true."""
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    run_on_xvfb(__file__, tmp_path, SCREEN, ["--out", str(tmp_path)])
    info = json.loads((tmp_path / "calibration.json").read_text())
    assert info["factor"] == pytest.approx(1 / info["magnification"], rel=0.01)
    assert info["status"].startswith("Series calibrated: known length 25 mm")
    assert "Lengths in mm (calibrated)" in info["corner"]
    for label, mark in info["marks"].items():
        assert mark["panel"].endswith(" mm (calibrated)"), label
        assert length_of(mark["panel"]) == pytest.approx(mark["true_mm"], rel=0.01), label
        assert mark["on_image"] == mark["panel"], label
    shot = QImage(str(tmp_path / SHOT)).convertToFormat(QImage.Format.Format_RGB888)
    assert (shot.width(), shot.height()) == SCREEN
    stride = shot.bytesPerLine()
    raw = np.frombuffer(bytes(shot.constBits()), np.uint8).reshape(shot.height(), stride)
    pixels = raw[:, : shot.width() * 3].reshape(shot.height(), shot.width(), 3).astype(int)
    # the unlabelled marks' cyan (drawn over a grey image, at the layer's opacity when not
    # selected): green and blue well above red, where the grey image has all three equal
    assert UNLABELLED.green() - UNLABELLED.red() > 100 < UNLABELLED.blue() - UNLABELLED.red()
    for label, mark in info["marks"].items():
        x, y = mark["middle"]
        patch = pixels[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3)
        cyan = np.minimum(patch[:, 1], patch[:, 2]) - patch[:, 0]
        assert cyan.max() >= 60, (label, patch.tolist())
        far = pixels[y - 3 : y + 4, x - 40 : x - 33].reshape(-1, 3)  # beside it: grey only
        assert (np.minimum(far[:, 1], far[:, 2]) - far[:, 0]).max() < 20, label


def _wait(condition, timeout_s: float = 120.0) -> None:
    from PySide6.QtTest import QTest

    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError("the viewer did not get there in time")
        QTest.qWait(50)


def _drag(vp: ImageViewport, line_px: list[list[float]]) -> None:
    """Real mouse events from one truth point to the other, zoomed in on them."""
    from PySide6.QtTest import QTest

    (r0, c0), (r1, c1) = line_px
    centre_on(vp, (r0 + r1) / 2, (c0 + c1) / 2)
    a, b = vp.image_to_widget(r0, c0).toPoint(), vp.image_to_widget(r1, c1).toPoint()
    target = vp.viewport()
    QTest.mousePress(target, LEFT, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, 5):
        QTest.mouseMove(target, a + (b - a) * (i / 4), 20)
    QTest.mouseRelease(target, LEFT, Qt.KeyboardModifier.NoModifier, b)
    QTest.qWait(100)


def _screenshot(out: Path) -> int:
    """Drive the real window on the X server (see the module text)."""
    from PySide6.QtTest import QTest

    from spineviewer.gui.app import application
    from spineviewer.gui.main_window import MainWindow

    application()
    geometry = XrGeometry("detector", "CR")
    generate_magnified_xr(out / "phantom", SEED, geometry)
    folder = out / "phantom" / magnified_folder_name(SEED, geometry)
    truth = load_ground_truth(folder).parameters
    sphere = truth["calibration_sphere"]
    win = MainWindow()
    win.setGeometry(0, 0, *SCREEN)
    win.show()
    win.open_paths([folder])
    _wait(lambda: not win.busy() and win.grid.viewports[0].source is not None)
    win.browser_dock.hide()
    win.annotation.worklist_dock.hide()
    win.annotation.panel_dock.show()
    win.annotation.panel_dock.raise_()
    QTest.qWait(600)
    ui, vp = win.annotation, win.grid.viewports[0]
    marks = {}
    win.set_tool("line")
    for label in MEASURED:
        _drag(vp, truth["body_heights"][label]["line_px"])
        marks[label] = list(ui.controller.document)[-1]
    ui.calibration.ask_length = lambda parent, measured, default: float(sphere["diameter_mm"])
    win.set_tool("calibrate")
    _drag(vp, sphere["line_px"])
    win.set_tool("select")
    ui.controller.select(marks[MEASURED[-1]].uid)
    # the lumbar spine and the sphere in view
    vp.fit()
    vp.zoom_by(vp.viewport().height() / 640 / vp.zoom)
    at = vp.image_to_widget(470.0, 300.0)
    centre = QPointF(vp.viewport().rect().center())
    vp.pan_by(centre.x() - at.x(), centre.y() - at.y())
    QTest.qWait(1200)
    QApplication.processEvents()
    calibration = next(iter(ui.controller.document.calibrations.values()))
    origin = vp.viewport().mapToGlobal(QPoint(0, 0))
    rows = {a.uid: r for r, a in enumerate(ui.panel.model.rows)}
    info = {
        "magnification": truth["xr_geometry"]["magnification"],
        "factor": calibration.factor,
        "status": win.statusBar().currentMessage(),
        "corner": list(vp.corner_text().bottom_right),
        "marks": {},
    }
    for label, mark in marks.items():
        (r0, c0), (r1, c1) = mark.points
        middle = vp.image_to_widget((r0 + r1) / 2, (c0 + c1) / 2)
        info["marks"][label] = {
            "true_mm": truth["body_heights"][label]["height_mm"],
            "panel": ui.panel.model.index(rows[mark.uid], MEASURE_COLUMN).data(),
            "on_image": ui.tools.text_lines(mark, None, "CR")[-1],
            "middle": [round(middle.x()) + origin.x(), round(middle.y()) + origin.y()],
        }
    (out / "calibration.json").write_text(json.dumps(info, indent=1))
    subprocess.run(["import", "-window", "root", str(out / SHOT)], check=True)
    win.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="a calibrated X-ray measurement on the X server")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("no X display: run under xvfb-run")
    args.out.mkdir(parents=True, exist_ok=True)
    sys.exit(_screenshot(args.out))
