"""Running a detection model: YOLO-row and torchvision decoding, NMS (numpy only).

No torch, no Qt; shared by the training evaluation and the viewer's pipelines.

1. The input: :func:`~spineviewer.ai.preprocessing.model_image` (letterbox and intensity
   scaling as the manifest says; :class:`~spineviewer.ai.preprocessing.Letterbox` maps boxes
   back to the image).
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

from spineviewer.ai.manifest import DetectionDecoding, KeypointsDecoding, ModelManifest
from spineviewer.ai.preprocessing import Letterbox, input_tensor, model_image

__all__ = [
    "MAX_CANDIDATES",
    "Detections",
    "box_iou",
    "decode_predictions",
    "decode_torchvision",
    "detect",
    "nms",
    "suppress",
]

#: Rows entering NMS at most (the best scoring), as detection runners usually cap them.
MAX_CANDIDATES = 1000

FloatArray = NDArray[np.float64]


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
    spacing: tuple[float, float] | None = None,
) -> list[tuple[Detections, Letterbox]]:
    """Detections on each slice with an onnxruntime ``session`` of a detection model.

    ``yolo`` style: rows decoded and NMS-ed here (within each class when the manifest says
    ``nms_per_class``); ``torchvision`` style: the model's boxes, labels and scores, one image
    per run. ``normalised`` coordinates are scaled to input pixels. ``score_threshold``
    overrides the manifest's (e.g. a low one for precision-recall curves); ``monochrome1``
    says the slices are MONOCHROME1; ``bounds`` (one slice only) shares its scaling bounds
    between models (:func:`scaling_bounds`); ``spacing`` (row, column mm) keeps the slices'
    physical proportions when their pixels are not square.
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
    prepared = [model_image(manifest, values, monochrome1, bounds, spacing) for values in slices]
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
