"""The corner text and the Annotations panel name an image by the same number.

The ``lumbar-ct`` phantom numbers its slices from the head (InstanceNumber 1 at the top) while
the viewer scrolls them from the feet (stacks are ordered along the patient): the corner said
"Im 43/82" (its place in the scroll order) where the panel said "Im 40" (the InstanceNumber)
for the same image. Both now name an acquired image by its InstanceNumber, read here from the
file with pydicom, and the corner keeps the place in brackets; a reformat has only its place.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from gui_helpers import open_window
from PySide6.QtCore import QPoint, Qt

from spineviewer.phantom import generate, study_folder_name
from spineviewer.viewing.mpr import MprSource

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(scope="module")
def ct_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("numbered-ct")
    generate("lumbar-ct", root, 3)
    return root / study_folder_name("lumbar-ct", 3)


def _instance_numbers(folder: Path) -> dict[str, int]:
    out = {}
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        out[ds.SOPInstanceUID] = int(ds.InstanceNumber)
    return out


def test_corner_and_panel_give_the_same_image_number_on_the_ct(qtbot, ct_dir: Path) -> None:
    numbers = _instance_numbers(ct_dir)
    win = open_window(qtbot, ct_dir)
    axial, sag, cor = win.grid.visible_viewports()
    qtbot.waitUntil(lambda: isinstance(cor.source, MprSource), timeout=60000)
    count = len(axial.source)
    axial.set_index(42)
    sop = axial.info.frame.instance.sop_instance_uid
    number = numbers[sop]
    assert number != 43  # the phantom numbers from the head: place and number differ here
    line = axial.corner_text().top_right[1]
    assert line == f"CT  Im {number} (43/{count})", line

    # a distance on that image: the panel's Image column names the same image number
    win.set_tool("line")
    target = axial.viewport()
    centre = target.rect().center()
    a, b = centre - QPoint(50, 0), centre + QPoint(50, 10)
    qtbot.mousePress(target, LEFT, pos=a)
    for i in range(1, 5):
        qtbot.mouseMove(target, a + (b - a) * (i / 4))
    qtbot.mouseRelease(target, LEFT, pos=b)
    model = win.annotation.panel.model
    assert len(model.rows) == 1 and model.rows[0].image.sop_instance_uid == sop
    cell = model.index(0, 2).data()
    assert cell.endswith(f"/ Im {number}"), cell
    assert f"Im {number} " in line  # the same words in both places

    # scrolling keeps the rule: every acquired slice shows its own InstanceNumber
    axial.step(1)
    moved = numbers[axial.info.frame.instance.sop_instance_uid]
    assert axial.corner_text().top_right[1] == f"CT  Im {moved} (44/{count})"
    # a reformat has no InstanceNumber: its place alone
    assert sag.corner_text().top_right[1] == f"CT  Im {sag.index + 1}/{len(sag.source)}"
