"""The letterbox scales the rows it samples instead of the whole slice: the same model image
as scaling first and resampling afterwards (the order the models were trained with)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.manifest import ModelManifest
from spineviewer.ai.preprocessing import letterbox, letterbox_image, resample_axis, scaling_bounds
from spineviewer.geometry.resample import percentile_scale


def letterbox_resample(image, size):
    """The order the models were trained with: the whole slice scaled first, then
    letterboxed (bilinear at the input pixel centres, 0 outside)."""
    arr = np.asarray(image, dtype=np.float32)
    box = letterbox(*arr.shape, size)
    r, _ = box.to_image(0.0, np.arange(size[0]) + 0.5)
    _, c = box.to_image(np.arange(size[1]) + 0.5, 0.0)
    return resample_axis(resample_axis(arr, r, axis=0), c, axis=1), box


@pytest.mark.parametrize(
    ("shape", "size", "dtype"),
    [
        ((1024, 512), (512, 256), np.uint16),  # a radiograph, halved
        ((1024, 512), (384, 192), np.uint16),
        ((320, 320), (256, 256), np.int16),
        ((257, 131), (384, 192), np.uint16),  # enlarged, padded left and right
        ((100, 200), (64, 64), np.float64),  # padded above and below
    ],
)
@pytest.mark.parametrize("invert", [False, True])
def test_same_image_as_scaling_the_whole_slice_first(shape, size, dtype, invert) -> None:
    values = np.random.default_rng(7).normal(1000, 300, shape).clip(0, 4095).astype(dtype)
    image, box = letterbox_image(values, size, (0.5, 99.5), invert)
    scaled = percentile_scale(values, 0.5, 99.5)
    expected, expected_box = letterbox_resample(1.0 - scaled if invert else scaled, size)
    assert box == expected_box
    assert image.dtype == np.float32
    np.testing.assert_allclose(image, expected, atol=1e-6)
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_a_flat_slice_is_black_or_white_inside_and_black_outside() -> None:
    values = np.full((100, 200), 7, dtype=np.uint16)
    plain, box = letterbox_image(values, (64, 64))
    inverted, _ = letterbox_image(values, (64, 64), invert=True)
    top = int(np.ceil(box.pad_top))
    assert np.all(plain == 0.0)
    assert np.all(inverted[top + 1 : 64 - top - 1] == 1.0)
    assert np.all(inverted[: int(box.pad_top) - 1] == 0.0)


def test_percentile_bounds_are_computed_once_per_slice_for_several_models() -> None:
    models = Path(__file__).resolve().parents[2] / "onnx_models"
    implants, vertebrae = (
        ModelManifest.from_dict(json.loads((models / f"{name}.json").read_text()))
        for name in ("implants-ap", "vertebrae-ap")
    )
    values = np.arange(1000, dtype=np.uint16).reshape(25, 40)
    known: dict = {}
    first = scaling_bounds(implants, values, known)
    assert first == pytest.approx((4.995, 994.005))
    assert list(known) == [(0.5, 99.5)]
    known[(0.5, 99.5)] = (1.0, 2.0)  # the second model takes what the first computed
    assert scaling_bounds(vertebrae, values, known) == (1.0, 2.0)
    assert scaling_bounds(vertebrae, values, None) == first
