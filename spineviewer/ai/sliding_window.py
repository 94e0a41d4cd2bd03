"""Sliding-window inference of a segmentation network on a whole series (no torch).

A model whose manifest has ``preprocessing.sliding_window`` (the layout:
:mod:`spineviewer.ai.manifest`; for people: ``docs/segmentation.md``) runs on a series, an array
(slice k, row j, column i) of stored values after the modality LUT with its spacing in mm,
through the project's :class:`~spineviewer.ai.runtime.ModelSession` (onnxruntime; CUDA when it
can, else the CPU, as :mod:`spineviewer.ai.sessions` chose). The steps:

1. The intensities the normalisation needs from the whole series (its percentiles or mean and
   standard deviation), read first (:class:`~spineviewer.ai.segmentation_intensity.Intensity`).
2. The series resampled (linear) to the model's spacing, a slice at a time, and padded
   (centred, with 0) to at least one patch (:class:`~spineviewer.ai.segmentation_grid.
   ModelGrid`, :class:`~spineviewer.ai.segmentation_intensity.ModelSlices`).
3. Patches overlapping by ``overlap``, placed as nnU-Net places them, run in batches, with
   test-time mirroring when the manifest asks (:mod:`spineviewer.ai.segmentation_predict`),
   and their outputs blended with a Gaussian weight (sigma 1/8 of the patch).
4. Each finished run of model slices decoded to labels (softmax: argmax; sigmoid: threshold)
   and resampled back to the series' grid (nearest); :func:`segment` returns the
   :class:`LabelMap`, the series' shape. With the manifest's ``postprocessing`` the network's
   labels are its classes (vertebra, disc...): they are kept on the model grid (1 byte a
   voxel), the levels derived from them (:func:`~spineviewer.ai.spine_levels.
   derive_levels`) and those resampled to the series' grid; the label map's values are then
   ``postprocessing.spine_levels.labels``.

**Memory.** Patches are taken in order along the slowest axis (k), and the outputs are
accumulated only over a moving slab of the model grid: the slices the current row of patches
covers (the patch depth ``pk`` for a 3D network; for a 2D one, the few slices one batch of
patches covers). When a row is done, the slices no later row reaches are final: they are
decoded, written into the label map and the slab moves on. Besides the series itself (which
may be a memory map, read a slice at a time) and the label map (1 byte a voxel, 2 above 254
labels), the largest buffers are the accumulator and its weights, ``(classes + 1) x depth x
rows x columns x 4`` bytes with rows and columns those of the padded model grid, the input slab
``depth x rows x columns x 4`` bytes, one batch of patches in and out, and at most
:data:`~spineviewer.ai.segmentation_intensity.SAMPLE_VOXELS` voxels for the percentiles. It
does not grow with the number of slices: a 1,000-slice 512 x 512 CT of 0.7 mm voxels
resampled to 1.5 x 1.0 x 1.0 mm (a 467 x 358 x 358 model grid) for a 64 x 128 x 128 patch and
13 classes accumulates in 14 x 64 x 358 x 358 x 4 bytes (460 MB), never in a 13 x 467 x 358 x
358 float32 volume (3.1 GB). :attr:`LabelMap.accumulator_shape` says which shape it had.

**Progress and cancel.** ``progress(done, total)`` is called after each batch with the patches
done and the number in all; ``check()`` is called before each batch and between series slices
while the statistics are read, and cancels by raising (the pipelines pass ``Context.check``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import ModelLabel, ModelManifest, SlidingWindow
from spineviewer.ai.runtime import ModelSession
from spineviewer.ai.segmentation_grid import ModelGrid, gaussian_weight
from spineviewer.ai.segmentation_intensity import Intensity, ModelSlices
from spineviewer.ai.segmentation_predict import (
    batch_size,
    label_dtype,
    label_values,
    labels_of,
    predict,
)
from spineviewer.ai.spine_levels import derive_levels

__all__ = [
    "BlendedOutputs",
    "LabelMap",
    "ScoreSlab",
    "blended_slabs",
    "segment",
    "sliding_window_of",
]

Progress = Callable[[int, int], None]
FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class ScoreSlab:
    """Blended outputs (classes, slices, rows, columns) of model-grid slices ``start`` on
    (the padding left out). A view of the accumulator: valid until the next slab is asked for."""

    start: int
    scores: FloatArray


@dataclass(frozen=True)
class LabelMap:
    """A segmentation of one series on its own grid."""

    #: (slices, rows, columns) like the series: 0 background, else a key of :attr:`values`.
    labels: NDArray[np.unsignedinteger]
    #: What each non-zero value stands for.
    values: dict[int, ModelLabel]
    model_id: str
    model_version: str
    #: What onnxruntime ran it on ("CUDAExecutionProvider", "CPUExecutionProvider").
    provider: str
    grid: ModelGrid
    #: The shape the outputs were accumulated in: (classes, depth, rows, columns).
    accumulator_shape: tuple[int, int, int, int]


def sliding_window_of(manifest: ModelManifest) -> SlidingWindow:
    """The manifest's sliding window; ValueError naming the model when it has none."""
    window = manifest.preprocessing.sliding_window
    if manifest.task != "segmentation" or window is None:
        raise ValueError(f"{manifest.id}: not a sliding-window segmentation model")
    return window


