"""The viewport's state without Qt: a real demo series, every change announced once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spineviewer.dicom import Window, scan
from spineviewer.viewing import StackListSource, ViewportModel
from spineviewer.viewing.viewport_model import FALLBACK_WINDOW, value_range


@pytest.fixture(scope="module")
def sagittal(demo_study_dir: Path) -> StackListSource:
    study = scan(demo_study_dir).studies[0]
    return StackListSource.from_stacks(study.series[0].stacks)


def _recorder(model: ViewportModel) -> list[tuple[str, tuple[object, ...]]]:
    seen: list[tuple[str, tuple[object, ...]]] = []
    model.events.connect(lambda info: seen.append((info.signal.name, info.args)))
    return seen


def _shown(model: ViewportModel, source: StackListSource) -> None:
    """As the viewport does: the source, then the window of its first slice shown."""
    model.set_source(source)
    info = model.info
    assert info is not None
    model.init_window(source.values(model.index), info)


def test_a_new_source_announces_itself_then_its_middle_slice(sagittal) -> None:
    model = ViewportModel()
    seen = _recorder(model)
    model.set_source(sagittal)
    assert seen == [("source", (sagittal,)), ("index", (len(sagittal) // 2,))]
    assert model.count == len(sagittal) and model.info is sagittal.info(len(sagittal) // 2)
    seen.clear()
    model.set_source(sagittal, index=2)  # the same source again is a new showing
    assert seen == [("source", (sagittal,)), ("index", (2,))]
    model.set_source(None)
    assert model.info is None and model.index == 0 and not model.set_index(3)


def test_the_slice_index_is_clamped_and_announced_only_on_change(sagittal) -> None:
    model = ViewportModel()
    model.set_source(sagittal, index=0)
    seen = _recorder(model)
    last = len(sagittal) - 1
    assert model.set_index(10_000) and model.index == last
    assert not model.step(1) and model.index == last  # already at the end
    assert model.set_index(-7) and model.index == 0
    assert not model.set_index(0)
    assert model.step(3) and model.index == 3
    assert seen == [("index", (last,)), ("index", (0,)), ("index", (3,))]


def test_window_level_starts_at_the_first_preset_and_drags_by_the_value_range(sagittal) -> None:
    model = ViewportModel()
    _shown(model, sagittal)
    assert model.presets and model.window == model.presets[0].window
    seen = _recorder(model)
    start = model.window
    assert start is not None
    assert not model.set_window(start)  # the same window: no signal
    spread = value_range(sagittal.values(model.index))
    model.drag_window(start, 0.25, -0.1, spread)  # right a quarter, up a tenth
    after = model.window
    assert after is not None
    assert after.width == pytest.approx(start.width + 0.25 * spread)
    assert after.center == pytest.approx(start.center + 0.1 * spread)
    model.drag_window(start, -10.0, 0.0, spread)  # far left: the narrowest window, not < 1
    assert model.window is not None and model.window.width == 1.0
    assert [name for name, _ in seen] == ["window", "window"]
    assert model.apply_preset(1) and model.window == model.presets[0].window
    assert not model.apply_preset(0) and not model.apply_preset(len(model.presets) + 1)


def test_a_drag_without_window_or_presets_starts_from_the_fallback() -> None:
    model = ViewportModel()
    model.drag_window(None, 0.0, 0.5, 100.0)
    assert model.window == Window(FALLBACK_WINDOW.center - 50.0, FALLBACK_WINDOW.width)


def test_inversion_turn_and_reset(sagittal) -> None:
    model = ViewportModel()
    _shown(model, sagittal)
    seen = _recorder(model)
    model.toggle_invert()
    model.set_inverted(True)  # unchanged: no signal
    identity = model.transform
    model.rotate(clockwise=True)
    turned = model.transform
    assert turned.matrix != identity.matrix and turned.view_size == identity.view_size[::-1]
    model.fit_image(identity.rows, identity.cols, identity.spacing)  # same image: no change
    assert seen == [("inverted", (True,)), ("transform", (turned, identity))]
    model.set_window(Window(10.0, 20.0))
    model.reset(sagittal.values(model.index), model.info)
    assert model.transform.matrix == identity.matrix and not model.inverted
    assert model.window == model.presets[0].window


def test_the_tool_is_one_of_the_reading_tools() -> None:
    model = ViewportModel()
    seen = _recorder(model)
    assert model.tool == "window"
    model.set_tool("zoom")
    model.set_tool("zoom")
    assert seen == [("tool", ("zoom",))]
    with pytest.raises(ValueError, match="unknown tool"):
        model.set_tool("line")  # the annotation tools are not the viewport's
    assert model.tool == "zoom"


def test_value_range_of_flat_and_missing_images() -> None:
    assert value_range(None) == 256.0
    assert value_range(np.full((4, 4), 7.0)) == 1.0
    assert value_range(np.array([[0.0, np.nan], [40.0, 2.0]])) == 40.0
