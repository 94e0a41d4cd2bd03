"""The viewport widget follows its model: a change made on the model alone (as linked scrolling
does) shows in the widget's pixels, and the sync moves models, not widgets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import shown_viewport
from PySide6.QtCore import Qt

from spineviewer.dicom import Window, scan
from spineviewer.gui.sync import ViewportSync


@pytest.fixture(scope="module")
def study(demo_study_dir: Path):
    return scan(demo_study_dir).studies[0]


def _shown(vp) -> np.ndarray:
    return np.array(vp.image.image, copy=True)


def test_the_widget_repaints_what_its_model_says(qtbot, study) -> None:
    vp = shown_viewport(qtbot, study)
    model = vp.model
    with qtbot.waitSignal(vp.sliceChanged) as changed:
        assert model.set_index(2)
    assert changed.args == [2]
    assert np.array_equal(_shown(vp), vp.source.values(2))  # the slice loaded with it
    text = vp.corner_text()
    assert text is not None and any("Im 3/" in line for line in text.top_right)
    with qtbot.waitSignal(vp.windowChanged):
        model.set_window(Window(300.0, 200.0))
    assert vp.image.levels == pytest.approx((300.0 - 0.5 - 99.5, 300.0 - 0.5 + 99.5))
    assert vp.image.lut is None
    model.toggle_invert()
    assert vp.image.lut is not None and vp.image.lut[0] == 255  # black and white swapped
    vp.zoom_by(3.0)
    zoomed = vp.view_range()
    model.rotate()
    assert vp.transform_ is model.transform and _shown(vp).shape == vp.source.values(2).T.shape
    (x0, x1), (y0, y1) = vp.view_range()
    w, h = model.transform.view_size
    assert vp.view_range() != zoomed and x1 - x0 >= w and y1 - y0 >= h  # fitted again
    vp.reset()
    assert not model.inverted and model.window == model.presets[0].window


def test_the_window_key_sets_the_models_tool(qtbot, study) -> None:
    vp = shown_viewport(qtbot, study)
    requested: list[str] = []
    vp.toolRequested.connect(requested.append)
    qtbot.keyClick(vp, Qt.Key.Key_Z)
    assert vp.model.tool == "zoom" and vp.tool == "zoom" and requested == ["zoom"]


def test_linked_scrolling_moves_the_other_model_and_its_widget_follows(qtbot, study) -> None:
    a = shown_viewport(qtbot, study, 0, name="a")
    b = shown_viewport(qtbot, study, 0, name="b")  # the same sagittal series: parallel
    b.set_index(0)
    sync = ViewportSync([a, b])
    sync.refresh()
    assert sync.links.models == [a.model, b.model]
    qtbot.keyClick(a, Qt.Key.Key_Down)
    assert b.index == 0  # following waits for the next event-loop turn
    qtbot.waitUntil(lambda: b.index == a.index, timeout=1000)
    assert np.array_equal(_shown(b), _shown(a))
    sync.linked = False
    qtbot.keyClick(a, Qt.Key.Key_Down)
    sync.flush()
    assert b.index == a.index - 1
