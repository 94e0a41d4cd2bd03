"""Every README screenshot of the live window, taken from the X server (ImageMagick ``import
-window root``), not by the widget rendering itself: what the user sees, stale overlays and
all.

Run under Xvfb with a scratch settings folder and annotation workspace (the shell wrapper
``docs/scripts/xserver_screenshots.sh`` does all of it, for every scene)::

    xvfb-run -a -s "-screen 0 1600x900x24" python docs/scripts/xserver_screenshots.py \\
        --scene demo --out docs/screenshots/demo-lumbar-mr.png

The window fills the X screen, so the screen size (``-screen 0 WxHx24``) is the picture's.
Input that matters to a scene goes through the X server with ``xdotool`` (XTEST: key presses
and mouse drags as a user makes them) when it is installed, else through ``QTest`` on the real
window. Scenes, on phantom studies generated into a temporary folder:

- ``demo``: the demo lumbar MR as it opens (its hanging: sagittal T2 left, axial T2 right).
- ``annotations``: the demo with the phantom's ground truth as annotations
  (``seed_demo_annotations.py``), one viewport.
- ``ai``: the demo analysed by the shipped models (Ctrl+R pressed), the proposals on the
  images, the Findings panel.
- ``review-panel``: the same analysis reviewed from the keyboard in the docked Annotations panel
  (``.`` next proposal, ``Ctrl+Return`` accept), a proposal selected.
- ``xr``: the spine X-ray phantom (seed 94005: four pedicle screws, two rods) analysed: implants,
  vertebrae and the Cobb angle with their labels.
- ``ct-distance``: an acquired axial ``lumbar-ct`` phantom in its default layout (acquired axial
  slices, sagittal and coronal reformats) with a distance across the L3 body drawn on the axial
  by a real mouse drag after pressing D.
- ``labelling``: the labelling tool (L) with L1 .. S1 placed by real mouse clicks on the middle
  sagittal slice (left), the same labels propagated to a sagittal slice 8 mm to the side
  (middle: the diamonds), and an axial slice naming its level at the top (right).
- ``review``: findings made by this script from the phantom's ground truth, with review needs
  set to show every style (the AI gives them on real studies; here they are chosen so all
  three appear): L5 and S1 and the L5-S1 disc "needs review" (possible transitional anatomy),
  the L4-L5 disc "uncertain", the rest confident; the Findings panel with its Review column
  and the labelling warning.
- ``sagittal``: the real analysis of the demo's sagittal series alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from spineviewer.ai.findings import (
    CONFIDENT,
    NEEDS_REVIEW,
    UNCERTAIN,
    DiscFinding,
    Findings,
    LabellingCheck,
    ModelUse,
    StepResult,
    VertebraFinding,
)
from spineviewer.cli.demo import ensure_demo_study
from spineviewer.gui.app import application
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.viewport import ImageViewport
from spineviewer.phantom import generate, load_ground_truth, study_folder_name
from spineviewer.phantom.truth import StudyGroundTruth
from spineviewer.viewing.mpr import MprSource

sys.path.insert(0, str(Path(__file__).parent))
import seed_demo_annotations  # the script beside this one

TRANSITIONAL = (
    "possible transitional anatomy: L5 looks sacral (sacralised L5 or lumbarised S1); "
    "the levels may be one off"
)
XR_SEED = 94_005  # a held-out seed of the AP models: four pedicle screws and two rods
CT_SEED = 3
XDOTOOL = shutil.which("xdotool")


def wait_until(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError("the viewer did not get there in time")
        QTest.qWait(50)


def settle(win: MainWindow, ms: int = 800) -> None:
    """Let loading, deferred steps and painting finish."""
    wait_until(lambda: not win.busy())
    QTest.qWait(ms)


def no_dialogs() -> None:
    """A scene never shows a message box or modal dialog over the window."""
    shown = [
        f"{type(w).__name__}: {w.windowTitle()}"
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and (isinstance(w, QMessageBox) or w.isModal())
    ]
    if shown:
        raise RuntimeError(f"a dialog covers the window: {shown}")


def capture(out: Path) -> None:
    """The whole X screen, as the X server has it."""
    no_dialogs()
    QApplication.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(out)], check=True)
    print(f"screenshot {out}")


# -- real input --------------------------------------------------------------------------------


def xdo(*args: object) -> None:
    """One ``xdotool`` command (input through the X server), Qt handling events meanwhile."""
    assert XDOTOOL is not None
    proc = subprocess.Popen([XDOTOOL, *map(str, args)])
    while proc.poll() is None:
        QTest.qWait(10)
    if proc.returncode:
        raise RuntimeError(f"xdotool {' '.join(map(str, args))} failed ({proc.returncode})")
    QTest.qWait(60)


def key(
    win: MainWindow,
    keys: str,
    qt_key: Qt.Key,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """Press ``keys`` (xdotool's name, e.g. ``ctrl+Return``) on the active window; without
    xdotool, ``qt_key`` through QTest on the window's focus widget."""
    if XDOTOOL:
        xdo("key", "--clearmodifiers", keys)
    else:
        target = QApplication.focusWidget() or win
        QTest.keyClick(target, qt_key, modifier)
    QTest.qWait(150)


def on_screen(vp: ImageViewport, row: float, col: float) -> QPoint:
    """The X screen position of image pixel (row, col) shown in ``vp``."""
    return vp.viewport().mapToGlobal(vp.image_to_widget(row, col).toPoint())


def drag(vp: ImageViewport, start: QPoint, end: QPoint, steps: int = 8) -> None:
    """A left-button drag from ``start`` to ``end`` (screen positions) on ``vp``."""
    if XDOTOOL:
        xdo("mousemove", start.x(), start.y())
        xdo("mousedown", 1)
        for i in range(1, steps + 1):
            at = start + (end - start) * (i / steps)
            xdo("mousemove", at.x(), at.y())
        xdo("mouseup", 1)
    else:
        area = vp.viewport()
        a, b = area.mapFromGlobal(start), area.mapFromGlobal(end)
        QTest.mousePress(area, Qt.MouseButton.LeftButton, pos=a)
        for i in range(1, steps + 1):
            QTest.mouseMove(area, a + (b - a) * (i / steps))
        QTest.mouseRelease(area, Qt.MouseButton.LeftButton, pos=b)
    QTest.qWait(200)


def shift_move(vp: ImageViewport, at: QPoint) -> None:
    """Move the pointer to ``at`` (a screen position) over ``vp`` with Shift held."""
    if XDOTOOL:
        xdo("mousemove", at.x() - 20, at.y())
        xdo("keydown", "shift")
        for dx in (-10, 0):
            xdo("mousemove", at.x() + dx, at.y())
        xdo("keyup", "shift")
    else:
        area = vp.viewport()
        for dx in (-10, 0):
            local = area.mapFromGlobal(at + QPoint(dx, 0))
            ev = QMouseEvent(
                QEvent.Type.MouseMove, QPointF(local), QPointF(at), Qt.MouseButton.NoButton,
                Qt.MouseButton.NoButton, Qt.KeyboardModifier.ShiftModifier,
            )  # fmt: skip
            QApplication.sendEvent(area, ev)
    QTest.qWait(300)


def park_pointer(win: MainWindow) -> None:
    """The pointer over the status bar, where it hides nothing (and hovers nothing)."""
    at = win.statusBar().mapToGlobal(QPoint(win.statusBar().width() // 2, 4))
    if XDOTOOL:
        xdo("mousemove", at.x(), at.y())
    QTest.qWait(100)


# -- opening studies ---------------------------------------------------------------------------


def open_study(study_dir: Path) -> MainWindow:
    """The viewer filling the X screen, ``study_dir`` open in its hanging, the window active
    (its shortcuts need it)."""
    application()
    win = MainWindow()
    screen = QGuiApplication.primaryScreen()
    win.setGeometry(screen.geometry() if screen is not None else win.geometry())
    win.show()
    win.open_paths([study_dir])
    wait_until(lambda: not win.busy() and win.grid.viewports[0].source is not None)
    settle(win, 1500)  # deferred hanging steps
    win.activateWindow()
    wait_until(win.isActiveWindow, 10.0)
    return win


def open_demo(folder: Path, sagittal_only: bool = False) -> tuple[MainWindow, StudyGroundTruth]:
    """The demo for the labelling / review scenes: no browser (room for three viewports),
    viewports not linked (slices of one series side by side)."""
    study_dir, truth = ensure_demo_study(folder)
    if sagittal_only:  # the demo without its axial series (and without ground_truth.json)
        only = folder / "sagittal-only"
        shutil.copytree(study_dir / truth.series_by_role("sagittal_t2").folder, only / "sagittal")
        study_dir = only
    win = open_study(study_dir)
    win.browser_dock.hide()
    win.sync.linked = False
    return win, truth


def analyse(win: MainWindow, timeout_s: float = 300.0) -> None:
    """AI > Analyze study by its shortcut (Ctrl+R), until the proposals are shown."""
    key(win, "ctrl+r", Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    wait_until(lambda: win.analysis.last is not None and not win.busy(), timeout_s)
    settle(win, 1000)


def series_stacks(win: MainWindow, role_uid: str) -> tuple:
    study = win.analysis.current_study()
    assert study is not None
    return next(s.stacks for s in study.series if s.uid == role_uid)


def zoom_on(vp: ImageViewport, truth: StudyGroundTruth, label: str, factor: float) -> None:
    """Zoom ``vp`` in about a body's centre, then put that centre a little right of the
    middle (the disc badges go on the left)."""
    assert vp.info is not None and vp.info.plane is not None
    row, col = (float(v) for v in vp.info.plane.to_pixel(truth.vertebra(label).centre_mm))
    vp.zoom_by(factor, QPointF(col, row))
    at = vp.image_to_widget(row, col)
    vp.pan_by(vp.viewport().width() * 0.5 - at.x(), 0.0)


def show_at(win: MainWindow, vp: ImageViewport, stacks: tuple, sop: str | None) -> None:
    """Show ``stacks`` in ``vp`` at the image ``sop`` (default: the middle)."""
    win.show_stacks(stacks, vp)
    if sop is not None and vp.source is not None:
        for index in range(len(vp.source)):
            info = vp.source.info(index)
            if info.frame is not None and info.frame.instance.sop_instance_uid == sop:
                vp.set_index(index)


def nearest_axial(truth: StudyGroundTruth, level: str) -> str | None:
    """The angled axial image nearest the disc ``level`` (None: the series misses it)."""
    angled = role_uid(truth, "axial_t2_angled")
    on_it = [a for a in truth.axial_levels
             if a.level == level and a.series_instance_uid == angled]  # fmt: skip
    return min(on_it, key=lambda a: a.distance_mm).sop_instance_uid if on_it else None


def role_uid(truth: StudyGroundTruth, role: str) -> str:
    return truth.series_by_role(role).series_instance_uid


def labelling_scene(win: MainWindow, truth: StudyGroundTruth, out: Path) -> None:
    win.set_layout("1x3")
    sagittal = series_stacks(win, role_uid(truth, "sagittal_t2"))
    axial = series_stacks(win, role_uid(truth, "axial_t2_angled"))
    left, middle, right = win.grid.viewports[:3]
    show_at(win, left, sagittal, None)
    show_at(win, middle, sagittal, None)
    show_at(win, right, axial, nearest_axial(truth, "L4-L5"))
    win.sync.refresh()
    settle(win)
    for vp in (left, middle):
        zoom_on(vp, truth, "L3", 1.4)
    left.setFocus()
    QTest.keyClick(left, Qt.Key.Key_L)  # the labelling tool
    plane = left.info.plane
    for label in ("L1", "L2", "L3", "L4", "L5", "S1"):
        row, col = (float(v) for v in plane.to_pixel(truth.vertebra(label).centre_mm))
        QTest.mouseClick(
            left.viewport(), Qt.MouseButton.LeftButton, pos=left.image_to_widget(row, col).toPoint()
        )
        QTest.qWait(100)
    doc = win.annotation.controller.document
    placed = sorted(a.label for a in doc) if doc is not None else []
    if win.annotation.controller.tool != "labels" or len(placed) != 6:
        raise RuntimeError(f"the clicks did not label the bodies: {placed}")
    win.annotation.controller.select(None)
    win.annotation.tools.labelling.set_next("L1")  # ready for the next study
    middle.set_index(left.index + 2)  # two slices (8 mm) to the side: the propagated labels
    win.annotation.panel_dock.raise_()
    win.grid.set_active(left)
    QTest.mouseMove(left.viewport(), QPoint(40, left.viewport().height() - 60))
    win.statusBar().showMessage(win.annotation.tools.labelling.hint())
    settle(win)
    capture(out)


def review_findings(win: MainWindow, truth: StudyGroundTruth) -> Findings:
    study = win.analysis.current_study()
    assert study is not None
    sagittal = truth.series_by_role("sagittal_t2").series_instance_uid
    doubt = {"L5": (NEEDS_REVIEW, (TRANSITIONAL,)), "S1": (NEEDS_REVIEW, (TRANSITIONAL,)),
             "L5-S1": (NEEDS_REVIEW, (TRANSITIONAL,)),
             "L4-L5": (UNCERTAIN, ("herniation and bulge almost equally likely",))}  # fmt: skip
    vertebrae = []
    for v in truth.vertebrae:
        view = next(w for w in v.views if w.central and w.box_px is not None)
        x0, y0, x1, y1 = view.box_px
        review, reasons = doubt.get(v.label, (CONFIDENT, ()))
        vertebrae.append(
            VertebraFinding(v.label, 0.93, sagittal, str(view.sop_instance_uid),
                            (x0, y0, x1 + 1, y1 + 1), tuple(v.centre_mm),
                            model_id="vertebra-detector", review=review, review_reasons=reasons)
        )  # fmt: skip
    discs = []
    for d in truth.discs:
        axial = nearest_axial(truth, d.level)
        if axial is None:
            continue
        review, reasons = doubt.get(d.level, (CONFIDENT, ()))
        p = {"normal": 0.1, "bulge": 0.1, "herniation": 0.1}
        p[d.state] = 0.8
        if review == UNCERTAIN:
            p = {"normal": 0.1, "bulge": 0.42, "herniation": 0.48}
        state = max(p, key=p.__getitem__)
        discs.append(
            DiscFinding(d.level, state, p, tuple(d.centre_mm), (axial,),
                        model_id="disc-state", review=review, review_reasons=reasons)
        )  # fmt: skip
    check = LabellingCheck(sagittal, 0.5, NEEDS_REVIEW, "found", (TRANSITIONAL,))
    return Findings(
        study_uid=study.uid,
        provider="cpu",
        models=(ModelUse("vertebra-detector", "demo", "0" * 64, "cpu"),
                ModelUse("disc-state", "demo", "0" * 64, "cpu")),
        vertebrae=tuple(vertebrae),
        discs=tuple(discs),
        labelling=(check,),
        steps=tuple(StepResult(f"lumbar MR: {name}", "done") for name in ("vertebrae", "discs")),
        warnings=(f"vertebra labels: {TRANSITIONAL}",),
    )  # fmt: skip


def review_scene(win: MainWindow, truth: StudyGroundTruth, out: Path) -> None:
    win.set_layout("1x3")
    sagittal = series_stacks(win, role_uid(truth, "sagittal_t2"))
    axial = series_stacks(win, role_uid(truth, "axial_t2_angled"))
    left, middle, right = win.grid.viewports[:3]
    findings = review_findings(win, truth)
    study = win.analysis.current_study()
    assert study is not None
    win.analysis.show_findings(study, findings)
    centre = next(v for v in findings.vertebrae if v.label == "L3").sop_instance_uid
    show_at(win, left, sagittal, centre)
    show_at(win, middle, axial, nearest_axial(truth, "L4-L5"))
    show_at(win, right, axial, nearest_axial(truth, "L5-S1"))
    win.sync.refresh()
    settle(win)
    zoom_on(left, truth, "L4", 1.5)
    win.analysis.dock.raise_()
    win.grid.set_active(left)
    settle(win)
    capture(out)


def sagittal_scene(win: MainWindow, truth: StudyGroundTruth, out: Path) -> None:
    """The real analysis of the demo's sagittal series alone: the disc states come from the
    sagittal disc-state model, marked "(sagittal)" in the findings panel."""
    win.set_layout("1x1")
    job = win.analysis.analyze_current()
    assert job is not None
    wait_until(lambda: win.analysis.dock.isVisible() and not win.busy(), 180.0)
    settle(win, 1500)
    frame_findings(win)  # T11 .. S1 in view, clear of the S / I letters and the scale bar
    win.analysis.dock.raise_()
    settle(win)
    capture(out)


# -- the README's scenes -----------------------------------------------------------------------


def demo_scene(folder: Path, out: Path) -> MainWindow:
    study_dir, _ = ensure_demo_study(folder)
    win = open_study(study_dir)
    park_pointer(win)
    settle(win)
    capture(out)
    return win


def annotations_scene(folder: Path, out: Path) -> MainWindow:
    seed_demo_annotations.main(folder)  # into the scratch workspace
    study_dir, _ = ensure_demo_study(folder)
    win = open_study(study_dir)
    win.set_layout("1x1")
    win.annotation.panel_dock.raise_()
    park_pointer(win)
    settle(win)
    doc = win.annotation.controller.document
    if doc is None or len(doc) < 10:
        raise RuntimeError("the seeded annotations are not shown")
    capture(out)
    return win


def ai_scene(folder: Path, out: Path) -> MainWindow:
    study_dir, _ = ensure_demo_study(folder)
    win = open_study(study_dir)
    win.browser_dock.hide()  # room for the two viewports and the Findings panel
    analyse(win)
    frame_findings(win, 0.72)
    win.analysis.dock.raise_()
    park_pointer(win)
    settle(win)
    capture(out)
    return win


def review_panel_scene(folder: Path, out: Path) -> MainWindow:
    """Proposals reviewed from the keyboard: the first two accepted, the third rejected, the
    fourth selected (its row highlighted in the panel, its outline on the image)."""
    study_dir, _ = ensure_demo_study(folder)
    win = open_study(study_dir)
    win.browser_dock.hide()
    analyse(win)
    frame_findings(win, 0.72)
    win.annotation.panel_dock.raise_()
    settle(win, 300)
    key(win, "period", Qt.Key.Key_Period)
    for keys, qt_key in (("ctrl+Return", Qt.Key.Key_Return), ("ctrl+Return", Qt.Key.Key_Return),
                         ("ctrl+BackSpace", Qt.Key.Key_Backspace)):  # fmt: skip
        key(win, keys, qt_key, Qt.KeyboardModifier.ControlModifier)
    doc = win.annotation.controller.document
    assert doc is not None
    reviewed = [a.status.value for a in doc if a.status.value != "proposed"]
    if len(reviewed) != 3 or win.annotation.controller.selected is None:
        raise RuntimeError(f"the review keys did not act: {reviewed}")
    park_pointer(win)
    settle(win)
    capture(out)
    return win


def frame_boxes(vp: ImageViewport, boxes: list[tuple[float, ...]], fill: float = 0.8) -> None:
    """Zoom and pan ``vp`` so the pixel boxes (x0, y0, x1, y1) fill ``fill`` of its height."""
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    centre = QPointF((x0 + x1) / 2, (y0 + y1) / 2)
    shown = vp.image_to_widget(y1, x0).y() - vp.image_to_widget(y0, x0).y()
    vp.zoom_by(fill * vp.viewport().height() / abs(shown), centre)
    at = vp.image_to_widget(centre.y(), centre.x())
    vp.pan_by(vp.viewport().width() / 2 - at.x(), vp.viewport().height() / 2 - at.y())


def frame_findings(win: MainWindow, fill: float = 0.8) -> None:
    """Frame the analysed vertebrae in the first viewport (the sagittal or the radiograph)."""
    findings = win.analysis.last
    assert findings is not None
    frame_boxes(win.grid.visible_viewports()[0], [v.box_px for v in findings.vertebrae], fill)
    settle(win, 300)


def xr_scene(folder: Path, out: Path) -> MainWindow:
    generate("spine-xr", folder, XR_SEED)
    win = open_study(folder / study_folder_name("spine-xr", XR_SEED))
    win.browser_dock.hide()
    analyse(win)
    frame_findings(win)
    win.analysis.dock.raise_()
    park_pointer(win)
    settle(win)
    capture(out)
    return win


def bone_run(profile: np.ndarray, start: int, hu: float = 150.0) -> tuple[int, int]:
    """The first and last index of the run of bone (>= ``hu``) through ``start``."""
    bone = profile >= hu
    if not bone[start]:
        raise RuntimeError("the 3D cursor's point is not in bone")
    first = start
    while first > 0 and bone[first - 1]:
        first -= 1
    last = start
    while last < len(bone) - 1 and bone[last + 1]:
        last += 1
    return first, last


def ct_scene(folder: Path, out: Path) -> MainWindow:
    """The acquired axial CT phantom as it hangs (axial slices, sagittal and coronal
    reformats); D pressed, then a drag across the L3 body on the axial slice through it."""
    generate("lumbar-ct", folder, CT_SEED)
    study_dir = folder / study_folder_name("lumbar-ct", CT_SEED)
    truth = load_ground_truth(study_dir)
    win = open_study(study_dir)
    win.browser_dock.hide()  # the three panes at a readable size
    wait_until(
        lambda: isinstance(win.grid.visible_viewports()[-1].source, MprSource) and not win.busy()
    )
    settle(win)
    axial = win.grid.visible_viewports()[0]
    assert axial.source is not None and axial.info is not None and axial.info.frame is not None
    body = truth.vertebra("L3")
    source = axial.source
    nearest = min(
        range(len(source)),
        key=lambda i: abs(float(source.info(i).plane.distance(body.centre_mm))),  # type: ignore[union-attr]
    )
    axial.set_index(nearest)
    win.grid.set_active(axial)
    settle(win, 300)
    plane, values = axial.info.plane, axial.values
    assert plane is not None and values is not None
    row, col = (round(float(v)) for v in plane.to_pixel(body.centre_mm))
    top, bottom = bone_run(values[:, col], row)
    depth = bottom - top
    axial.zoom_by(1.8, QPointF(col, row))  # the body large enough to read the measurement
    # the body up and left of the middle: the measurement's label fits on its right, clear of the
    # R / L letters at mid-height
    centre, area = axial.image_to_widget(row, col), axial.viewport()
    axial.pan_by(area.width() * 0.36 - centre.x(), area.height() * 0.38 - centre.y())
    settle(win, 300)
    axial.setFocus()
    # Shift+move puts the 3D cursor in the body: the reformats cut through the spine (the
    # middle of the volume, where they open, is in front of it: an empty coronal pane). The
    # cursor's lines go through the front of the body, the distance across its back half.
    shift_move(axial, on_screen(axial, top + 0.3 * depth, col))
    sagittal, coronal = win.grid.visible_viewports()[1:3]
    if sagittal.index == coronal.index:
        raise RuntimeError("Shift+move did not move the 3D cursor")
    at = round(top + 0.62 * depth)
    left, right = bone_run(values[at], col)
    key(win, "d", Qt.Key.Key_D)  # the distance tool
    drag(axial, on_screen(axial, at, left), on_screen(axial, at, right))
    doc = win.annotation.controller.document
    drawn = list(doc) if doc is not None else []
    shown = axial.info.frame.instance.sop_instance_uid
    if len(drawn) != 1 or drawn[0].image.sop_instance_uid != shown:
        raise RuntimeError(f"the drag did not draw a distance on the axial: {drawn}")
    park_pointer(win)
    settle(win)
    capture(out)
    return win


def on_demo(
    scene: Callable[[MainWindow, StudyGroundTruth, Path], None], sagittal_only: bool = False
) -> Callable[[Path, Path], MainWindow]:
    def run(folder: Path, out: Path) -> MainWindow:
        win, truth = open_demo(folder, sagittal_only)
        scene(win, truth, out)
        return win

    return run


SCENES: dict[str, Callable[[Path, Path], MainWindow]] = {
    "demo": demo_scene,
    "annotations": annotations_scene,
    "ai": ai_scene,
    "review-panel": review_panel_scene,
    "xr": xr_scene,
    "ct-distance": ct_scene,
    "labelling": on_demo(labelling_scene),
    "review": on_demo(review_scene),
    "sagittal": on_demo(sagittal_scene, sagittal_only=True),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", choices=tuple(SCENES), required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("no X display: run under xvfb-run (see the module docstring)", file=sys.stderr)
        return 2
    print(f"input: {'xdotool (XTEST)' if XDOTOOL else 'QTest on the real window'}")
    with tempfile.TemporaryDirectory() as scratch:
        win = SCENES[args.scene](Path(scratch), args.out.resolve())
        win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
