"""Issue 21, defect 5: a double-clicked viewport fills the whole grid area (the layout's column
and row stretches kept it one third wide in 1x3 and one half in 1x2); a second double-click
restores the layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import open_window
from PySide6.QtCore import Qt

LEFT = Qt.MouseButton.LeftButton


@pytest.mark.parametrize("layout", ["1x2", "1x3", "2x2"])
def test_double_click_maximises_to_the_whole_grid_and_back(
    qtbot, demo_study_dir: Path, layout: str
) -> None:
    win = open_window(qtbot, demo_study_dir)
    win.layout_actions[layout].trigger()
    qtbot.waitUntil(lambda: not win.busy(), timeout=30000)
    grid = win.grid
    vp = grid.visible_viewports()[1]
    rows, cols = int(layout[0]), int(layout[-1])
    qtbot.waitUntil(
        lambda: (
            abs(vp.width() - grid.width() / cols) < 8
            and abs(vp.height() - grid.height() / rows) < 8
        ),
        timeout=2000,
    )
    small = (vp.width(), vp.height())
    zoom = vp.zoom

    qtbot.mouseDClick(vp.viewport(), LEFT)
    assert grid.maximised is vp
    qtbot.waitUntil(lambda: vp.width() >= grid.width() - 4, timeout=2000)
    assert vp.height() >= grid.height() - 4
    assert [v for v in grid.viewports if v.isVisible()] == [vp]
    # the image is fitted to the larger pane: it is drawn bigger than before
    qtbot.waitUntil(lambda: vp.zoom > 1.2 * zoom, timeout=2000)

    qtbot.mouseDClick(vp.viewport(), LEFT)
    assert grid.maximised is None
    qtbot.waitUntil(
        lambda: abs(vp.width() - small[0]) <= 2 and abs(vp.height() - small[1]) <= 2,
        timeout=2000,
    )
    assert all(v.isVisible() for v in grid.visible_viewports())
