"""Screenshots of the vertebra labelling tool and of the AI's review statuses, taken from the X
server (ImageMagick ``import -window root``), not by the widget rendering itself.

Run under Xvfb with a scratch settings folder and annotation workspace (the shell wrapper
``docs/scripts/xserver_screenshots.sh`` does all of it)::

    xvfb-run -a -s "-screen 0 1920x1080x24" python docs/scripts/xserver_screenshots.py \\
        --scene labelling --out docs/screenshots/labelling-tool.png

Scenes, on the demo lumbar MR phantom (generated into a temporary folder):

- ``labelling``: the labelling tool (L) with L1 .. S1 placed by real mouse clicks on the middle
  sagittal slice (left), the same labels propagated to a sagittal slice 8 mm to the side
  (middle: the diamonds), and an axial slice naming its level at the top (right).
- ``review``: findings made by this script from the phantom's ground truth, with review needs
  set to show every style (the AI gives them on real studies; here they are chosen so all
  three appear): L5 and S1 and the L5-S1 disc "needs review" (possible transitional anatomy),
  the L4-L5 disc "uncertain", the rest confident; the Findings panel with its Review column
  and the labelling warning.
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

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

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
from spineviewer.gui.app import application
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.viewport import ImageViewport
from spineviewer.phantom import generate, load_ground_truth, study_folder_name
from spineviewer.phantom.truth import StudyGroundTruth

SIZE = (1920, 1080)
TRANSITIONAL = (
    "possible transitional anatomy: L5 looks sacral (sacralised L5 or lumbarised S1); "
    "the levels may be one off"
)


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


def capture(out: Path) -> None:
    """The whole X screen, as the X server has it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(out)], check=True)
    print(f"screenshot {out}")


def open_demo(folder: Path, sagittal_only: bool = False) -> tuple[MainWindow, StudyGroundTruth]:
    generate("lumbar-mr", folder, 1)
    study_dir = folder / study_folder_name("lumbar-mr", 1)
    truth = load_ground_truth(study_dir)
    if sagittal_only:  # the demo without its axial series (and without ground_truth.json)
        only = folder / "sagittal-only"
        shutil.copytree(study_dir / truth.series_by_role("sagittal_t2").folder, only / "sagittal")
        study_dir = only
    application()
    win = MainWindow()
    win.setGeometry(0, 0, *SIZE)
    win.show()
    win.open_paths([study_dir])
    wait_until(lambda: not win.busy() and win.grid.viewports[0].source is not None)
    settle(win)
    win.browser_dock.hide()  # room for three viewports
    win.sync.linked = False  # slices of one series side by side (scrolling is linked)
    win.activateWindow()  # its shortcuts (L for the labelling tool) need the active window
    wait_until(win.isActiveWindow, 10.0)
    return win, truth


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
    zoom_on(win.grid.viewports[0], truth, "L4", 1.3)
    win.analysis.dock.raise_()
    settle(win)
    capture(out)


SCENES = {"labelling": labelling_scene, "review": review_scene, "sagittal": sagittal_scene}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", choices=tuple(SCENES), required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("no X display: run under xvfb-run (see the module docstring)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        win, truth = open_demo(Path(scratch), sagittal_only=args.scene == "sagittal")
        SCENES[args.scene](win, truth, args.out.resolve())
        win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
