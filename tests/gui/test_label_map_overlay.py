"""The label map as a viewer layer in the real window (offscreen): the lumbar CT phantom's truth
map over the axial slices and the sagittal reformat, its colours on the right pixels, following
the slice; outline or fill, the layer's show / hide; one label to a polygon proposal; DICOM SEG
out and back in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import open_window
from PySide6.QtGui import QImage

from spineviewer.annotations import Status
from spineviewer.annotations.label_polygon import polygon_area
from spineviewer.annotations.measure import rasterise
from spineviewer.gui.label_map_overlay import LAYER
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.viewport import ImageViewport
from spineviewer.phantom import generate, study_folder_name
from spineviewer.viewing.label_layer import FILL_ALPHA
from spineviewer.viewing.mpr import MprSource
from spineviewer.viewing.source import StackListSource

SEED = 5


@pytest.fixture(scope="module")
def ct_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("label-map-ct")
    generate("lumbar-ct", root, SEED)
    return root / study_folder_name("lumbar-ct", SEED)


def grab(vp: ImageViewport) -> np.ndarray:
    """The viewport's pixels as (height, width, RGB)."""
    vp.viewport().repaint()
    image = vp.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    h, line = image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=line * h).reshape(h, line // 4, 4)
    return data[:, : image.width(), 2::-1].astype(int)  # B, G, R, A in memory


def inner_pixel(mask: np.ndarray) -> tuple[int, int]:
    """A pixel of ``mask`` whose 5 x 5 neighbourhood is all in it."""
    inner = mask.copy()
    for dr in range(-2, 3):
        for dc in range(-2, 3):
            inner &= np.roll(np.roll(mask, dr, 0), dc, 1)
    rows, cols = np.nonzero(inner)
    middle = len(rows) // 2
    return int(rows[middle]), int(cols[middle])


def colour_at(vp: ImageViewport, pixels: np.ndarray, row: int, col: int) -> np.ndarray:
    at = vp.image_to_widget(row, col)
    return pixels[round(at.y()), round(at.x())]


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


def test_label_map_on_axial_and_sagittal_follows_the_slice(qtbot, ct_folder: Path, tmp_path):
    win: MainWindow = open_window(qtbot, ct_folder)
    qtbot.waitUntil(
        lambda: isinstance(win.grid.viewports[1].source, MprSource) and not win.busy(),
        timeout=60000,
    )
    axial, sagittal = win.grid.viewports[0], win.grid.viewports[1]
    assert isinstance(axial.source, StackListSource) and axial.source.plane_name == "axial"
    assert sagittal.source is not None and sagittal.source.plane_name == "sagittal"
    # no cross-reference lines or corner text over the pixels compared
    win.set_option("crossref", False)
    win.set_option("corner_text", False)
    ui = win.label_maps
    layers = win.annotation.tools.layers
    before = grab(axial)
    label_map = ui.open_path(ct_folder / "labels.nii.gz")
    overlay = ui.overlay
    names = {label.name: value for value, label in label_map.values.items()}

    # the axial slice: the labels of its plane, coloured on its pixels (filled, half opacity)
    shown = overlay.shown(axial)
    assert shown is not None
    assert axial.info is not None and axial.info.plane is not None
    np.testing.assert_array_equal(shown, label_map.on_plane(axial.info.plane))
    value = max(set(shown.ravel().tolist()) - {0}, key=lambda v: (shown == v).sum())
    row, col = inner_pixel(shown == value)
    after = grab(axial)
    want = FILL_ALPHA * rgb(label_map.values[value].color) + (1 - FILL_ALPHA) * colour_at(
        axial, before, row, col
    )
    assert np.abs(colour_at(axial, after, row, col) - want).max() <= 4
    outside = inner_pixel(shown == 0)
    assert np.abs(colour_at(axial, after, *outside) - colour_at(axial, before, *outside)).max() <= 1

    # the sagittal reformat of the same volume shows the column: every body and disc
    on_sagittal = overlay.shown(sagittal)
    assert on_sagittal is not None
    assert {names[n] for n in ("L1", "L3", "L5", "L3-L4", "S1")} <= set(
        on_sagittal.ravel().tolist()
    )

    # the axial viewport follows the slice: another level's labels, none beyond the map
    start = set(shown.ravel().tolist())
    axial.set_index(0 if axial.index > len(axial.source) // 2 else len(axial.source) - 1)
    moved = overlay.shown(axial)
    assert moved is None or set(moved.ravel().tolist()) != start
    for index in range(len(axial.source)):
        axial.set_index(index)
        image = overlay.shown(axial)
        if image is not None and (image == names["L3"]).sum() > 400:
            break
    else:
        pytest.fail("no axial slice through the L3 body")
    assert axial.info is not None and axial.info.plane is not None
    np.testing.assert_array_equal(image, label_map.on_plane(axial.info.plane))

    # the layer's check box hides it, its slider fades it; outline draws only the edges
    layers[LAYER].visible = False
    hidden = grab(axial)
    layers[LAYER].visible = True
    filled = grab(axial)
    assert np.abs(filled - hidden).max() > 40
    ui.outline_action.setChecked(True)
    edges = grab(axial)
    r3, c3 = inner_pixel(image == names["L3"])
    assert np.abs(colour_at(axial, edges, r3, c3) - colour_at(axial, hidden, r3, c3)).max() <= 1
    ui.outline_action.setChecked(False)

    # L3 on this slice as a polygon proposal of the map, one undo step
    annotation = ui.label_to_polygon(names["L3"])
    assert annotation is not None
    doc = win.annotation.controller.document
    assert doc is not None and annotation.uid in doc
    assert annotation.status == Status.PROPOSED and annotation.label == "L3"
    assert annotation.provenance.is_model
    mask = image == names["L3"]
    assert polygon_area(annotation.points) == pytest.approx(mask.sum(), rel=0.05)
    drawn = rasterise(annotation, *mask.shape)
    assert (drawn & mask).sum() / mask.sum() > 0.95

    # DICOM SEG out, the map closed, the SEG opened: the same labels again
    path = ui.export_seg(tmp_path / "seg")
    ui.show_label_map(None)
    assert overlay.shown(axial) is None
    again = ui.open_path(path)
    assert again.series_uid == label_map.series_uid
    assert {v.name for v in again.values.values()} == set(names)
    np.testing.assert_array_equal(overlay.shown(axial), image)
    # the phantom's truth is no model's: its volumes make no demo-model claim
    assert not again.not_for_clinical_use
    assert not any(v.not_for_clinical_use for v in ui.label_volumes())
    volumes = {v.label: v.volume_ml for v in ui.label_volumes()}
    assert volumes["L3"] == pytest.approx(
        (label_map.labels == names["L3"]).sum() * label_map.voxel_mm3 / 1000, rel=0.01
    )


def test_a_seg_of_an_installed_demo_model_is_marked_not_for_clinical_use() -> None:
    from spineviewer.gui.label_map_ui import installed_demo_model

    assert installed_demo_model("spine-ct-segmentation")  # the shipped, phantom-trained model
    assert not installed_demo_model("someone-elses-model")  # not ours: no claim either way
    assert not installed_demo_model("")