def segment(
    session: ModelSession,
    series: Any,
    spacing: Sequence[float],
    *,
    progress: Progress | None = None,
    check: Callable[[], None] | None = None,
) -> LabelMap:
    """The label map of ``series`` (k, j, i; an array or anything sliced like one, such as a
    memory map) with voxel ``spacing`` (mm, k j i), on the series' grid."""
    manifest = session.manifest
    run = BlendedOutputs(session, series, spacing, progress=progress, check=check)
    grid = run.grid
    post = manifest.postprocessing
    nearest = [grid.nearest_model(axis, np.arange(n)) for axis, n in enumerate(grid.series_shape)]
    if post is None:
        labels = np.zeros(grid.series_shape, dtype=label_dtype(manifest))
        for slab in run:
            _to_series(labels, labels_of(manifest, slab.scores), slab.start, nearest)
    else:  # the network's classes on the model grid, then the levels derived from them
        classes = np.zeros(grid.shape, dtype=np.uint8)
        for slab in run:
            model = labels_of(manifest, slab.scores)
            classes[slab.start : slab.start + len(model)] = model
        values = {label.name: n for n, label in enumerate(manifest.labels)}
        voxel = [n * s / m for n, s, m in zip(grid.series_shape, spacing, grid.shape, strict=True)]
        derived = derive_levels(classes, voxel, post.spine_levels, values)
        labels = np.zeros(grid.series_shape, dtype=derived.dtype)
        _to_series(labels, derived, 0, nearest)
    return LabelMap(
        labels,
        label_values(manifest),
        manifest.id,
        manifest.version,
        session.provider,
        grid,
        run.accumulator_shape,
    )


