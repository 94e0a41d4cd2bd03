"""The model's grid of a series, the patches that tile it and their blending weight (numpy only).

A series is an array (slice k, row j, column i) with a spacing in mm per axis. The model grid
has the manifest's ``spacing_mm`` (a 2D network keeps the series' own slices: only rows and
columns are resampled), ``round(n * spacing / target)`` voxels per axis (nnU-Net's rule), and
is padded, centred, to at least one patch per axis. Voxel centres are edge-aligned: model
voxel ``m`` of an axis of ``N`` lies at series index ``(m + 0.5) * n / N - 0.5``, so both grids
cover the same extent; the series voxel ``s`` takes the label of model voxel
``floor((s + 0.5) * N / n)`` (nearest).

Patches: :func:`tile_starts` places them as nnU-Net does (steps of at most ``patch * (1 -
overlap)``, spread evenly so the first starts at 0 and the last ends at the edge);
:func:`gaussian_weight` is the blending weight, a Gaussian of sigma 1/8 of the patch per axis
centred on the patch (largest 1), so a voxel's output is dominated by the patches that see it
near their centre and the patch borders leave no seams.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import SlidingWindow

__all__ = ["ModelGrid", "gaussian_weight", "tile_starts"]

Shape3 = tuple[int, int, int]


@dataclass(frozen=True)
class ModelGrid:
    """A series' shape and the model grid it is resampled to; all in (k, j, i) order."""

    series_shape: Shape3
    #: The resampled series, before padding.
    shape: Shape3
    #: The patch; depth 1 for a 2D network.
    patch: Shape3
    #: Whether the slice axis is resampled (a 3D network) or kept (a 2D one).
    resample_slices: bool

    @classmethod
    def of(
        cls, series_shape: Sequence[int], spacing: Sequence[float], window: SlidingWindow
    ) -> ModelGrid:
        """The grid for a series of ``series_shape`` at ``spacing`` (mm, k j i)."""
        if len(series_shape) != 3 or len(spacing) != 3:
            raise ValueError("a series is 3D (slices, rows, columns), with 3 spacings")
        if not all(n >= 1 for n in series_shape) or not all(s > 0 for s in spacing):
            raise ValueError(f"empty series {tuple(series_shape)} or spacing {tuple(spacing)}")
        target = (spacing[0], *window.spacing_mm) if window.dims == 2 else window.spacing_mm
        patch = (1, *window.patch_size) if window.dims == 2 else window.patch_size
        shape = tuple(
            max(1, round(n * s / t)) for n, s, t in zip(series_shape, spacing, target, strict=True)
        )
        k, j, i = (int(n) for n in series_shape)
        pk, pj, pi = (int(n) for n in patch)
        nk, nj, ni = (int(n) for n in shape)
        return cls((k, j, i), (nk, nj, ni), (pk, pj, pi), window.dims == 3)

    @property
    def padded(self) -> Shape3:
        """The model grid padded to at least one patch per axis."""
        k, j, i = (max(n, p) for n, p in zip(self.shape, self.patch, strict=True))
        return k, j, i

    @property
    def offset(self) -> Shape3:
        """Where the resampled series starts in :attr:`padded` (the padding is centred)."""
        k, j, i = ((e - n) // 2 for e, n in zip(self.padded, self.shape, strict=True))
        return k, j, i

    def series_positions(self, axis: int, model: NDArray[np.intp]) -> NDArray[np.float64]:
        """Series index coordinates of model voxels ``model`` (unpadded) along ``axis``."""
        n, big_n = self.series_shape[axis], self.shape[axis]
        return np.asarray((model + 0.5) * (n / big_n) - 0.5, dtype=np.float64)

    def nearest_model(self, axis: int, series: NDArray[np.intp]) -> NDArray[np.intp]:
        """The model voxel (unpadded) nearest each series voxel ``series`` along ``axis``."""
        n, big_n = self.series_shape[axis], self.shape[axis]
        found = np.floor((series + 0.5) * (big_n / n)).astype(np.intp)
        return np.clip(found, 0, big_n - 1)

    def tiles(self, overlap: float) -> tuple[list[int], list[int], list[int]]:
        """Patch starts per axis in the padded grid (a 2D network: every slice)."""
        extent, patch = self.padded, self.patch
        starts = [tile_starts(e, p, overlap) for e, p in zip(extent, patch, strict=True)]
        return starts[0], starts[1], starts[2]


def tile_starts(extent: int, patch: int, overlap: float) -> list[int]:
    """Starts of patches of ``patch`` covering ``extent`` (>= patch), neighbours sharing at
    least ``overlap`` of a patch: nnU-Net's ``compute_steps_for_sliding_window``."""
    if extent < patch:
        raise ValueError(f"extent {extent} is smaller than the patch {patch}")
    if extent == patch:
        return [0]
    target = max(1.0, patch * (1.0 - overlap))
    count = math.ceil((extent - patch) / target) + 1
    step = (extent - patch) / (count - 1)
    return [round(step * n) for n in range(count)]


def gaussian_weight(patch: Sequence[int]) -> NDArray[np.float32]:
    """The blending weight of a patch: per axis a Gaussian of sigma ``p / 8`` centred on the
    patch, largest 1 (an axis of 1 voxel weighs 1)."""
    weight = np.ones((), dtype=np.float64)
    for p in patch:
        x = np.arange(p, dtype=np.float64) - (p - 1) / 2.0
        sigma = p / 8.0
        axis = np.exp(-0.5 * (x / sigma) ** 2) if p > 1 else np.ones(1)
        weight = np.multiply.outer(weight, axis / axis.max())
    return weight.astype(np.float32)
