"""A series' intensities as a sliding-window network wants them, and its slices on the model grid.

:class:`Intensity` holds what the manifest's ``normalisation`` needs from the whole series,
found before any patch runs: the series' percentiles (``percentile``; from at most
:data:`SAMPLE_VOXELS` voxels of evenly spread whole slices, so a 1,000-slice CT is not
sorted whole) or its mean and standard deviation (``zscore`` without given ones; exact, summed
a few slices at a time in float64). It then maps one slice at a time: ``window`` and
``percentile`` to 0..1 (clipped), ``zscore`` clipped to ``clip`` and standardised.

:class:`ModelSlices` gives the normalised series resampled to the model grid one slice at a
time: the two series slices around a model slice are read, normalised and interpolated
(linear), then its rows and columns resampled (linear,
:func:`~spineviewer.ai.preprocessing.resample_axis`); the padding is 0. Only two series slices
are held, so a memory-mapped series is read a slice at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import ModelManifest
from spineviewer.ai.preprocessing import resample_axis, scaling_bounds
from spineviewer.ai.segmentation_grid import ModelGrid

__all__ = ["SAMPLE_VOXELS", "Intensity", "ModelSlices"]

#: The most voxels the series' percentiles are taken from.
SAMPLE_VOXELS = 1 << 22
#: Series slices summed at once for the mean and standard deviation.
_CHUNK = 8

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class Intensity:
    """Stored values -> network values: ``clip`` (None: none), then ``(x - shift) / scale``,
    then clipped to 0..1 when ``unit`` (window and percentile)."""

    shift: float
    scale: float
    clip: tuple[float, float] | None = None
    unit: bool = False

    @classmethod
    def of(
        cls,
        manifest: ModelManifest,
        series: Any,
        check: Callable[[], None] = lambda: None,
    ) -> Intensity:
        """The mapping of ``manifest``'s normalisation for ``series`` (k, j, i)."""
        norm = manifest.preprocessing.normalisation
        zscore = norm.zscore
        if zscore is None:
            low, high = scaling_bounds(manifest, _sample(series), None)
            return cls(low, high - low if high > low else 0.0, unit=True)
        if zscore.mean is not None and zscore.std is not None:
            return cls(zscore.mean, zscore.std, zscore.clip)
        mean, std = _mean_std(series, zscore.clip, check)
        return cls(mean, max(std, 1e-8), zscore.clip)

    def apply(self, values: NDArray[Any]) -> FloatArray:
        """One slice (or any array) mapped; a new float32 array."""
        out = np.array(values, dtype=np.float32)
        if self.clip is not None:
            np.clip(out, self.clip[0], self.clip[1], out=out)
        if self.scale == 0.0:  # a window or percentiles without contrast
            return np.zeros_like(out)
        out -= np.float32(self.shift)
        out /= np.float32(self.scale)
        if self.unit:
            np.clip(out, 0.0, 1.0, out=out)
        return out


def _sample(series: Any) -> NDArray[Any]:
    """Whole slices spread evenly over ``series``, at most :data:`SAMPLE_VOXELS` voxels."""
    k, j, i = series.shape
    count = max(1, min(k, SAMPLE_VOXELS // max(1, j * i)))
    picks = np.unique(np.linspace(0, k - 1, count).round().astype(np.intp))
    return np.asarray(series[picks] if count < k else series[:])


def _mean_std(
    series: Any, clip: tuple[float, float] | None, check: Callable[[], None]
) -> tuple[float, float]:
    total = squares = 0.0
    for start in range(0, series.shape[0], _CHUNK):
        check()
        chunk = np.asarray(series[start : start + _CHUNK], dtype=np.float64)
        if clip is not None:
            np.clip(chunk, clip[0], clip[1], out=chunk)
        total += float(chunk.sum())
        squares += float(np.square(chunk).sum())
    count = float(np.prod(series.shape))
    mean = total / count
    return mean, float(np.sqrt(max(squares / count - mean * mean, 0.0)))


class ModelSlices:
    """Slices of the normalised series on the padded model grid, made on demand, in order."""

    def __init__(self, series: Any, grid: ModelGrid, intensity: Intensity) -> None:
        self.series = series
        self.grid = grid
        self.intensity = intensity
        self._held: dict[int, FloatArray] = {}  # normalised series slices by index
        model_rows = np.arange(grid.shape[1], dtype=np.intp)
        model_cols = np.arange(grid.shape[2], dtype=np.intp)
        self._rows = grid.series_positions(1, model_rows)
        self._cols = grid.series_positions(2, model_cols)
        self._same_plane = grid.shape[1:] == grid.series_shape[1:]

    def slab(self, start: int, stop: int) -> FloatArray:
        """Padded-grid slices ``start:stop`` (depth, padded rows, padded columns)."""
        _, rows, cols = self.grid.padded
        out = np.zeros((stop - start, rows, cols), dtype=np.float32)
        ok, oj, oi = self.grid.offset
        nk, nj, ni = self.grid.shape
        for z in range(start, stop):
            m = z - ok
            if 0 <= m < nk:
                out[z - start, oj : oj + nj, oi : oi + ni] = self._model_slice(m)
        return out

    def _model_slice(self, m: int) -> FloatArray:
        grid = self.grid
        if grid.resample_slices:
            at = float(grid.series_positions(0, np.array([m], dtype=np.intp))[0])
        else:
            at = float(m)
        last = grid.series_shape[0] - 1
        pos = min(max(at, 0.0), float(last))
        low = min(int(np.floor(pos)), max(last - 1, 0))
        high = min(low + 1, last)
        weight = np.float32(pos - low)
        plane = self._series_slice(low)
        if weight > 0 and high != low:
            plane = plane + (self._series_slice(high) - plane) * weight
        self._held = {k: v for k, v in self._held.items() if k in (low, high)}
        if self._same_plane:
            return plane
        return resample_axis(resample_axis(plane, self._rows, 0), self._cols, 1)

    def _series_slice(self, k: int) -> FloatArray:
        held = self._held.get(k)
        if held is None:
            held = self.intensity.apply(np.asarray(self.series[k]))
            self._held[k] = held
        return held
