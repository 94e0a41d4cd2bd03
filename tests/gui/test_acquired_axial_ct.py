"""Issue 21, defect 3: an acquired axial CT is shown as itself, not as an "MPR axial".

The acquired slices hang in the axial viewport, so annotations (which need an acquired frame)
are drawn there; reformats are added only where they are readable: a volume as deep as it is
wide gets sagittal and coronal reformats beside it, a thin slab (the real CT: 20 slices, 40 mm
of a 500 mm field) hangs alone instead of as two strips a few pixels high. Tested on
``lumbar-ct`` phantoms (real DICOM files): the whole phantom, and a 16-slice slab of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gui_helpers import open_window
from PySide6.QtCore import QPoint, QRectF, Qt

from spineviewer.dicom import scan
from spineviewer.phantom import generate, study_folder_name
from spineviewer.viewing.hanging import choose_hanging, reformat_hanging
from spineviewer.viewing.mpr import MprSource
from spineviewer.viewing.source import StackListSource

LEFT = Qt.MouseButton.LeftButton
SLAB = 16  # slices of the thin slab (2-3 mm apart: about 40 mm, as the real CT)


@pytest.fixture(scope="module")
def ct_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("acquired-ct")
    generate("lumbar-ct", root, 3)
    return root / study_folder_name("lumbar-ct", 3)


@pytest.fixture(scope="module")
def slab_dir(ct_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The middle 16 slices of the phantom, as a study of their own."""
    files = sorted((ct_dir / "S01_ct").glob("*.dcm"))
    middle = len(files) // 2
    out = tmp_path_factory.mktemp("slab") / "slab"
    out.mkdir()
    for f in files[middle - SLAB // 2 : middle + SLAB // 2]:
        shutil.copy(f, out / f.name)
    return out


def _image_share(vp) -> float:
    """Fraction of the viewport's area that its fitted image covers on screen."""
    rows, cols = vp.values.shape[:2]
    a = vp.image_to_widget(-0.5, -0.5)
    b = vp.image_to_widget(rows - 0.5, cols - 0.5)
    image = QRectF(a, b).normalized()
    pane = QRectF(vp.viewport().rect())
    shown = image.intersected(pane)
    return (shown.width() * shown.height()) / (pane.width() * pane.height())


def test_hanging_shows_the_acquired_plane_as_itself(ct_dir: Path, slab_dir: Path) -> None:
    study = scan(ct_dir).studies[0]
    hanging = choose_hanging(study)
    assert hanging.layout == (1, 3)
    assert [v.mpr_plane for v in hanging.viewports] == [None, "sagittal", "coronal"]
    assert hanging.viewports[0].stacks == study.series[0].stacks
    assert "acquired axial" in hanging.reason

    slab = choose_hanging(scan(slab_dir).studies[0])
    assert slab.layout == (1, 1)
    assert [v.mpr_plane for v in slab.viewports] == [None]
    assert "thin" in slab.reason
    # asked for, the slab's reformats are still there, beside its acquired slices
    asked = reformat_hanging(scan(slab_dir).studies[0].series[0].stacks[0])
    assert [v.mpr_plane for v in asked.viewports] == [None, "sagittal", "coronal"]


def test_acquired_axial_ct_takes_annotations_and_reformats_fill_their_panes(
    qtbot, ct_dir: Path
) -> None:
    win = open_window(qtbot, ct_dir)
    assert win.grid.layout_ == "1x3"
    axial, sag, cor = win.grid.visible_viewports()
    qtbot.waitUntil(lambda: isinstance(cor.source, MprSource), timeout=60000)
    assert isinstance(axial.source, StackListSource)
    assert axial.source.plane_name == "axial" and not axial.source.name.startswith("MPR")
    assert axial.info.frame is not None  # an acquired image: annotations refer to its frame
    assert len(axial.source) == 82
    assert (sag.source.plane_name, cor.source.plane_name) == ("sagittal", "coronal")
    for vp in (axial, sag, cor):
        assert _image_share(vp) > 0.2, vp.objectName()  # a thin slab: < 0.1
    # cross-reference lines between the acquired axial and its reformats
    assert sag.crossref_lines(axial) and axial.crossref_lines(sag)

    # a distance drawn on the acquired axial is kept (it was refused: "not on reformats")
    messages: list[str] = []
    win.annotation.controller.message.connect(messages.append)
    win.set_tool("line")
    target = axial.viewport()
    centre = target.rect().center()
    a, b = centre - QPoint(60, 0), centre + QPoint(60, 20)
    qtbot.mousePress(target, LEFT, pos=a)
    for i in range(1, 5):
        qtbot.mouseMove(target, a + (b - a) * (i / 4))
    qtbot.mouseRelease(target, LEFT, pos=b)
    document = win.annotation.controller.document
    assert document is not None
    drawn = list(document)
    assert len(drawn) == 1, messages
    assert drawn[0].image.sop_instance_uid == axial.info.frame.instance.sop_instance_uid
    assert not any("reformat" in m for m in messages)


def test_thin_ct_slab_hangs_alone_not_as_strips(qtbot, slab_dir: Path) -> None:
    win = open_window(qtbot, slab_dir)
    assert win.grid.layout_ == "1x1"
    (vp,) = win.grid.visible_viewports()
    assert isinstance(vp.source, StackListSource) and len(vp.source) == SLAB
    assert vp.info.frame is not None
    assert _image_share(vp) > 0.4
    # View > Multiplanar reformats puts them beside it on request
    win.reformat_action.trigger()
    qtbot.waitUntil(lambda: not win.busy(), timeout=60000)
    axial, sag, cor = win.grid.visible_viewports()
    assert isinstance(axial.source, StackListSource)
    assert [type(v.source) for v in (sag, cor)] == [MprSource, MprSource]
    assert (sag.source.plane_name, cor.source.plane_name) == ("sagittal", "coronal")


def test_real_ct_opens_as_its_acquired_axial_slices(qtbot, real_ct_dir: Path) -> None:
    """The 20-slice real CT (40 mm of a 500 mm field), where it is available."""
    win = open_window(qtbot, real_ct_dir)
    assert win.grid.layout_ == "1x1"
    (vp,) = win.grid.visible_viewports()
    assert isinstance(vp.source, StackListSource) and len(vp.source) == 20
    assert vp.info.frame is not None and _image_share(vp) > 0.4
