"""The label map on a real X server: the lumbar CT phantom's truth map over the acquired axial
slice and the sagittal reformat, read back from the X framebuffer (ImageMagick ``import -window
root`` under ``xvfb-run``), not from a ``QWidget.grab()``.

Run as a script under ``xvfb-run`` it drives the real window and writes the two viewports'
screenshots; the same run made ``docs/screenshots/label-map-axial.png`` and
``label-map-sagittal.png`` (the phantom's truth map, labels.nii.gz, not a model's)::

    xvfb-run -a -s "-screen 0 1600x900x24" python tests/gui/test_label_map_screenshots.py \\
        --out docs/screenshots
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from xvfb_script import MISSING, run_on_xvfb

SEED = 3
SHOTS = ("axial", "sagittal")


def drive(out: Path, work: Path) -> None:
    """Open the phantom in the real window, show its truth map, capture the X screen and crop
    the axial and sagittal viewports into ``out/label-map-<view>.png``; ``work/shots.json``
    says what each shows."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QImage
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from spineviewer.gui.app import application
    from spineviewer.gui.main_window import MainWindow
    from spineviewer.phantom import generate, study_folder_name

    app = application()
    generate("lumbar-ct", work, SEED)
    folder = work / study_folder_name("lumbar-ct", SEED)
    win = MainWindow()
    for dock in (win.browser_dock, win.analysis.dock, win.annotation.panel_dock):
        dock.hide()
    win.annotation.worklist_dock.hide()
    win.resize(1600, 860)
    win.show()
    win.open_paths([folder])

    def wait(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
        started = time.perf_counter()
        while not condition():
            if time.perf_counter() - started > timeout_s:
                raise TimeoutError("the viewer did not get there in time")
            QTest.qWait(50)

    axial, sagittal = win.grid.viewports[0], win.grid.viewports[1]
    wait(lambda: not win.busy() and sagittal.source is not None and axial.source is not None)
    label_map = win.label_maps.open_path(folder / "labels.nii.gz")
    names = {label.name: value for value, label in label_map.values.items()}
    # the axial slice through the middle of L4, the sagittal reformat through the canal
    l4 = np.argwhere(label_map.labels == names["L4"]).mean(axis=0)
    centre = label_map.affine[:3, :3] @ l4 + label_map.affine[:3, 3]
    for vp in (axial, sagittal):
        source = vp.source
        assert source is not None
        best = min(
            range(len(source)), key=lambda n: abs(float(source.info(n).plane.distance(centre)))
        )
        vp.set_index(best)
    win.sync.refresh()
    QTest.qWait(600)
    app.processEvents()
    screen = work / "screen.png"
    subprocess.run(["import", "-window", "root", str(screen)], check=True)
    image = QImage(str(screen))
    info = {}
    for view, vp in zip(SHOTS, (axial, sagittal), strict=True):
        area = vp.viewport()
        corner = area.mapToGlobal(QPoint(0, 0))
        rect = [corner.x(), corner.y(), area.width(), area.height()]
        image.copy(*rect).save(str(out / f"label-map-{view}.png"))
        shown = win.label_maps.overlay.shown(vp)
        assert shown is not None, view
        values = sorted(set(shown.ravel().tolist()) - {0})
        # where each label's largest run of pixels is on screen, for the test to read
        points = {}
        for value in values:
            rows, cols = np.nonzero(shown == value)
            middle = len(rows) // 2
            at = vp.image_to_widget(float(rows[middle]), float(cols[middle]))
            points[label_map.values[value].name] = [round(at.x()), round(at.y())]
        info[view] = {
            "rect": rect,
            "labels": [label_map.values[v].name for v in values],
            "colors": {label_map.values[v].name: label_map.values[v].color for v in values},
            "points": points,
            "source": vp.source.name if vp.source is not None else "",
        }
    (work / "shots.json").write_text(json.dumps(info, indent=1))
    win.close()
    QApplication.processEvents()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    out = tmp_path_factory.mktemp("label_map_shots")
    run_on_xvfb(__file__, out, (1600, 900), ["--out", str(out), "--work", str(out / "work")])
    return out, json.loads((out / "work" / "shots.json").read_text())


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


@pytest.mark.real_display
@pytest.mark.parametrize("view", SHOTS)
def test_the_label_colours_are_on_the_screen(shots: tuple[Path, dict], view: str) -> None:
    from PySide6.QtGui import QImage

    out, info = shots
    shot = info[view]
    image = QImage(str(out / f"label-map-{view}.png")).convertToFormat(QImage.Format.Format_RGB888)
    assert (image.width(), image.height()) == tuple(shot["rect"][2:])
    stride = image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(image.height(), stride)
    pixels = raw[:, : image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)
    wanted = {"axial": {"L4", "spinal_canal"}, "sagittal": {"L1", "L3", "L5", "S1", "L4-L5"}}
    assert wanted[view] <= set(shot["labels"])
    for name in wanted[view]:
        x, y = shot["points"][name]
        patch = pixels[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, 3)
        colour = rgb(shot["colors"][name])
        # filled at half opacity over grey: the label's colour minus the grey is its half
        grey_left = patch - 0.5 * colour
        spread = grey_left.max(axis=1) - grey_left.min(axis=1)
        assert spread.min() <= 20, (name, patch.tolist(), shot["colors"][name])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(os.environ.get("TMPDIR", "/tmp")) / "label-map-shots"
    work.mkdir(parents=True, exist_ok=True)
    drive(args.out, work)
