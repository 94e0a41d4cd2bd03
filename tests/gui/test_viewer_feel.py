"""Issue 21, defect 9 (feel), with real mouse and key events on real DICOM files:

(a) a W/L drag scales with the image's value range (a full-width drag spans it), not with the
    current width (a 120-px drag moved an MR width by ~1,270 of 2,800);
(b) a W/L drag that starts a few pixels from a reference line windows; only a press on the
    line itself (within 3 px) picks the line, and dragging it moves the other view's slice;
(c) the 2x2 layout hangs the study's remaining series in its empty viewports;
(d) reference lines for all slices stay off by default, with a View menu toggle and a listed
    shortcut;
(e) window presets are offered in a menu (View menu and toolbar), not only on keys 1-9.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import open_window, shown_viewport
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence

from spineviewer.dicom import scan
from spineviewer.gui.reference_lines import segment_distance
from spineviewer.gui.shortcuts import BINDINGS
from spineviewer.gui.sync import ViewportSync
from spineviewer.gui.viewport import ImageViewport

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(scope="module")
def study(demo_study_dir: Path):
    return scan(demo_study_dir).studies[0]


def _drag(qtbot, vp: ImageViewport, a: QPoint, b: QPoint, steps: int = 6) -> None:
    target = vp.viewport()
    qtbot.mousePress(target, LEFT, pos=a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(target, a + (b - a) * (i / steps))
    qtbot.mouseRelease(target, LEFT, pos=b)


def test_window_drag_scales_with_the_value_range(qtbot, study) -> None:
    vp = shown_viewport(qtbot, study)
    values = vp.values
    value_range = float(values.max()) - float(values.min())
    before = vp.voi_window
    a = QPoint(150, 150)
    _drag(qtbot, vp, a, a + QPoint(120, 0))
    after = vp.voi_window
    expected = 120 / vp.viewport().width() * value_range
    assert after.width - before.width == pytest.approx(expected, rel=0.05)
    assert after.width - before.width < 0.25 * value_range  # was ~1,270 of 2,800
    assert after.center == pytest.approx(before.center)
    # vertical: the level moves by the range over the viewport's height; up is brighter
    _drag(qtbot, vp, a, a + QPoint(0, -60))
    moved = vp.voi_window.center - after.center
    assert moved == pytest.approx(60 / vp.viewport().height() * value_range, rel=0.05)


@pytest.fixture
def pair(qtbot, study):
    sag = shown_viewport(qtbot, study, 0, name="sag")
    ax = shown_viewport(qtbot, study, 2, name="ax")
    sync = ViewportSync([sag, ax])
    sync.refresh()
    return sag, ax, sync


def _line_on_screen(sag: ImageViewport, ax: ImageViewport) -> tuple[QPointF, QPointF, QPointF]:
    """The axial's current line on the sagittal: its middle and its unit normal (widget px)."""
    (line,) = sag.crossref_lines(ax)
    a = sag.image_to_widget(*line.segment.start)
    b = sag.image_to_widget(*line.segment.end)
    d = b - a
    length = float(np.hypot(d.x(), d.y()))
    normal = QPointF(-d.y() / length, d.x() / length)
    return (a + b) / 2, normal, a


def test_a_window_drag_near_a_reference_line_windows(qtbot, pair) -> None:
    sag, ax, _ = pair
    index, window = ax.index, sag.voi_window
    middle, normal, _ = _line_on_screen(sag, ax)
    start = (middle + normal * 5).toPoint()  # 5 px off the line: inside the old 6-px zone
    (line,) = sag.crossref_lines(ax)
    a, b = (sag.image_to_widget(*p) for p in (line.segment.start, line.segment.end))
    assert 3.5 < segment_distance(QPointF(start), a, b)[0] < 6
    _drag(qtbot, sag, start, start + QPoint(120, 0))
    assert sag.voi_window != window and sag.voi_window.width > window.width
    assert ax.index == index


def test_dragging_a_reference_line_moves_the_other_view(qtbot, pair) -> None:
    sag, ax, sync = pair
    index, window = ax.index, sag.voi_window
    middle, normal, _ = _line_on_screen(sag, ax)
    start = middle.toPoint()
    end = (middle + normal * 60).toPoint()
    _drag(qtbot, sag, start, end)
    sync.flush()
    assert sag.voi_window == window  # no windowing
    assert ax.index != index
    # the axial now shows the slice through the point where the line was dropped
    point = sag.patient_at(QPointF(end))
    assert abs(ax.info.plane.distance(point)) < 0.6 * ax.source.stacks[0].slice_spacing + 0.5
    assert abs(index - ax.index) > 3


def test_2x2_hangs_the_remaining_series(qtbot, demo_study_dir: Path) -> None:
    win = open_window(qtbot, demo_study_dir)
    assert win.grid.layout_ == "1x2"
    shown = [vp.source.series_uid for vp in win.grid.visible_viewports()]
    win.layout_actions["2x2"].trigger()
    qtbot.waitUntil(lambda: not win.busy(), timeout=30000)
    viewports = win.grid.visible_viewports()
    assert [vp.source.series_uid for vp in viewports[:2]] == shown  # kept where they were
    third = viewports[2].source
    assert third is not None and third.series_uid not in shown
    study = scan(demo_study_dir).studies[0]
    numbers = {s.stacks[0].series_uid: s.number for s in study.series}
    assert numbers[third.series_uid] == 3
    # every series of the study is now on screen; nothing is shown twice
    on_screen = [vp.source.series_uid for vp in viewports if vp.source is not None]
    assert sorted(on_screen) == sorted(numbers)


def test_reference_lines_for_all_slices_have_a_menu_toggle_and_a_listed_shortcut(
    qtbot, demo_study_dir: Path
) -> None:
    win = open_window(qtbot, demo_study_dir)
    action = win.crossref_all_action
    assert not action.isChecked() and not win.sync.show_all  # off by default
    view_menu = next(
        m.menu() for m in win.menuBar().actions() if m.text().replace("&", "") == "View"
    )
    assert action in view_menu.actions()
    shortcut = action.shortcut().toString()
    assert shortcut, "no shortcut"
    assert shortcut in {b.keys for b in BINDINGS}
    left, right = win.grid.visible_viewports()
    before = len(left.crossref_lines(right))
    left.setFocus()
    combination = QKeySequence(shortcut)[0]
    qtbot.keyClick(left, combination.key(), combination.keyboardModifiers())
    assert action.isChecked() and win.sync.show_all
    assert len(left.crossref_lines(right)) > before


def test_window_presets_are_in_a_menu(qtbot, demo_study_dir: Path) -> None:
    win = open_window(qtbot, demo_study_dir)
    vp = win.grid.active
    menu = win.preset_menu
    assert (
        menu.menuAction()
        in next(
            m.menu() for m in win.menuBar().actions() if m.text().replace("&", "") == "View"
        ).actions()
    )
    assert win.preset_button.menu() is menu  # and on the toolbar
    menu.aboutToShow.emit()
    entries = [a for a in menu.actions() if not a.isSeparator()]
    assert len(entries) == len(vp.presets)
    assert vp.presets[1].name in entries[1].text()
    entries[1].trigger()
    assert vp.voi_window == vp.presets[1].window
