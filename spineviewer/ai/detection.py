"""Running a detection model: letterbox geometry, YOLO-row decoding, NMS (numpy only).

No torch, no Qt; shared by the training evaluation and the viewer's pipelines.

1. :func:`model_image`: a slice becomes the model input exactly as the manifest's
   ``preprocessing`` describes it: intensities scaled to 0..1 (``percentile`` of the whole
   slice, or a ``window``), MONOCHROME1 inverted when the manifest says ``invert``, then the
   slice is letterboxed (aspect kept, centred, padded with 0) into ``size`` pixels.
   :class:`Letterbox` maps between the two pixel grids. Coordinates in the input are *edge
   coordinates* (pixel ``j`` covers ``[j, j + 1)``, the YOLO convention of the boxes); image
   positions are *index coordinates* (pixel ``c`` is centred on ``c``, like DICOM and
   :class:`~spineviewer.geometry.Plane`).
2. :func:`decode_predictions`: YOLO-style rows ``(K, 4 + C + 3P)`` (box ``cx, cy, w, h`` in
   input pixels, one score per class, then ``x, y, score`` of each of the ``P`` keypoints of a
   ``keypoints`` model) -> detections above the score threshold, class = the best-scoring
   class, then **class-agnostic** non-maximum suppression (:func:`nms`) unless asked per class.
3. :func:`detect`: both steps for a batch of slices with an onnxruntime session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.ai.crops import input_tensor
from spineviewer.ai.manifest import DetectionDecoding, KeypointsDecoding, ModelManifest
from spineviewer.geometry.resample import percentiles as slice_percentiles

__all__ = [
    "MAX_CANDIDATES",
    "Detections",
    "Letterbox",
    "box_iou",
    "box_to_image",
    "decode_predictions",
    "decode_torchvision",
    "detect",
    "letterbox",
    "letterbox_image",
    "letterbox_scaled",
    "model_image",
    "nms",
    "resample_axis",
    "scaling_bounds",
    "suppress",
]

#: Rows entering NMS at most (the best scoring), as detection runners usually cap them.
MAX_CANDIDATES = 1000

FloatArray = NDArray[np.float64]


# -- input geometry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Letterbox:
    """An image of ``rows`` x ``cols`` scaled by ``scale`` and centred in ``size`` (h, w)."""

    rows: int
    cols: int
    size: tuple[int, int]
    scale: float
    pad_top: float
    pad_left: float

    def to_input(self, row: ArrayLike, col: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Image index coordinates (row, col) -> input edge coordinates (x, y)."""
        r = np.asarray(row, dtype=np.float64)
        c = np.asarray(col, dtype=np.float64)
        return (c + 0.5) * self.scale + self.pad_left, (r + 0.5) * self.scale + self.pad_top

    def to_image(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Input edge coordinates (x, y) -> image index coordinates (row, col)."""
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        return (ys - self.pad_top) / self.scale - 0.5, (xs - self.pad_left) / self.scale - 0.5

    def box_to_input(self, box_px: Sequence[float]) -> FloatArray:
        """An inclusive pixel box ``[x_min, y_min, x_max, y_max]`` of the image -> input xyxy."""
        x0, y0, x1, y1 = (float(v) for v in box_px)
        return np.array(
            [
                x0 * self.scale + self.pad_left,
                y0 * self.scale + self.pad_top,
                (x1 + 1.0) * self.scale + self.pad_left,
                (y1 + 1.0) * self.scale + self.pad_top,
            ]
        )


def box_to_image(box: Letterbox, xyxy: ArrayLike) -> tuple[float, float, float, float]:
    """An input-pixel box -> the same box in the image's pixel edge coordinates."""
    x0, y0, x1, y1 = (float(v) for v in np.asarray(xyxy, dtype=np.float64).ravel()[:4])
    return (
        (x0 - box.pad_left) / box.scale,
        (y0 - box.pad_top) / box.scale,
        (x1 - box.pad_left) / box.scale,
        (y1 - box.pad_top) / box.scale,
    )


def letterbox(rows: int, cols: int, size: tuple[int, int]) -> Letterbox:
    """The letterbox of a ``rows`` x ``cols`` image in ``size`` (h, w): aspect kept, centred."""
    scale = min(size[0] / rows, size[1] / cols)
    return Letterbox(
        rows,
        cols,
        (int(size[0]), int(size[1])),
        scale,
        (size[0] - rows * scale) / 2.0,
        (size[1] - cols * scale) / 2.0,
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
    values: NDArray[Any], size: tuple[int, int], bounds: tuple[float, float], invert: bool = False
) -> tuple[NDArray[np.float32], Letterbox]:
    """``values`` scaled so ``bounds`` (low, high) become 0 and 1 (clipped), inverted when
    asked, then letterboxed into ``size`` with 0 outside the image.

    The same image as scaling the whole slice first and resampling it afterwards, computed
    the other way round: the source rows the letterbox samples are clipped to ``bounds`` in
    stored units, interpolated, and only the small result is scaled. Clipping and the
    affine scaling are monotonic and interpolation is linear, so the two orders agree (to
    float32 rounding) while the full-size slice is never converted.
    """
    rows, cols = values.shape
    box = letterbox(rows, cols, size)
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


# -- decoding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detections:
    """Boxes ``(n, 4)`` xyxy in input pixels, ``scores`` ``(n,)``, ``classes`` ``(n,)`` indices;
    ``class_scores`` ``(n, C)`` every class's score of each box, when known; ``keypoints``
    ``(n, P, 3)`` (x, y in input pixels, score) of a keypoints model."""

    boxes: FloatArray
    scores: FloatArray
    classes: NDArray[np.int64]
    class_scores: FloatArray | None = None
    keypoints: FloatArray | None = None

    def scores_of(self, cls: int) -> FloatArray:
        """Each box's score for class ``cls`` (its own score or 0 without ``class_scores``)."""
        if self.class_scores is not None:
            return np.asarray(self.class_scores[:, cls], dtype=np.float64)
        return np.where(self.classes == cls, self.scores, 0.0)

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def centres(self) -> FloatArray:
        """``(n, 2)`` box centres (x, y) in input pixels."""
        return np.stack(
            [(self.boxes[:, 0] + self.boxes[:, 2]) / 2, (self.boxes[:, 1] + self.boxes[:, 3]) / 2],
            axis=1,
        )

    def take(self, index: ArrayLike) -> Detections:
        idx = np.asarray(index, dtype=np.int64)
        per_class = self.class_scores[idx] if self.class_scores is not None else None
        points = self.keypoints[idx] if self.keypoints is not None else None
        return Detections(self.boxes[idx], self.scores[idx], self.classes[idx], per_class, points)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64))


