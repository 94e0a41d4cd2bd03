"""Percentiles for intensity scaling: the histogram path for integer images gives exactly
numpy's numbers."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize(
    ("dtype", "low", "high"),
    [(np.uint16, 0, 4095), (np.int16, -1024, 3000), (np.uint8, 0, 255), (np.int32, -5, 5)],
)
@pytest.mark.parametrize("q", [(0.5, 99.5), (0.0, 100.0), (1.0, 99.0), (25.0, 75.0)])
def test_histogram_percentiles_equal_numpy(dtype, low, high, q) -> None:
    from spineviewer.geometry.resample import percentiles

    rng = np.random.default_rng(3)
    for shape in ((64, 64), (257, 129), (1000, 3)):
        values = rng.integers(low, high, shape, endpoint=True).astype(dtype)
        expected = np.percentile(values.astype(np.float64), q)
        assert percentiles(values, *q) == pytest.approx(tuple(expected), abs=1e-9)
    flat = np.full((64, 64), 7, dtype=dtype)
    assert percentiles(flat, *q) == (7.0, 7.0)


def test_float_images_use_numpy_percentiles() -> None:
    from spineviewer.geometry.resample import percentiles

    values = np.linspace(0.0, 1.0, 5000, dtype=np.float32).reshape(50, 100)
    assert percentiles(values, 0.5, 99.5) == pytest.approx((0.005, 0.995), abs=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
def test_partition_percentiles_are_bit_identical_to_numpy(dtype) -> None:
    """Small crops and float images take one partition instead of np.percentile: the very
    same numbers, so the model inputs do not change."""
    from spineviewer.geometry.resample import percentiles

    rng = np.random.default_rng(11)
    for _ in range(400):
        n = int(rng.integers(1, 600))
        values = rng.normal(0, 300, n) if dtype != np.int16 else rng.integers(-900, 900, n)
        values = values.astype(dtype)
        low, high = float(rng.uniform(0, 50)), float(rng.uniform(50, 100))
        expected = np.percentile(values, [low, high])
        assert percentiles(values, low, high) == (float(expected[0]), float(expected[1]))


def test_nan_makes_every_percentile_nan_as_in_numpy() -> None:
    from spineviewer.geometry.resample import percentiles

    lo, hi = percentiles(np.array([1.0, np.nan, 3.0, 4.0]), 10, 90)
    assert np.isnan(lo) and np.isnan(hi)
    with pytest.raises(IndexError):
        percentiles(np.zeros(0), 10, 90)
