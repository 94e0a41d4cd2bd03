"""Issue 21, defect 2: the toolbar starts with Window/level checked, so a left-drag on a fresh
window must window and level (the annotation controller took every left press in "select");
and W, pressed on a viewport after a drawing tool, gives the left button back to W/L everywhere
(it changed only that viewport's own tool, and the next drag drew another line)."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import open_window
from PySide6.QtCore import QPoint, Qt

LEFT = Qt.MouseButton.LeftButton


def _drag(qtbot, vp) -> None:
    target = vp.viewport()
    rect = target.rect()  # away from the centre, where reference lines may run
    a = QPoint(rect.width() // 5, rect.height() // 8)
    b = a + QPoint(80, -20)
    qtbot.mousePress(target, LEFT, pos=a)
    for i in range(1, 5):
        qtbot.mouseMove(target, a + (b - a) * (i / 4))
    qtbot.mouseRelease(target, LEFT, pos=b)


def _marks(win) -> int:
    document = win.annotation.controller.document
    return 0 if document is None else len(list(document))


def test_a_left_drag_on_a_fresh_window_is_window_level(qtbot, demo_study_dir: Path) -> None:
    win = open_window(qtbot, demo_study_dir)
    assert win.tool_actions["window"].isChecked()
    vp = win.grid.viewports[0]
    before, marks = vp.voi_window, _marks(win)
    _drag(qtbot, vp)
    assert vp.voi_window != before
    assert vp.voi_window.width > before.width
    assert _marks(win) == marks


def test_w_after_a_drawing_tool_gives_the_left_button_back(qtbot, demo_study_dir: Path) -> None:
    win = open_window(qtbot, demo_study_dir)
    vp = win.grid.viewports[0]
    win.set_tool("line")
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_W)
    assert win.annotation.controller.tool == "window"
    assert win.tool_actions["window"].isChecked()
    assert all(v.tool == "window" for v in win.grid.viewports)
    before, marks = vp.voi_window, _marks(win)
    _drag(qtbot, vp)
    assert vp.voi_window != before
    assert _marks(win) == marks  # no line drawn
