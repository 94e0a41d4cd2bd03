"""Network inputs as the manifest describes them: letterbox, resampling, intensity scaling,
physical-size ROI crops and the (N, C, H, W) tensor (numpy only).

Shared by every pipeline, the training code and the evaluation, so a model sees at run time
exactly what it saw in training.

- Whole slices (detectors, whole-image classifiers): :func:`model_image` letterboxes a slice
  into the input ``size`` (aspect kept, centred, padded with 0); :class:`Letterbox` maps
  between the two pixel grids. Input coordinates are *edge coordinates* (pixel ``j`` covers
  ``[j, j + 1)``, the YOLO convention of the boxes); image positions are *index coordinates*
  (pixel ``c`` is centred on ``c``, like DICOM and :class:`~spineviewer.geometry.Plane`).
- ROI crops (the ROI technique of the lumbar disc papers, seed 000): a region of a fixed size
  in millimetres (``preprocessing.roi_mm``) centred on a structure, resampled to the input
  ``size``, then intensities mapped to 0..1 (percentiles of the crop, or a window) and
  MONOCHROME1 inverted when the manifest says ``invert``. The training samples
  (:mod:`spineviewer.training.phantom_data`) are made by exactly these steps.
- :func:`input_tensor`: scaled images -> the network's (N, C, H, W) input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.ai.manifest import ModelManifest
from spineviewer.geometry.resample import crop_physical, percentile_scale
from spineviewer.geometry.resample import percentiles as slice_percentiles

__all__ = [
    "Letterbox",
    "box_to_image",
    "crop_box_px",
    "input_tensor",
    "letterbox",
    "letterbox_image",
    "letterbox_scaled",
    "model_image",
    "normalise",
    "percentile_crop",
    "resample_axis",
    "roi_crop",
    "scaling_bounds",
    "whole_image",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Letterbox:
    """An image of ``rows`` x ``cols`` scaled by ``scale`` (input pixels per image column;
    ``row_scale`` per image row, the same unless the pixels are not square) and centred in
    ``size`` (h, w)."""

    rows: int
    cols: int
    size: tuple[int, int]
    scale: float
    pad_top: float
    pad_left: float
    row_scale: float | None = None

    @property
    def scale_r(self) -> float:
        """Input pixels per image row."""
        return self.scale if self.row_scale is None else self.row_scale

    def to_input(self, row: ArrayLike, col: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Image index coordinates (row, col) -> input edge coordinates (x, y)."""
        r = np.asarray(row, dtype=np.float64)
        c = np.asarray(col, dtype=np.float64)
        return (c + 0.5) * self.scale + self.pad_left, (r + 0.5) * self.scale_r + self.pad_top

    def to_image(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Input edge coordinates (x, y) -> image index coordinates (row, col)."""
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        return (ys - self.pad_top) / self.scale_r - 0.5, (xs - self.pad_left) / self.scale - 0.5

    def box_to_input(self, box_px: Sequence[float]) -> FloatArray:
        """An inclusive pixel box ``[x_min, y_min, x_max, y_max]`` of the image -> input xyxy."""
        x0, y0, x1, y1 = (float(v) for v in box_px)
        return np.array(
            [
                x0 * self.scale + self.pad_left,
                y0 * self.scale_r + self.pad_top,
                (x1 + 1.0) * self.scale + self.pad_left,
                (y1 + 1.0) * self.scale_r + self.pad_top,
            ]
        )


def box_to_image(box: Letterbox, xyxy: ArrayLike) -> tuple[float, float, float, float]:
    """An input-pixel box -> the same box in the image's pixel edge coordinates."""
    x0, y0, x1, y1 = (float(v) for v in np.asarray(xyxy, dtype=np.float64).ravel()[:4])
    return (
        (x0 - box.pad_left) / box.scale,
        (y0 - box.pad_top) / box.scale_r,
        (x1 - box.pad_left) / box.scale,
        (y1 - box.pad_top) / box.scale_r,
    )


def letterbox(
    rows: int,
    cols: int,
    size: tuple[int, int],
    spacing: tuple[float, float] | None = None,
    mm_per_pixel: float | None = None,
) -> Letterbox:
    """The letterbox of a ``rows`` x ``cols`` image in ``size`` (h, w), centred.

    Without ``spacing`` the pixels are taken as square: aspect kept, the image as large as
    fits. With ``spacing`` (row, column mm) the *physical* aspect is kept, so non-square
    pixels are stretched to square millimetres (a model trained on square pixels sees the
    anatomy's true shape). With ``mm_per_pixel`` as well, the scale is that many mm per input
    pixel instead of "as large as fits" (the rest padded), so every study reaches the network
    at one physical scale; an image too large to fit at that scale is zoomed out until it
    fits, never cut (a lumbar field of 400 mm must keep its sacrum).
    """
    if spacing is None or not all(v > 0 for v in spacing):
        scale = min(size[0] / rows, size[1] / cols)
        row_scale = None
    else:
        aspect = spacing[0] / spacing[1]  # input pixels per row, per input pixel per column
        if mm_per_pixel is not None:
            fits = max(rows * spacing[0] / size[0], cols * spacing[1] / size[1])
            scale = spacing[1] / max(mm_per_pixel, fits)
        else:
            scale = min(size[0] / (rows * aspect), size[1] / cols)
        row_scale = None if aspect == 1.0 else scale * aspect
    sr = scale if row_scale is None else row_scale
    return Letterbox(
        rows,
        cols,
        (int(size[0]), int(size[1])),
        scale,
        (size[0] - rows * sr) / 2.0,
        (size[1] - cols * scale) / 2.0,
        row_scale,
    )


def letterbox_image(
    values: ArrayLike,
    size: tuple[int, int],
    percentiles: tuple[float, float] = (0.5, 99.5),
    invert: bool = False,
) -> tuple[NDArray[np.float32], Letterbox]:
    """A slice -> the (h, w) model image in [0, 1] and its :class:`Letterbox`.

    Percentile scaling on the whole slice first (then ``1 - x`` when ``invert``: a
    MONOCHROME1 image shown as MONOCHROME2), then bilinear sampling at the input pixel
    centres; samples outside the slice are 0.
    """
    arr = np.asarray(values)
    return letterbox_scaled(arr, size, slice_percentiles(arr, *percentiles), invert)


def letterbox_scaled(
    values: NDArray[Any],
    size: tuple[int, int],
    bounds: tuple[float, float],
    invert: bool = False,
    spacing: tuple[float, float] | None = None,
    mm_per_pixel: float | None = None,
) -> tuple[NDArray[np.float32], Letterbox]:
    """``values`` scaled so ``bounds`` (low, high) become 0 and 1 (clipped), inverted when
    asked, then letterboxed into ``size`` with 0 outside the image (in physical proportions
    when the pixel ``spacing`` is given, at ``mm_per_pixel`` when that is given too:
    :func:`letterbox`).

    The same image as scaling the whole slice first and resampling it afterwards, computed
    the other way round: the source rows the letterbox samples are clipped to ``bounds`` in
    stored units, interpolated, and only the small result is scaled. Clipping and the
    affine scaling are monotonic and interpolation is linear, so the two orders agree (to
    float32 rounding) while the full-size slice is never converted.
    """
    rows, cols = values.shape
    box = letterbox(rows, cols, size, spacing, mm_per_pixel)
    r, _ = box.to_image(0.0, np.arange(size[0]) + 0.5)  # the input pixel centres
    _, c = box.to_image(np.arange(size[1]) + 0.5, 0.0)
    lo, hi = float(bounds[0]), float(bounds[1])
    out = _interpolate(values, r, 0, (lo, hi))
    out = _interpolate(out, c, 1)
    if hi > lo:
        out -= np.float32(lo)
        out /= np.float32(hi - lo)
        np.clip(out, 0.0, 1.0, out=out)  # float32 rounding only: the sources were clipped
    else:
        out[...] = 0.0  # no contrast
    if invert:
        np.subtract(1.0, out, out=out)
    out[~_inside(r, rows)] = 0.0
    out[:, ~_inside(c, cols)] = 0.0
    return out, box


def _inside(at: FloatArray, n: int) -> NDArray[np.bool_]:
    return (at >= -0.5) & (at <= n - 0.5)


def _interpolate(
    arr: NDArray[Any], at: FloatArray, axis: int, clip: tuple[float, float] | None = None
) -> NDArray[np.float32]:
    """Linear interpolation of ``arr`` at ``at`` along ``axis`` (positions clamped to the
    array), in float32; the gathered samples are clipped to ``clip`` first when given."""
    n = arr.shape[axis]
    pos = np.clip(at, 0.0, n - 1.0)
    lo = np.minimum(np.floor(pos).astype(np.intp), max(n - 2, 0))
    hi = np.minimum(lo + 1, n - 1)
    shape = [1, 1]
    shape[axis] = -1
    w = (pos - lo).astype(np.float32).reshape(shape)
    # np.take returns new arrays: both are ours to change in place
    out = np.take(arr, lo, axis=axis).astype(np.float32, copy=False)
    step = np.take(arr, hi, axis=axis).astype(np.float32, copy=False)
    if clip is not None:
        np.clip(out, clip[0], clip[1], out=out)
        np.clip(step, clip[0], clip[1], out=step)
    step -= out
    step *= w
    out += step  # a + (b - a) w
    return out


def resample_axis(arr: NDArray[Any], at: FloatArray, axis: int) -> NDArray[np.float32]:
    """Linear interpolation of ``arr`` at positions ``at`` along ``axis`` (0 outside)."""
    out = _interpolate(arr, at, axis)
    outside = np.flatnonzero(~_inside(at, arr.shape[axis]))
    if len(outside):
        index: list[Any] = [slice(None), slice(None)]
        index[axis] = outside
        out[tuple(index)] = 0.0
    return out


def model_image(
    manifest: ModelManifest,
    values: ArrayLike,
    monochrome1: bool = False,
    bounds: dict[Any, tuple[float, float]] | None = None,
    spacing: tuple[float, float] | None = None,
) -> tuple[NDArray[np.float32], Letterbox]:
    """One slice -> the (H, W) model image in [0, 1] as ``manifest.preprocessing`` says.

    ``monochrome1``: the slice's photometric interpretation is MONOCHROME1 (high values are
    dark); with the manifest's ``monochrome1: invert`` the scaled image is inverted, so the
    model always sees bone bright. ``spacing`` (row, column mm): non-square pixels are
    resampled to square millimetres, and the image is scaled to the manifest's
    ``mm_per_pixel`` when it gives one.
    """
    pre = manifest.preprocessing
    if pre.resize != "letterbox" or pre.roi_mm is not None:
        raise ValueError(f"{manifest.id}: expected a letterboxed whole slice (no roi_mm)")
    arr = np.asarray(values)
    invert = monochrome1 and pre.monochrome1 == "invert"
    return letterbox_scaled(
        arr, pre.size, scaling_bounds(manifest, arr, bounds), invert, spacing, pre.mm_per_pixel
    )


def scaling_bounds(
    manifest: ModelManifest, values: NDArray[Any], known: dict[Any, tuple[float, float]] | None
) -> tuple[float, float]:
    """The stored values the manifest's ``normalisation`` maps to 0 and 1 on this slice: its
    percentiles, or the window's edges. ``known`` remembers percentiles already computed for
    this slice (two models reading one radiograph need them once)."""
    norm = manifest.preprocessing.normalisation
    if norm.percentile is None:
        window = norm.window
        assert window is not None
        low = window.center - window.width / 2.0
        return low, low + window.width
    key = (norm.percentile.low, norm.percentile.high)
    if known is not None and key in known:
        return known[key]
    found = slice_percentiles(values, *key)
    if known is not None:
        known[key] = found
    return found


# -- ROI crops and tensors -------------------------------------------------------------------


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
