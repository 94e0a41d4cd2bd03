"""The display half of the grey-scale pipeline: VOI (PS3.3 C.11.2) then MONOCHROME1 inversion."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from dicom_helpers import sample_path

from spineviewer.dicom import (
    FrameCache,
    StackPixels,
    Window,
    apply_window,
    default_window,
    scan,
    to_display,
)

# Hand-computed from PS3.3 C.11.2.1.2 for c = 40, w = 400 (a CT soft-tissue window):
#   LINEAR:       y = ((x - 39.5) / 399 + 0.5), clipped; x <= -160 -> 0, x > 239.5 -> 1
#   LINEAR_EXACT: y = (x - 40) / 400 + 0.5, clipped
#   SIGMOID:      y = 1 / (1 + exp(-4 (x - 40) / 400))
X = np.array([-1000.0, -160.0, 0.0, 40.0, 100.0, 239.0, 240.0, 1000.0])
EXPECTED = {
    "LINEAR": [
        0.0,
        0.0,
        0.5 - 39.5 / 399,
        0.5 + 0.5 / 399,
        0.5 + 60.5 / 399,
        0.5 + 199.5 / 399,
        1.0,
        1.0,
    ],
    "LINEAR_EXACT": [0.0, 0.0, 0.4, 0.5, 0.65, 0.9975, 1.0, 1.0],
    "SIGMOID": [1.0 / (1.0 + np.exp(-4.0 * (x - 40.0) / 400.0)) for x in X],
}


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_window_functions_match_the_standard(function: str) -> None:
    shown = apply_window(X, Window(40.0, 400.0, function))

    assert shown.dtype == np.float32
    np.testing.assert_allclose(shown, EXPECTED[function], atol=1e-6)


def test_sigmoid_values_at_known_points() -> None:
    shown = apply_window(np.array([40.0, 240.0, -160.0]), Window(40.0, 400.0, "SIGMOID"))
    np.testing.assert_allclose(shown, [0.5, 0.8807971, 0.1192029], atol=1e-6)


@pytest.mark.parametrize(
    ("center", "width", "function", "message"),
    [
        (40, 400, "GAMMA", "unknown"),
        (40, 0.5, "LINEAR", "width"),
        (40, 0, "LINEAR_EXACT", "width"),
        (40, -10, "SIGMOID", "width"),
    ],
)
def test_invalid_windows_are_refused(center, width, function, message) -> None:
    with pytest.raises(ValueError, match=message):
        Window(center, width, function)


def test_window_width_one_is_a_threshold() -> None:
    shown = apply_window(np.array([98.0, 99.0, 99.5, 100.0, 101.0]), Window(100.0, 1.0))
    np.testing.assert_array_equal(shown, [0.0, 0.0, 0.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def monochrome1_frame_and_values():
    [stack] = scan(sample_path("RG1_UNCR.dcm")).stacks()
    return stack.first, StackPixels(stack, FrameCache()).slice(0)


@pytest.fixture(scope="module")
def monochrome2_twin(tmp_path_factory):
    """RG1_UNCR.dcm rewritten as MONOCHROME2 (nothing else changed)."""
    ds = pydicom.dcmread(sample_path("RG1_UNCR.dcm"))
    ds.PhotometricInterpretation = "MONOCHROME2"
    path = tmp_path_factory.mktemp("mono2") / "RG1_MONOCHROME2.dcm"
    ds.save_as(path)
    [stack] = scan(path).stacks()
    return stack.first, StackPixels(stack, FrameCache()).slice(0)


def test_monochrome1_brightest_stored_pixel_is_shown_black(monochrome1_frame_and_values) -> None:
    frame, values = monochrome1_frame_and_values
    assert frame.instance.photometric == "MONOCHROME1"
    low, high = float(values.min()), float(values.max())
    # PS3.3 C.11.2.1.2 note 4: c = (x1 + x2 + 1) / 2, w = x2 - x1 + 1 spans the data exactly.
    full_range = Window((low + high + 1.0) / 2.0, high - low + 1.0)

    shown = to_display(values, frame, full_range)

    brightest = np.unravel_index(np.argmax(values), values.shape)
    darkest = np.unravel_index(np.argmin(values), values.shape)
    assert shown[brightest] == pytest.approx(0.0, abs=1e-6)
    assert shown[darkest] == pytest.approx(1.0, abs=1e-6)


def test_monochrome1_is_inverted_after_the_header_window(
    monochrome1_frame_and_values, monochrome2_twin
) -> None:
    frame1, values1 = monochrome1_frame_and_values
    frame2, values2 = monochrome2_twin
    np.testing.assert_array_equal(values1, values2)
    window = default_window(frame1, values1)
    assert (window.center, window.width, window.function) == (15000.0, 30000.0, "LINEAR")

    shown1 = to_display(values1, frame1)
    shown2 = to_display(values2, frame2)

    np.testing.assert_allclose(shown1, 1.0 - shown2, atol=1e-6)
    # Brightest stored pixel 26479 at (232, 1797): 1 - ((26479 - 14999.5) / 29999 + 0.5).
    assert values1[232, 1797] == 26479
    assert shown1[232, 1797] == pytest.approx(1.0 - ((26479 - 14999.5) / 29999 + 0.5), abs=1e-6)
    # Inverting the stored values before the window would have shown 1 - that value.
    inverted_first = float(apply_window(np.array([2**15 - 1 - 26479]), window)[0])
    assert abs(float(shown1[232, 1797]) - inverted_first) > 0.05


def test_voi_lut_sequence_is_applied_for_display() -> None:
    """vlut_04: an 8-bit image whose VOI LUT maps x to 257 x in 16 bits, i.e. x / 255."""
    [stack] = scan(sample_path("vlut_04.dcm")).stacks()
    frame = stack.first
    values = StackPixels(stack, FrameCache()).slice(0)
    lut = np.asarray(frame.instance.voi_lut.LUTData)
    np.testing.assert_array_equal(lut, np.arange(256) * 257)

    shown = to_display(values, frame)

    np.testing.assert_allclose(shown, values / 255.0, atol=1e-6)
    assert shown[256, 250] == pytest.approx(122 / 255)
    # An explicit window wins over the VOI LUT.
    windowed = to_display(values, frame, Window(64.0, 64.0))
    np.testing.assert_allclose(windowed, apply_window(values, Window(64.0, 64.0)))


def test_header_window_is_the_default() -> None:
    """MR_small stores Window Center 600 / Width 1600."""
    [stack] = scan(sample_path("MR_small.dcm")).stacks()
    frame = stack.first
    values = StackPixels(stack, FrameCache()).slice(0)

    shown = to_display(values, frame)

    assert default_window(frame, values) == Window(600.0, 1600.0, "LINEAR")
    expected = np.clip((values.astype(np.float64) - 599.5) / 1599 + 0.5, 0, 1)
    np.testing.assert_allclose(shown, expected, atol=1e-6)


def test_data_window_spans_the_percentiles_without_a_header_window() -> None:
    [stack] = scan(sample_path("JPEG-LL.dcm")).stacks()
    frame = stack.first
    assert frame.window_centers == ()
    values = StackPixels(stack, FrameCache()).slice(0)

    window = default_window(frame, values)

    low, high = np.percentile(values[::4, ::4], [0.5, 99.5])
    assert window.center == pytest.approx((low + high) / 2)
    assert window.width == pytest.approx(high - low)
    shown = to_display(values, frame)
    assert shown.min() == 0.0
    assert shown.max() == 1.0


def test_sigmoid_function_from_header_is_used(tmp_path) -> None:
    ds = pydicom.dcmread(sample_path("MR_small.dcm"))
    ds.VOILUTFunction = "SIGMOID"
    buffer = io.BytesIO()
    ds.save_as(buffer)
    path = tmp_path / "sigmoid.dcm"
    path.write_bytes(buffer.getvalue())
    [stack] = scan(path).stacks()
    values = StackPixels(stack, FrameCache()).slice(0)

    shown = to_display(values, stack.first)

    expected = 1.0 / (1.0 + np.exp(-4.0 * (values.astype(np.float64) - 600.0) / 1600.0))
    np.testing.assert_allclose(shown, expected, atol=1e-6)
