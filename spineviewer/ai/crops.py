"""Physical-size ROI crops for classification models, as the manifest describes them.

The ROI technique of the lumbar disc papers (seed 000): a region of a fixed size in
millimetres (``preprocessing.roi_mm``) centred on a structure, resampled to the model's input
``size``, then intensities mapped to 0..1 (percentiles of the crop, or a window) and
MONOCHROME1 inverted when the manifest says ``invert``. The training samples
(:mod:`spineviewer.training.phantom_data`) are made by exactly these steps.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.ai.manifest import ModelManifest
from spineviewer.geometry.resample import crop_physical, percentile_scale

__all__ = [
    "crop_box_px",
    "input_tensor",
    "normalise",
    "percentile_crop",
    "roi_crop",
    "whole_image",
]


def input_tensor(manifest: ModelManifest, grey: NDArray[np.float32]) -> NDArray[np.float32]:
    """(N, H, W) images scaled to [0, 1] -> the (N, C, H, W) network input: each channel
    ``(x - mean) / std`` as the manifest says (grey repeated on every channel)."""
    pre = manifest.preprocessing
    channels = manifest.input.channel_count
    mean = np.resize(np.asarray(pre.mean, dtype=np.float32), channels)
    std = np.resize(np.asarray(pre.std, dtype=np.float32), channels)
    out = np.empty((grey.shape[0], channels, *grey.shape[1:]), dtype=np.float32)
    for ch in range(channels):
        np.subtract(grey, mean[ch], out=out[:, ch])
        out[:, ch] /= std[ch]
    return out


def normalise(
    manifest: ModelManifest, values: ArrayLike, monochrome1: bool = False
) -> NDArray[np.float32]:
    """Intensities mapped to 0..1 by the manifest's ``normalisation`` (and MONOCHROME1)."""
    pre = manifest.preprocessing
    if pre.normalisation.percentile is not None:
        p = pre.normalisation.percentile
        scaled = percentile_scale(np.asarray(values), p.low, p.high)
    else:
        arr = np.asarray(values, dtype=np.float32)
        window = pre.normalisation.window
        assert window is not None
        low = window.center - window.width / 2.0
        scaled = np.clip((arr - low) / window.width, 0.0, 1.0).astype(np.float32)
    if monochrome1 and pre.monochrome1 == "invert":
        scaled = (1.0 - scaled).astype(np.float32)
    return scaled


def percentile_crop(
    values: ArrayLike,
    centre_rc: tuple[float, float],
    spacing: tuple[float, float],
    roi_mm: tuple[float, float],
    size: tuple[int, int],
    percentiles: tuple[float, float] = (0.5, 99.5),
) -> NDArray[np.float32]:
    """A ``roi_mm`` crop centred on ``centre_rc`` (row, col), resampled to ``size``, outside
    filled with the image's minimum, scaled by its percentiles: the training samples' crop."""
    arr = np.asarray(values)
    patch = crop_physical(arr, centre_rc, spacing, roi_mm, size, fill=float(arr.min()))
    return percentile_scale(patch, *percentiles)


def roi_crop(
    manifest: ModelManifest,
    values: ArrayLike,
    centre_rc: tuple[float, float],
    spacing: tuple[float, float],
    monochrome1: bool = False,
) -> NDArray[np.float32]:
    """The model's (H, W) image in [0, 1] for the structure at ``centre_rc`` (row, col)."""
    pre = manifest.preprocessing
    if pre.roi_mm is None:
        raise ValueError(f"{manifest.id}: the manifest gives no roi_mm to crop")
    # the stored values as they are: crop_physical converts only the pixels it samples
    arr = np.asarray(values)
    patch = crop_physical(arr, centre_rc, spacing, pre.roi_mm, pre.size, fill=float(arr.min()))
    return normalise(manifest, patch, monochrome1)


def crop_box_px(
    manifest: ModelManifest, centre_rc: tuple[float, float], spacing: tuple[float, float]
) -> tuple[float, float, float, float]:
    """The crop's box ``[x_min, y_min, x_max, y_max]`` in the image's pixel edge coordinates."""
    assert manifest.preprocessing.roi_mm is not None
    h_mm, w_mm = manifest.preprocessing.roi_mm
    r, c = centre_rc
    half_r, half_c = h_mm / spacing[0] / 2, w_mm / spacing[1] / 2
    return (c + 0.5 - half_c, r + 0.5 - half_r, c + 0.5 + half_c, r + 0.5 + half_r)


def whole_image(
    manifest: ModelManifest, values: ArrayLike, monochrome1: bool = False
) -> NDArray[np.float32]:
    """A whole image as the model's (H, W) input in [0, 1]: normalised, then stretched or
    letterboxed to ``size`` as the manifest says."""
    from spineviewer.ai.detection import letterbox_scaled, resample_axis, scaling_bounds

    pre = manifest.preprocessing
    if pre.resize == "letterbox":  # as the detectors' input: only the sampled rows scaled
        arr = np.asarray(values)
        invert = monochrome1 and pre.monochrome1 == "invert"
        return letterbox_scaled(arr, pre.size, scaling_bounds(manifest, arr, None), invert)[0]
    scaled = normalise(manifest, values, monochrome1)
    rows, cols = scaled.shape
    r = (np.arange(pre.size[0]) + 0.5) * rows / pre.size[0] - 0.5
    c = (np.arange(pre.size[1]) + 0.5) * cols / pre.size[1] - 0.5
    return resample_axis(resample_axis(scaled, r, 0), c, 1)
