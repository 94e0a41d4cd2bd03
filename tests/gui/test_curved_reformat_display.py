"""View > "Curved reformat along the spine" on a real X server: a scoliotic CT phantom (35
degrees Cobb, apex L2) opened, the reformat built from its ground truth's vertebra centres
into the middle pane, the screen read back from the X framebuffer (ImageMagick ``import
-window root`` under ``xvfb-run``): the spine that bends in the coronal MPR beside it stands
straight. SYNTHETIC PHANTOM - NOT FOR CLINICAL USE.

``docs/screenshots/curved-reformat.png`` is such a run::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/gui/test_curved_reformat_display.py \\
        --out /tmp/curved --png docs/screenshots/curved-reformat.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from xvfb_script import MISSING, run_on_xvfb

SCREEN = (1600, 1000)
#: Bone on the straightened CT (HU).
BONE_HU = 150.0


def body_midpoints_mm(values: np.ndarray, spacing: float) -> list[float]:
    """Per row through a vertebral body: the middle of the bone run that holds the centre
    column's nearest bone pixel (a run 20-60 mm wide, as a lumbar body is), in mm from the
    centre column."""
    centre = (values.shape[1] - 1) / 2.0
    out = []
    for row in values:
        bone = row > BONE_HU
        near = round(centre)
        if not bone[near - 5 : near + 6].any():
            continue
        near = near - 5 + int(np.argmax(bone[near - 5 : near + 6]))
        lo = hi = near
        while lo > 0 and bone[lo - 1]:
            lo -= 1
        while hi < len(row) - 1 and bone[hi + 1]:
            hi += 1
        if 20.0 <= (hi - lo + 1) * spacing <= 60.0:
            out.append(((lo + hi) / 2.0 - centre) * spacing)
    return out


def drive(out: Path, png: Path) -> None:
    """Open the scoliotic CT, build the curved reformat in the middle pane, capture the X
    screen into ``png``; ``out/curved.json`` says where the pane is and what it shows."""
    from PySide6.QtGui import QAction
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QDockWidget
    from real_display_probe import capture, screen_rect, wait_until

    from spineviewer.gui.app import application
    from spineviewer.gui.curved_ui import CurvedReformatUi
    from spineviewer.gui.main_window import MainWindow
    from spineviewer.phantom.ct_scoliosis import generate_scoliotic_ct, scoliotic_folder_name
    from spineviewer.phantom.scoliosis_bend import Scoliosis
    from spineviewer.viewing.curved import CurvedSource
    from spineviewer.viewing.mpr import MprSource

    app = application()
    with tempfile.TemporaryDirectory() as scratch:
        generate_scoliotic_ct(Path(scratch), 11, Scoliosis(cobb_deg=35.0, apex="L2"))
        win = MainWindow()
        win.setGeometry(0, 0, *SCREEN)
        win.show()
        win.open_paths([Path(scratch) / scoliotic_folder_name(11)])

        def reformats() -> list[MprSource]:
            return [
                v.source for v in win.grid.visible_viewports() if isinstance(v.source, MprSource)
            ]

        wait_until(lambda: not win.busy() and len(reformats()) == 2)
        QTest.qWait(1500)  # deferred hanging steps
        middle = win.grid.visible_viewports()[1]  # the sagittal MPR of the CT layout
        # the window's View menu action; a feature of its own where the window lacks it
        action = win.findChild(QAction, "curved_reformat")
        feature = None  # kept alive while the window runs
        if action is None:
            feature = CurvedReformatUi(win, lambda: win.analysis.last)
            action = feature.action
        for dock in win.findChildren(QDockWidget):  # taller panes for the spine
            if dock.windowTitle() == "Comparison":
                dock.hide()
        win.grid.set_active(middle)
        action.trigger()
        wait_until(lambda: isinstance(middle.source, CurvedSource) and not win.busy())
        QTest.qWait(1100)
        png.parent.mkdir(parents=True, exist_ok=True)
        capture(png)
        source = middle.source
        assert isinstance(source, CurvedSource)
        record = {
            "pane": screen_rect(middle),
            "name": source.name,
            "index": middle.index,
            "depth_mm": source.info(middle.index).position_mm,
            "midpoints_mm": body_midpoints_mm(middle.values, source.grid.col_mm),
            "status": win.statusBar().currentMessage(),
        }
        (out / "curved.json").write_text(json.dumps(record, indent=2))
        print(f"screenshot {png}")
        win.close()
        app.processEvents()
        del feature


@pytest.mark.real_display
def test_curved_reformat_of_a_scoliotic_ct_stands_straight_on_the_x_server(
    tmp_path: Path,
) -> None:
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    run_on_xvfb(__file__, tmp_path, SCREEN, ["--out", str(tmp_path)], timeout=400)
    record = json.loads((tmp_path / "curved.json").read_text())
    assert record["name"].startswith("Curved coronal") and record["depth_mm"] == 0.0
    assert "phantom ground truth" in record["status"]
    # the bodies' bone, row by row down the straightened spine: on the centre column
    mids = np.array(record["midpoints_mm"])
    assert mids.size > 100
    # (one pixel is ~1 mm; endplate and sacral rows are ragged)
    assert np.percentile(np.abs(mids), 80) <= 1.0, np.percentile(np.abs(mids), 80)
    # on the screen (bone window: marrow and cortex brighter than 100 of 255, soft tissue
    # about 77): bone in the pane's upper, middle and lower fifths, in one vertical band
    from test_about_real_display import pixels

    shot = pixels(tmp_path / "curved.png").mean(axis=2)
    x, y, w, h = record["pane"]
    pane = shot[y + 4 : y + h - 4, x + 4 : x + w - 4]  # inside the active pane's frame
    h, w = pane.shape
    centres = []
    for top in (0.2, 0.4, 0.6):
        band = pane[int(h * top) : int(h * (top + 0.2))]
        profile = (band > 100).mean(axis=0)
        assert profile.max() > 0.5  # bone down most of the band's rows
        centres.append(float(np.nonzero(profile > 0.5 * profile.max())[0].mean()))
    assert max(centres) - min(centres) < 0.03 * w, centres
    assert abs(np.mean(centres) - w / 2) < 0.1 * w  # the spine down the pane's middle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for curved.json")
    parser.add_argument("--png", type=Path, help="the screenshot (default OUT/curved.png)")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("no X display: run under xvfb-run (see the module docstring)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    drive(args.out, (args.png or args.out / "curved.png").resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