class BlendedOutputs:
    """The blended network outputs of a series on the model grid, as :class:`ScoreSlab` s from
    the first slice to the last (iterate once)."""

    def __init__(
        self,
        session: ModelSession,
        series: Any,
        spacing: Sequence[float],
        *,
        progress: Progress | None = None,
        check: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.series = series
        self.window = sliding_window_of(session.manifest)
        self.grid = ModelGrid.of(series.shape, spacing, self.window)
        self.progress = progress
        self.check = check or (lambda: None)
        starts_k, self.starts_j, self.starts_i = self.grid.tiles(self.window.overlap)
        self.batch = batch_size(session.manifest)
        per_row = len(self.starts_j) * len(self.starts_i)
        group = 1 if self.window.dims == 3 else max(1, self.batch // per_row)  # 2D: slices
        #: The patch starts along k taken in each pass, in order.
        self.passes = [starts_k[n : n + group] for n in range(0, len(starts_k), group)]
        self.total = len(starts_k) * per_row
        depth = max(rows[-1] - rows[0] + self.grid.patch[0] for rows in self.passes)
        _, rows, cols = self.grid.padded
        #: (classes, depth, rows, columns): the slab the outputs are accumulated in.
        self.accumulator_shape = (len(session.manifest.labels), depth, rows, cols)

    def __iter__(self) -> Iterator[ScoreSlab]:
        manifest, grid = self.session.manifest, self.grid
        acc = np.zeros(self.accumulator_shape, dtype=np.float32)
        weights = np.zeros(self.accumulator_shape[1:], dtype=np.float32)
        gauss = gaussian_weight(grid.patch)
        pk, pj, pi = grid.patch
        image = _Slab(
            ModelSlices(self.series, grid, Intensity.of(manifest, self.series, self.check))
        )
        done, extent = 0, grid.padded
        for n, rows in enumerate(self.passes):
            z0 = rows[0]
            data = image.move(z0, min(z0 + acc.shape[1], extent[0]))
            tiles = [(z, y, x) for z in rows for y in self.starts_j for x in self.starts_i]
            for b in range(0, len(tiles), self.batch):
                self.check()
                chunk = tiles[b : b + self.batch]
                patches = np.stack(
                    [data[z - z0 : z - z0 + pk, y : y + pj, x : x + pi] for z, y, x in chunk]
                )
                for (z, y, x), out in zip(chunk, predict(self.session, patches), strict=True):
                    where = (slice(z - z0, z - z0 + pk), slice(y, y + pj), slice(x, x + pi))
                    acc[(slice(None), *where)] += out * gauss
                    weights[where] += gauss
                done += len(chunk)
                if self.progress is not None:
                    self.progress(done, self.total)
            final = (self.passes[n + 1][0] if n + 1 < len(self.passes) else extent[0]) - z0
            acc[:, :final] /= weights[:final]
            slab = _real(grid, z0, acc[:, :final])
            if slab is not None:
                yield slab
            _shift(acc, weights, final)


def blended_slabs(
    session: ModelSession,
    series: Any,
    spacing: Sequence[float],
    *,
    progress: Progress | None = None,
    check: Callable[[], None] | None = None,
) -> Iterator[ScoreSlab]:
    """The blended network outputs of ``series`` on the model grid, first slices first."""
    return iter(BlendedOutputs(session, series, spacing, progress=progress, check=check))


def _to_series(
    labels: NDArray[np.unsignedinteger],
    model: NDArray[np.unsignedinteger],
    start: int,
    nearest: Sequence[NDArray[np.intp]],
) -> None:
    """Model-grid labels of slices ``start`` on written into the series' ``labels`` (nearest)."""
    first, stop = np.searchsorted(nearest[0], [start, start + len(model)])
    if first < stop:
        picked = model[nearest[0][first:stop] - start]
        labels[first:stop] = picked[:, nearest[1]][:, :, nearest[2]]


def _real(grid: ModelGrid, z0: int, scores: FloatArray) -> ScoreSlab | None:
    """The part of padded-grid slices ``z0`` on that is the resampled series, or None."""
    ok, oj, oi = grid.offset
    nk, nj, ni = grid.shape
    first, stop = max(z0, ok), min(z0 + scores.shape[1], ok + nk)
    if first >= stop:
        return None
    part = scores[:, first - z0 : stop - z0, oj : oj + nj, oi : oi + ni]
    return ScoreSlab(first - ok, part)


def _shift(acc: FloatArray, weights: FloatArray, final: int) -> None:
    """Drop the ``final`` finished slices from the front of the slab; zeros come in behind."""
    keep = acc.shape[1] - final
    acc[:, :keep] = acc[:, final:]
    acc[:, keep:] = 0.0
    weights[:keep] = weights[final:]
    weights[keep:] = 0.0


class _Slab:
    """The normalised input slab on the model grid, moved along k; slices it had are kept."""

    def __init__(self, slices: ModelSlices) -> None:
        self.slices = slices
        self.start = 0
        self.data = np.zeros((0, *slices.grid.padded[1:]), dtype=np.float32)

    def move(self, start: int, stop: int) -> FloatArray:
        """Slices ``start:stop`` of the padded model grid (start never goes back)."""
        held_stop = self.start + len(self.data)
        reuse = max(0, min(held_stop, stop) - start)
        fresh = self.slices.slab(start + reuse, stop)
        kept = self.data[start - self.start : start - self.start + reuse]
        self.data = np.concatenate([kept, fresh]) if reuse else fresh
        self.start = start
        return self.data
