"""The viewport driven by real mouse and key events (offscreen), asserted on model and pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import shown_viewport, wheel
from PySide6.QtCore import QPoint, Qt

from spineviewer.dicom import scan
from spineviewer.gui.sync import ViewportSync
from spineviewer.gui.viewport import ImageViewport
from spineviewer.viewing.source import StackListSource


@pytest.fixture(scope="module")
def study(demo_study_dir: Path):
    return scan(demo_study_dir).studies[0]


@pytest.fixture
def viewport(qtbot, study) -> ImageViewport:
    vp = shown_viewport(qtbot, study)
    return vp


def _shown(vp: ImageViewport) -> np.ndarray:
    return np.array(vp.image.image, copy=True)


def test_wheel_and_arrow_keys_change_the_slice_and_the_pixels(qtbot, viewport) -> None:
    start = viewport.index
    before = _shown(viewport)
    wheel(viewport, -1)  # towards the user: next image
    assert viewport.index == start + 1
    after = _shown(viewport)
    assert not np.array_equal(before, after)
    assert np.array_equal(after, viewport.source.values(start + 1))
    qtbot.keyClick(viewport, Qt.Key.Key_Up)
    qtbot.keyClick(viewport, Qt.Key.Key_Up)
    assert viewport.index == start - 1
    qtbot.keyClick(viewport, Qt.Key.Key_End)
    assert viewport.index == len(viewport.source) - 1
    qtbot.keyClick(viewport, Qt.Key.Key_Home)
    assert viewport.index == 0
    wheel(viewport, 3)  # clamped at the first image
    assert viewport.index == 0


def test_left_drag_windows_and_levels(qtbot, viewport) -> None:
    w0 = viewport.voi_window
    centre = viewport.viewport().rect().center()
    levels0 = tuple(viewport.image.levels)
    qtbot.mousePress(viewport.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(viewport.viewport(), centre + QPoint(60, -40))
    qtbot.mouseRelease(viewport.viewport(), Qt.MouseButton.LeftButton, pos=centre + QPoint(60, -40))
    w1 = viewport.voi_window
    assert w1.width > w0.width  # right: wider
    assert w1.center > w0.center  # up: higher level
    assert tuple(viewport.image.levels) != levels0
    half = (w1.width - 1) / 2
    assert viewport.image.levels == pytest.approx([w1.center - 0.5 - half, w1.center - 0.5 + half])


def test_ctrl_wheel_and_right_drag_zoom_middle_drag_pans(qtbot, viewport) -> None:
    z0 = viewport.zoom
    wheel(viewport, 2, modifiers=Qt.KeyboardModifier.ControlModifier)
    z1 = viewport.zoom
    assert z1 == pytest.approx(z0 * 1.15**2, rel=1e-3)
    centre = viewport.viewport().rect().center()
    qtbot.mousePress(viewport.viewport(), Qt.MouseButton.RightButton, pos=centre)
    qtbot.mouseMove(viewport.viewport(), centre + QPoint(0, -50))
    qtbot.mouseRelease(viewport.viewport(), Qt.MouseButton.RightButton, pos=centre + QPoint(0, -50))
    assert viewport.zoom > z1 * 1.5
    (x0, x1), (y0, _y1) = viewport.view_range()
    qtbot.mousePress(viewport.viewport(), Qt.MouseButton.MiddleButton, pos=centre)
    qtbot.mouseMove(viewport.viewport(), centre + QPoint(40, 30))
    qtbot.mouseRelease(
        viewport.viewport(), Qt.MouseButton.MiddleButton, pos=centre + QPoint(40, 30)
    )
    (a0, a1), (b0, _) = viewport.view_range()
    mm_per_px = (x1 - x0) / viewport.viewport().width()
    assert a0 == pytest.approx(x0 - 40 * mm_per_px, rel=0.05)
    assert b0 == pytest.approx(y0 - 30 * mm_per_px, rel=0.05)
    assert a1 - a0 == pytest.approx(x1 - x0)  # panning does not zoom
    qtbot.keyClick(viewport, Qt.Key.Key_F)
    assert viewport.zoom == pytest.approx(z0, rel=1e-3)


def test_presets_invert_rotate_and_orientation_letters(qtbot, viewport) -> None:
    assert viewport.edge_letters() == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    qtbot.keyClick(viewport, Qt.Key.Key_2)
    assert viewport.voi_window == viewport.presets[1].window
    assert viewport.image.lut is None  # MONOCHROME2, not inverted: plain grey
    qtbot.keyClick(viewport, Qt.Key.Key_V)
    assert np.array_equal(np.asarray(viewport.image.lut), np.arange(256)[::-1])
    qtbot.keyClick(viewport, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert viewport.edge_letters()["right"] == "S"  # superior turned to the right
    assert viewport.image.image.shape == viewport.values.shape[::-1]
    qtbot.keyClick(viewport, Qt.Key.Key_R)
    assert viewport.edge_letters()["right"] == "P" and not viewport.inverted


def test_corner_text_shows_image_number_value_under_cursor_and_hides_on_i(qtbot, viewport) -> None:
    pos = viewport.image_to_widget(100, 150).toPoint()
    qtbot.mouseMove(viewport.viewport(), pos)
    text = viewport.corner_text()
    assert f"Im {viewport.index + 1}/{len(viewport.source)}" in text.top_right[1]
    row, col = viewport.widget_to_image(pos)
    expected = viewport.values[round(row), round(col)]
    assert any(line.startswith(f"Val {expected:.0f}") for line in text.bottom_left)
    assert any(line.startswith("LPS (") for line in text.bottom_left)
    qtbot.keyClick(viewport, Qt.Key.Key_I)
    assert not viewport.show_corner_text


def test_cine_advances_and_stops(qtbot, viewport) -> None:
    viewport.set_cine_fps(60)
    start = viewport.index
    qtbot.keyClick(viewport, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: viewport.index != start, timeout=2000)
    qtbot.keyClick(viewport, Qt.Key.Key_C)
    assert not viewport.cine.isActive()


@pytest.fixture
def pair(qtbot, study):
    sag, ax = ImageViewport(name="sag"), ImageViewport(name="ax")
    for vp in (sag, ax):
        qtbot.addWidget(vp)
        vp.resize(600, 600)
        vp.show()
        qtbot.waitExposed(vp)
    sync = ViewportSync([sag, ax])
    sag.set_source(StackListSource.from_stacks(study.series[0].stacks), study.info)
    ax.set_source(StackListSource.from_stacks(study.series[1].stacks), study.info)
    sync.refresh()
    return sag, ax, sync


def _drawn_segment(vp: ImageViewport, owner) -> tuple[tuple[float, float], tuple[float, float]]:
    (item,) = [it for o, ln, it in vp._crossrefs if o is owner and ln.current]
    line = item.line()
    return (
        vp.transform_.view_to_image(line.x1(), line.y1()),
        vp.transform_.view_to_image(line.x2(), line.y2()),
    )


def test_crossref_line_follows_the_axial_slice_and_matches_geometry(qtbot, pair) -> None:
    sag, ax, sync = pair
    seen = []
    for index in (0, 10, 21):
        ax.set_index(index)
        qtbot.waitUntil(lambda: not sync._dirty, timeout=1000)  # next event-loop turn
        expected = sag.info.plane.intersect(ax.info.plane)
        drawn = _drawn_segment(sag, ax)
        for got, want in zip(drawn, (expected.start, expected.end), strict=True):
            assert np.hypot(got[0] - want[0], got[1] - want[1]) < 0.5
        seen.append(drawn)
    assert seen[0] != seen[1] != seen[2]
    # The converse: the sagittal slice is drawn on the axial image and moves when it scrolls.
    before = _drawn_segment(ax, sag)
    qtbot.keyClick(sag, Qt.Key.Key_Down)
    sync.flush()
    assert _drawn_segment(ax, sag) != before


def test_clicking_a_crossref_line_moves_the_axial_view(qtbot, pair) -> None:
    sag, ax, sync = pair
    sync.show_all = True
    sync.refresh()
    ax.set_index(0)
    target = 14
    (line,) = [ln for ln in sag.crossref_lines(ax) if ln.index == target]
    (r0, c0), (r1, c1) = line.segment.start, line.segment.end
    pos = sag.image_to_widget((r0 + r1) / 2, (c0 + c1) / 2).toPoint()
    qtbot.mouseClick(sag.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert ax.index == target


def test_shift_move_moves_the_3d_cursor_and_the_other_view(qtbot, pair) -> None:
    sag, ax, _ = pair
    ax.set_index(0)
    line = next(iter(sag.crossref_lines(ax)))
    # A point on the sagittal image near the disc of axial slice 12.
    point = ax.source.info(12).plane.to_patient(143.5, 143.5)
    r, c = sag.info.plane.to_pixel(point)
    pos = sag.image_to_widget(float(r), float(c)).toPoint()
    qtbot.mouseMove(sag.viewport(), pos)
    qtbot.keyPress(sag, Qt.Key.Key_Shift)
    qtbot.mouseMove(sag.viewport(), pos + QPoint(0, 0))
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    ev = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(sag.mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ShiftModifier,
    )
    QApplication.sendEvent(sag.viewport(), ev)
    assert ax.index == 12
    assert ax._cursor_items and line is not None


def test_every_viewport_key_in_the_shortcut_list_is_handled(viewport) -> None:
    keys = [
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_Home,
        Qt.Key.Key_End,
        Qt.Key.Key_PageUp,
        Qt.Key.Key_PageDown,
        Qt.Key.Key_C,
        Qt.Key.Key_BracketLeft,
        Qt.Key.Key_BracketRight,
        Qt.Key.Key_1,
        Qt.Key.Key_F,
        Qt.Key.Key_Space,
        Qt.Key.Key_R,
        Qt.Key.Key_V,
        Qt.Key.Key_H,
        Qt.Key.Key_I,
        Qt.Key.Key_P,
        Qt.Key.Key_W,
        Qt.Key.Key_Z,
        Qt.Key.Key_T,
    ]
    from spineviewer.gui.shortcuts import BINDINGS

    listed = " ".join(b.keys for b in BINDINGS)
    for key in keys:
        assert viewport.handle_key(key, Qt.KeyboardModifier.NoModifier), key
    assert viewport.handle_key(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert not viewport.handle_key(Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Analyze
    assert not viewport.handle_key(Qt.Key.Key_Q, Qt.KeyboardModifier.NoModifier)
    for name in ("Home", "End", "Page Up", "[", "Space", "Alt+R", "Shift+H"):
        assert name in listed
    viewport.stop_cine()


def test_radiograph_letters_come_from_patient_orientation(qtbot, tmp_path) -> None:
    from spineviewer.phantom import generate, study_folder_name

    generate("spine-xr", tmp_path, 4)
    stack = scan(tmp_path / study_folder_name("spine-xr", 4)).stacks()[0]
    assert stack.first.patient_orientation == ("L", "F") and stack.plane_of(0) is None
    vp = ImageViewport()
    qtbot.addWidget(vp)
    vp.resize(400, 600)
    vp.set_source(StackListSource([stack]))
    # Rows run to the patient's left (screen right), columns to the feet (screen down).
    assert vp.edge_letters() == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    vp.flip(horizontal=True)
    assert vp.edge_letters()["left"] == "L" and vp.edge_letters()["right"] == "R"