def box_iou(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """IoU matrix ``(n, m)`` of xyxy boxes."""
    aa = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    bb = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(aa[:, None, :2], bb[None, :, :2])
    rb = np.minimum(aa[:, None, 2:], bb[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0.0, None), axis=2)
    area_a = np.prod(np.clip(aa[:, 2:] - aa[:, :2], 0.0, None), axis=1)
    area_b = np.prod(np.clip(bb[:, 2:] - bb[:, :2], 0.0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float) -> NDArray[np.int64]:
    """Indices of the boxes kept by greedy NMS, best score first (ties: lower index first).

    A box is dropped when its IoU with an already kept box is *greater* than ``iou_threshold``.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    s = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(-s, kind="stable")
    overlaps = box_iou(b[order], b[order]) > iou_threshold  # one matrix, best first
    keep = np.ones(len(order), dtype=bool)
    for i in range(len(order)):
        if keep[i]:
            keep[i + 1 :] &= ~overlaps[i, i + 1 :]
    return order[keep].astype(np.int64)


def decode_predictions(
    predictions: ArrayLike,
    score_threshold: float,
    nms_iou: float,
    box_format: str = "cxcywh",
    max_candidates: int = MAX_CANDIDATES,
    num_classes: int | None = None,
    per_class: bool = False,
) -> Detections:
    """YOLO-style rows ``(K, 4 + C + 3P)`` (or ``(1, K, ...)``) -> NMS-ed detections, best first.

    ``num_classes`` (C) splits class scores from keypoints; without it every value after the
    box is a class score. Rows scoring at least ``score_threshold`` (the best
    ``max_candidates`` of them) enter NMS: class-agnostic (one object, one detection), or
    within each class when ``per_class`` (objects of different classes may overlap, such as a
    pedicle screw under a rod).
    """
    rows = np.asarray(predictions)
    if rows.dtype.kind != "f":
        rows = rows.astype(np.float64)
    if rows.ndim == 3:
        if rows.shape[0] != 1:
            raise ValueError(f"decode one image at a time, not a batch of {rows.shape[0]}")
        rows = rows[0]
    classes_n = rows.shape[1] - 4 if num_classes is None and rows.ndim == 2 else num_classes
    if rows.ndim != 2 or classes_n is None or classes_n < 1 or rows.shape[1] < 4 + classes_n:
        raise ValueError(f"predictions must be (K, 4 + C + 3P), not {rows.shape}")
    extra = rows.shape[1] - 4 - classes_n
    if extra % 3:
        raise ValueError(f"{extra} values after the {classes_n} class scores: not 3 per point")
    # Only rows whose best class reaches the threshold go on, in float64 (most rows of a
    # YOLO head are background: converting them all cost more than the rest of decoding).
    best = rows[:, 4 : 4 + classes_n].max(axis=1).astype(np.float64)
    rows = rows[best >= score_threshold].astype(np.float64)
    scores_all = rows[:, 4 : 4 + classes_n]
    classes = np.argmax(scores_all, axis=1)
    scores = scores_all[np.arange(len(rows)), classes]
    keep = np.arange(len(rows))
    if len(keep) > max_candidates:
        keep = keep[np.argsort(-scores[keep], kind="stable")[:max_candidates]]
    boxes = rows[keep, :4]
    if box_format == "cxcywh":
        boxes = np.concatenate(
            [boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], 1
        )
    elif box_format != "xyxy":
        raise ValueError(f"unknown box format {box_format!r}")
    points = rows[keep, 4 + classes_n :].reshape(len(keep), extra // 3, 3) if extra else None
    found = Detections(
        boxes, scores[keep], classes[keep].astype(np.int64), scores_all[keep], points
    )
    return suppress(found, nms_iou, per_class)


def suppress(found: Detections, nms_iou: float, per_class: bool = False) -> Detections:
    """NMS over all detections (one object, one box) or within each class; best first."""
    groups = (
        [np.flatnonzero(found.classes == c) for c in np.unique(found.classes)]
        if per_class
        else [np.arange(len(found))]
    )
    kept = [g[nms(found.boxes[g], found.scores[g], nms_iou)] for g in groups]
    merged = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    return found.take(merged[np.argsort(-found.scores[merged], kind="stable")])


# -- running the model ---------------------------------------------------------------------------


def model_image(
    manifest: ModelManifest,
    values: ArrayLike,
    monochrome1: bool = False,
    bounds: dict[Any, tuple[float, float]] | None = None,
) -> tuple[NDArray[np.float32], Letterbox]:
    """One slice -> the (H, W) model image in [0, 1] as ``manifest.preprocessing`` says.

    ``monochrome1``: the slice's photometric interpretation is MONOCHROME1 (high values are
    dark); with the manifest's ``monochrome1: invert`` the scaled image is inverted, so the
    model always sees bone bright.
    """
    pre = manifest.preprocessing
    if pre.resize != "letterbox" or pre.roi_mm is not None:
        raise ValueError(f"{manifest.id}: expected a letterboxed whole slice (no roi_mm)")
    arr = np.asarray(values)
    invert = monochrome1 and pre.monochrome1 == "invert"
    return letterbox_scaled(arr, pre.size, scaling_bounds(manifest, arr, bounds), invert)


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


def decode_torchvision(
    boxes: ArrayLike,
    labels: ArrayLike,
    scores: ArrayLike,
    score_threshold: float,
    nms_iou: float | None = None,
    box_format: str = "xyxy",
    keypoints: ArrayLike | None = None,
    per_class: bool = False,
) -> Detections:
    """torchvision-style outputs of one image (``boxes`` (n, 4), ``labels`` (n,), ``scores``
    (n,), optional ``keypoints`` (n, P, 3)) -> detections above the threshold, best first; an
    extra NMS pass when ``nms_iou`` is given (the model already ran its own)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    s = np.asarray(scores, dtype=np.float64).ravel()
    c = np.asarray(labels).astype(np.int64).ravel()
    if not len(b) == len(s) == len(c):
        raise ValueError(f"{len(b)} boxes, {len(c)} labels and {len(s)} scores do not match")
    if box_format == "cxcywh":
        b = np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], 1)
    elif box_format != "xyxy":
        raise ValueError(f"unknown box format {box_format!r}")
    points = None if keypoints is None else np.asarray(keypoints, dtype=np.float64)
    found = Detections(b, s, c, None, points)
    found = found.take(np.flatnonzero(s >= score_threshold))
    if nms_iou is not None:
        return suppress(found, nms_iou, per_class)
    return found.take(np.argsort(-found.scores, kind="stable"))


