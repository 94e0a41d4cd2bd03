"""Reformats fill their panes: a nearly square sagittal or coronal reformat of the lumbar CT in
the tall panes of its 1x3 layout filled the pane's width and left more than half of the pane
empty (44% of it covered on the README's 1600 x 900 screen). Fitted now by
:func:`spineviewer.viewing.fit.fit_range`: physical aspect kept, centred, zoomed towards
filling the pane's long side while most of the image stays in view; acquired images are still
shown whole. The X server's framebuffer shows the same (``test_painted_overlays_real_display``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import open_window
from PySide6.QtCore import QRectF, Qt

from spineviewer.phantom import generate, study_folder_name
from spineviewer.viewing.fit import BONE_HU, REFORMAT_MIN_SHOWN, bone_centre, fit_range
from spineviewer.viewing.mpr import MprSource


def test_fit_range_keeps_aspect_centres_and_cuts_at_most_the_allowed_share() -> None:
    # the whole image: the limiting side fills the pane, centred
    assert fit_range(200, 200, 300, 700, padding=0) == ((0.0, 200.0), (0.0, 200.0))
    # a square image in a tall pane: 70% of its width in view, its whole height
    (x0, x1), (y0, y1) = fit_range(200, 200, 300, 700, 0.7)
    assert (x1 - x0) == pytest.approx(140.0) and (x0 + x1) / 2 == pytest.approx(100.0)
    assert (y0, y1) == pytest.approx((-4.0, 204.0))  # a 2% margin on the side shown whole
    # in a wide pane the same, turned
    (x0, x1), (y0, y1) = fit_range(200, 200, 700, 300, 0.7, padding=0)
    assert (x0, x1) == (0.0, 200.0) and (y1 - y0) == pytest.approx(140.0)
    # a pane of (nearly) the image's shape: filling it cuts less than allowed
    (x0, x1), (y0, y1) = fit_range(200, 210, 300, 330, 0.7, padding=0)
    assert x1 - x0 > 190 and y1 - y0 == pytest.approx(210.0)
    # nothing to fit yet: the image's own range
    assert fit_range(200, 100, 0, 0, 0.7) == ((0.0, 200.0), (0.0, 100.0))
    # the part kept is centred on a focus as far as the image reaches
    (x0, x1), _ = fit_range(200, 200, 300, 700, 0.7, focus=(120.0, 100.0))
    assert (x0, x1) == pytest.approx((50.0, 190.0))
    (x0, x1), _ = fit_range(200, 200, 300, 700, 0.7, focus=(190.0, 100.0))
    assert (x0, x1) == pytest.approx((60.0, 200.0))


def test_bone_centre_is_the_middle_of_a_ct_slices_bone() -> None:
    values = np.full((80, 200), -1000.0)
    values[10:70, 20:180] = 40.0  # soft tissue
    values[20:60, 130:170] = 700.0  # a vertebra behind the middle
    assert bone_centre(values, "CT") == pytest.approx((39.5, 149.5), abs=1.0)
    assert bone_centre(values, "MR") is None  # no HU: the image's centre
    assert bone_centre(np.zeros((80, 200)), "CT") is None


@pytest.fixture(scope="module")
def ct_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fit-ct")
    generate("lumbar-ct", root, 3)
    return root / study_folder_name("lumbar-ct", 3)


def _on_screen(vp) -> tuple[QRectF, QRectF]:
    """The image's rectangle on screen (widget px) and the pane's."""
    rows, cols = vp.values.shape[:2]
    a = vp.image_to_widget(-0.5, -0.5)
    b = vp.image_to_widget(rows - 0.5, cols - 0.5)
    return QRectF(a, b).normalized(), QRectF(vp.viewport().rect())


def _check_filled(vp) -> None:
    image, pane = _on_screen(vp)
    shown = image.intersected(pane)
    share = shown.width() * shown.height() / (pane.width() * pane.height())
    # the physical aspect ratio: one screen pixel is as many mm across as down
    (sr, sc), (rows, cols) = vp.info.pixel_spacing, vp.values.shape[:2]
    assert (image.width() / (cols * sc)) == pytest.approx(image.height() / (rows * sr), rel=0.01)
    # the share of the pane the whole image covered (the image's limiting side filled)
    w, h = cols * sc, rows * sr
    whole = min(pane.width() / w, pane.height() / h) ** 2 * w * h / (pane.width() * pane.height())
    assert whole < 0.5  # more than half of the pane was empty
    assert share >= 0.94 * min(1.0, whole / REFORMAT_MIN_SHOWN), (vp.objectName(), share, whole)
    # at least the allowed share of it in view across the pane, centred down the pane
    assert shown.width() / image.width() >= REFORMAT_MIN_SHOWN * 0.97
    assert shown.height() / image.height() >= REFORMAT_MIN_SHOWN * 0.97
    assert image.center().y() == pytest.approx(pane.center().y(), abs=2)
    # the part kept is the bone's (the spine lies behind the sagittal's middle): all in view
    bone = np.nonzero(vp.values >= BONE_HU)
    if bone_centre(vp.values, "CT") is None:
        return  # a coronal in front of the spine: centred on the image
    for row, col in zip(*(np.percentile(b, (2, 98)) for b in bone), strict=True):
        at = vp.image_to_widget(row, col)
        assert pane.adjusted(-1, -1, 1, 1).contains(at), (vp.objectName(), row, col)


def test_the_ct_reformats_fill_their_tall_panes(qtbot, ct_dir: Path) -> None:
    win = open_window(qtbot, ct_dir)
    win.browser_dock.hide()  # as docs/scripts/xserver_screenshots.py shows the CT
    win.resize(1600, 900)
    axial, sag, cor = win.grid.visible_viewports()
    qtbot.waitUntil(lambda: isinstance(cor.source, MprSource), timeout=60000)
    qtbot.waitUntil(lambda: not win.busy(), timeout=60000)
    qtbot.waitUntil(lambda: sag.viewport().height() > 600, timeout=5000)
    pane = sag.viewport().rect()
    assert pane.height() > 1.5 * pane.width()  # tall panes: the case in question
    for vp in (sag, cor):
        _check_filled(vp)
    # the acquired axial is still shown whole
    image, pane_rect = _on_screen(axial)
    assert pane_rect.adjusted(-1, -1, 1, 1).contains(image)
    # F fits again after a zoom; a resize refits a fitted view but keeps a zoomed one
    sag.zoom_by(2.0)
    qtbot.keyClick(sag, Qt.Key.Key_F)
    _check_filled(sag)
    win.resize(1500, 1000)
    qtbot.waitUntil(lambda: sag.viewport().height() > pane.height() + 50, timeout=5000)
    _check_filled(sag)
    fitted = cor.zoom
    cor.zoom_by(2.0)
    win.resize(1600, 900)
    qtbot.waitUntil(lambda: sag.viewport().height() < pane.height() + 5, timeout=5000)
    assert cor.zoom > 1.6 * fitted  # the reader's zoom stays (pyqtgraph keeps its range)
