"""What the X server shows of the Cobb lines, the label backings and the CT's reformats.

Run as a script under ``xvfb-run`` (what the test does) it drives the real window and saves
the framebuffer with ImageMagick ``import -window root``, never a ``QWidget.grab()``:

- the spine X-ray phantom analysed by the shipped AP models, the L2 box selected (its
  statistics shown): the Cobb angle's endplate lines show past the vertebra boxes, in their own
  colour (they lay on the boxes' edges in a colour like theirs), and every label's backing,
  the selected box's statistics included, is the same dark, also zoomed in and inverted (V),
  over a white image (bright tissue showed through the statistics' box as a lighter grey);
- the ``lumbar-ct`` phantom as it hangs (acquired axial, sagittal and coronal reformats): the
  reformats fill more of their tall panes than the whole image did (44%).

    xvfb-run -a -s "-screen 0 1600x900x24" python tests/gui/test_painted_overlays_real_display.py \\
        --out /tmp/painted
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage
from xvfb_script import MISSING, run_on_xvfb

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "onnx_models"
XR_SEED = 94_005  # a held-out seed of the AP models: a Cobb angle, screws and rods
CT_SEED = 3
SCREEN = (1600, 900)
#: The colours the test looks for (spineviewer.gui.theme, read without importing the GUI).
COBB = "#b6ff5c"
BACKGROUND = "#0b0d10"


def pixels(path: Path) -> np.ndarray:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), f"cannot read {path}"
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(height, stride)
    return raw[:, : width * 3].reshape(height, width, 3).astype(np.int16)


def near(shot: np.ndarray, color: str, tolerance: int) -> np.ndarray:
    c = QColor(color)
    return np.abs(shot - np.array([c.red(), c.green(), c.blue()])).max(axis=-1) <= tolerance


def share_on_line(mask: np.ndarray, a: list[float], b: list[float], reach: int = 2) -> float:
    """The share of points along a -> b with a ``mask`` pixel within ``reach`` px."""
    n = max(2, round(float(np.hypot(b[0] - a[0], b[1] - a[1]))))
    hits = 0
    for t in np.linspace(0.0, 1.0, n):
        x, y = round(a[0] + t * (b[0] - a[0])), round(a[1] + t * (b[1] - a[1]))
        hits += bool(mask[y - reach : y + reach + 1, x - reach : x + reach + 1].any())
    return hits / n


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    if not (MODELS / "vertebrae-ap.onnx").exists():
        pytest.skip("the AP radiograph models are not shipped")
    out = tmp_path_factory.mktemp("painted")
    run_on_xvfb(__file__, out, SCREEN, ["--out", str(out)])
    return out, json.loads((out / "painted.json").read_text())


pytestmark = pytest.mark.real_display


def test_cobb_lines_show_past_the_vertebra_boxes_on_screen(shots: tuple[Path, dict]) -> None:
    out, info = shots
    lime = near(pixels(out / "xr.png"), COBB, 45)
    lines = info["cobb"]
    assert len(lines) == 2
    for a, b in lines:
        ax, ay, bx, by = *a, *b
        dx, dy = bx - ax, by - ay
        # beyond each end of the endplate (and of the box edge it lies on): the line goes on
        for start, sign in ((b, 1.0), (a, -1.0)):
            end = [start[0] + sign * 0.3 * dx, start[1] + sign * 0.3 * dy]
            inner = [start[0] + sign * 0.05 * dx, start[1] + sign * 0.05 * dy]
            assert share_on_line(lime, inner, end) > 0.6, (a, b, "past the end")
        # along the endplate, on the box's edge: the Cobb colour is on top (dashed: proposed)
        assert share_on_line(lime, a, b) > 0.4, (a, b, "on the edge")


def test_every_label_backing_is_the_same_dark_on_screen(shots: tuple[Path, dict]) -> None:
    out, info = shots
    greys = {}
    bright_around = []
    for name in ("xr", "xr-zoomed"):  # as analysed; zoomed and inverted: labels over white
        shot = pixels(out / f"{name}.png")
        for (x, y, _w, h), lines in zip(info[name]["labels"], info[name]["lines"], strict=True):
            # the label's left padding (no text, no badge), clear of the rounded corners
            x0, y0 = round(x) + 1, round(y) + 4
            strip = shot[y0 : round(y + h) - 4, x0 : x0 + 2]
            key = f"{name}: {lines[0]}" + (" (statistics)" if len(lines) > 3 else "")
            greys[key] = float(strip.mean())
            ring = shot[round(y) - 4 : round(y + h) + 4, round(x) - 4 : round(x) - 1]
            bright_around.append(float(ring.mean()))
    assert sum(key.endswith("(statistics)") for key in greys) == 2, greys  # the selected L2
    assert max(bright_around) > 150  # labels over a bright image: the case in question
    assert max(greys.values()) <= 20, greys  # at 80% black they were 51 over white
    assert max(greys.values()) - min(greys.values()) <= 18, greys


def test_the_ct_reformats_fill_their_panes_on_screen(shots: tuple[Path, dict]) -> None:
    out, info = shots
    shot = pixels(out / "ct.png")
    background = near(shot, BACKGROUND, 3)
    for name, (x, y, w, h), whole in info["reformats"]:
        pane = background[y + 2 : y + h - 2, x + 2 : x + w - 2]
        covered = 1.0 - float(pane.mean())  # image pixels (black air included) and text
        assert whole < 0.5, name  # the whole image left more than half of the pane empty
        assert covered >= 1.3 * whole, (name, covered, whole)


# -- the script, under xvfb-run ----------------------------------------------------------------


def _wait(condition: Callable[[], bool], timeout_s: float = 180.0) -> None:
    from PySide6.QtTest import QTest

    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError("the viewer did not get there in time")
        QTest.qWait(50)


def _open(study: Path):  # -> MainWindow
    from PySide6.QtTest import QTest

    from spineviewer.gui.main_window import MainWindow

    win = MainWindow()
    win.setGeometry(0, 0, *SCREEN)
    win.show()
    win.open_paths([study])
    _wait(lambda: not win.busy() and win.grid.viewports[0].source is not None)
    QTest.qWait(800)
    win.browser_dock.hide()
    return win


def _capture(path: Path) -> None:
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    QTest.qWait(1200)  # painted and flushed to the X server
    QApplication.processEvents()
    subprocess.run(["import", "-window", "root", str(path)], check=True)


def _xray(out: Path) -> dict:
    from PySide6.QtCore import QPoint, QPointF

    from spineviewer.ai.analysis import analyse_path
    from spineviewer.annotations import Kind
    from spineviewer.gui.annotate.drawing import board_for
    from spineviewer.phantom import generate, study_folder_name

    generate("spine-xr", out / "phantom", XR_SEED)
    study = out / "phantom" / study_folder_name("spine-xr", XR_SEED)
    (findings,) = analyse_path(study, provider="cpu")
    win = _open(study)
    current = win.analysis.current_study()
    assert current is not None
    win.analysis.show_findings(current, findings)
    win.analysis.dock.raise_()
    vp = win.grid.active
    controller = win.annotation.controller
    doc = controller.document
    assert doc is not None
    controller.select(next(a for a in doc if a.label == "L2").uid)
    vp.update()
    _capture(out / "xr.png")
    origin = vp.viewport().mapToGlobal(QPoint(0, 0))

    def screen(row: float, col: float) -> list[float]:
        p = vp.image_to_widget(row, col)
        return [p.x() + origin.x(), p.y() + origin.y()]

    def labels() -> dict[str, list]:
        placed = board_for(vp).placed
        return {
            "labels": [
                [p.rect.x + origin.x(), p.rect.y + origin.y(), p.rect.w, p.rect.h] for p in placed
            ],
            "lines": [list(p.lines) for p in placed],
        }

    (cobb,) = [a for a in doc if a.kind == Kind.COBB]
    ends = [screen(r, c) for r, c in cobb.points]
    result = {"cobb": [[ends[0], ends[1]], [ends[2], ends[3]]], "xr": labels()}
    box = np.asarray(next(a for a in doc if a.label == "L2").points)
    row, col = box.mean(axis=0)
    vp.zoom_by(3.0, QPointF(*vp.transform_.image_to_view(float(row), float(col))))
    at, area = vp.image_to_widget(float(row), float(col)), vp.viewport()
    vp.pan_by(area.width() / 2 - at.x(), area.height() / 2 - at.y())
    vp.toggle_invert()  # V: the radiograph's black surround turns white under the labels
    _capture(out / "xr-zoomed.png")
    result["xr-zoomed"] = labels()
    win.close()
    return result


def _ct(out: Path) -> dict:
    from PySide6.QtCore import QPoint

    from spineviewer.phantom import generate, study_folder_name
    from spineviewer.viewing.mpr import MprSource

    generate("lumbar-ct", out / "phantom", CT_SEED)
    win = _open(out / "phantom" / study_folder_name("lumbar-ct", CT_SEED))
    _wait(lambda: isinstance(win.grid.visible_viewports()[-1].source, MprSource))
    _wait(lambda: not win.busy())
    _capture(out / "ct.png")
    reformats = []
    for vp in win.grid.visible_viewports()[1:]:
        area = vp.viewport()
        at = area.mapToGlobal(QPoint(0, 0))
        w, h = vp.transform_.view_size  # mm
        whole = min(area.width() / w, area.height() / h) ** 2 * w * h
        share = whole / (area.width() * area.height())
        reformats.append([vp.objectName(), [at.x(), at.y(), area.width(), area.height()], share])
    win.close()
    return {"reformats": reformats}


def _drive(out: Path) -> int:
    from spineviewer.gui.app import application

    application()
    result = _xray(out) | _ct(out)
    (out / "painted.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="overlays and reformats on the X server")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("no X display: run under xvfb-run")
    sys.exit(_drive(args.out))