def _yolo_rows(rows: np.ndarray, row_length: int) -> np.ndarray:
    """(N, K, row) rows, whichever of the last two axes the model put the row on."""
    if rows.shape[-1] != row_length and rows.shape[-2] == row_length:
        return np.swapaxes(rows, -1, -2)
    return rows


def detect(
    manifest: ModelManifest,
    session: Any,
    slices: Sequence[ArrayLike],
    batch: int = 16,
    score_threshold: float | None = None,
    monochrome1: bool = False,
    bounds: dict[Any, tuple[float, float]] | None = None,
) -> list[tuple[Detections, Letterbox]]:
    """Detections on each slice with an onnxruntime ``session`` of a detection model.

    ``yolo`` style: rows decoded and NMS-ed here (within each class when the manifest says
    ``nms_per_class``); ``torchvision`` style: the model's boxes, labels and scores, one image
    per run. ``normalised`` coordinates are scaled to input pixels. ``score_threshold``
    overrides the manifest's (e.g. a low one for precision-recall curves); ``monochrome1``
    says the slices are MONOCHROME1; ``bounds`` (one slice only) shares its scaling bounds
    between models (:func:`scaling_bounds`).
    """
    decoding = manifest.decoding
    if not isinstance(decoding, DetectionDecoding):
        raise ValueError(f"{manifest.id}: not a detection model")
    pre = manifest.preprocessing
    threshold = decoding.score_threshold if score_threshold is None else score_threshold
    per_class = bool(decoding.nms_per_class)
    points = len(decoding.points) if isinstance(decoding, KeypointsDecoding) else 0
    classes = len(manifest.labels)
    if bounds is not None and len(slices) != 1:
        raise ValueError("bounds are remembered for one slice, not for several")
    prepared = [model_image(manifest, values, monochrome1, bounds) for values in slices]
    out: list[tuple[Detections, Letterbox]] = []
    step = batch if decoding.style == "yolo" else 1
    for start in range(0, len(prepared), step):
        chunk = prepared[start : start + step]
        feed = {manifest.input.name: input_tensor(manifest, np.stack([im for im, _ in chunk]))}
        if decoding.style == "yolo":
            (rows,) = session.run([decoding.tensors["predictions"]], feed)
            rows = _yolo_rows(np.asarray(rows), 4 + classes + 3 * points)
            if decoding.coordinates == "normalised":
                rows = _scale_rows(rows, pre.size, classes)
            nms_iou = decoding.nms_iou if decoding.nms_iou is not None else 0.5
            for r, (_, box) in zip(rows, chunk, strict=True):
                found = decode_predictions(
                    r, threshold, nms_iou, decoding.box_format, num_classes=classes,
                    per_class=per_class,
                )  # fmt: skip
                out.append((found, box))
            continue
        roles = ["boxes", "labels", "scores", *(["keypoints"] if points else [])]
        results = session.run([decoding.tensors[r] for r in roles], feed)
        named = dict(zip(roles, (np.asarray(v) for v in results), strict=True))
        if decoding.coordinates == "normalised":
            named["boxes"] = named["boxes"] * np.array(pre.size[::-1] * 2, dtype=np.float64)
        found = decode_torchvision(
            named["boxes"], named["labels"], named["scores"], threshold, decoding.nms_iou,
            decoding.box_format, named.get("keypoints"), per_class,
        )  # fmt: skip
        out.append((found, chunk[0][1]))
    return out


def _scale_rows(rows: np.ndarray, size: tuple[int, int], classes: int) -> np.ndarray:
    """Normalised YOLO rows -> input pixels (boxes, and the x, y of every keypoint)."""
    h, w = size
    scaled = np.array(rows, dtype=np.float64, copy=True)
    scaled[..., 0:4] *= np.array([w, h, w, h], dtype=np.float64)
    scaled[..., 4 + classes :: 3] *= w
    scaled[..., 5 + classes :: 3] *= h
    return scaled
