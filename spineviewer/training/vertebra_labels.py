"""Vertebral bodies on sagittal MR: from the detector's output to labelled bodies (numpy only).

No torch, no Qt: the viewer's pipeline reuses this module as it is. Steps (SPINE_PIPELINE.md
steps 2-3):

1. :func:`letterbox_image`: a slice becomes the model input exactly as the manifest describes
   it: intensities scaled so the ``low``/``high`` percentiles of the *whole slice* become 0/1,
   then the slice is letterboxed (aspect kept, centred, padded with 0) into ``size`` pixels.
   :class:`Letterbox` maps between the two pixel grids. Coordinates in the input are *edge
   coordinates* (pixel ``j`` covers ``[j, j + 1)``, the YOLO convention of the boxes); image
   positions are *index coordinates* (pixel ``c`` is centred on ``c``, like DICOM and
   :class:`~spineviewer.geometry.Plane`).
2. :func:`decode_predictions`: YOLO-style rows ``(K, 4 + C)`` (box ``cx, cy, w, h`` in input
   pixels, then one score per class) -> detections above the score threshold, class = the
   best-scoring class, then **class-agnostic** non-maximum suppression (:func:`nms`): one body
   is one detection, whether it was called ``vertebra`` or ``S1``.
3. :func:`assign_labels`: labelling by order. The most sacral-looking body (the highest
   ``S1`` class score, at least :data:`SACRAL_MIN`; over several slices the mean on the
   central ones) is S1; bodies below it are dropped (sacral segments, false positives); the
   bodies above it are L5, L4, ... L1, T12, T11 ... upward. A gap between two neighbours
   larger than :data:`GAP_FACTOR` times the median gap counts as missed bodies and skips their
   labels. Without a sacral-looking body the bottom-most body is taken as S1 and a warning says
   so; fewer than 6 bodies gives a warning too.
4. :func:`label_slice` (one slice) and :func:`fuse_slices` (several parallel slices of one
   sagittal stack, the pipeline's way): detections are grouped across slices by their position
   projected onto the reference (middle) slice; a group must be seen on the reference slice or
   a neighbour of it, its class is the score-weighted vote of its detections. The group's
   in-plane centre is the score-weighted mean of its detections on the central slices; its
   position along the slice normal (left-right) is the width-weighted mean of the positions of
   the slices showing it (:func:`lateral_centre`), so the centre in patient mm is the body's
   centre, not its intersection with the middle slice (on the held-out phantoms this takes the
   mean error from about 1.3 mm to about 0.5 mm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.ai.manifest import DetectionDecoding, ModelManifest
from spineviewer.geometry.resample import percentile_scale

__all__ = [
    "CLASS_NAMES",
    "GAP_FACTOR",
    "LABELS_UPWARD",
    "Body",
    "Detections",
    "Labelling",
    "Letterbox",
    "SliceDetections",
    "assign_labels",
    "box_iou",
    "decode_predictions",
    "detect",
    "fuse_slices",
    "label_slice",
    "lateral_centre",
    "letterbox",
    "letterbox_image",
    "letterbox_resample",
    "model_image",
    "nms",
]

#: The detector's classes, in output order: a lumbar/thoracic body, the sacral (S1) body.
CLASS_NAMES: tuple[str, ...] = ("vertebra", "S1")
#: Labels given by order, from the bottom (S1) upward.
LABELS_UPWARD: tuple[str, ...] = (
    "S1",
    "L5",
    "L4",
    "L3",
    "L2",
    "L1",
    *(f"T{n}" for n in range(12, 0, -1)),
)
#: A gap between neighbouring bodies this many times the median gap means missed bodies.
GAP_FACTOR = 1.6
#: The sacral score a body needs to be taken as S1 (:func:`assign_labels`).
SACRAL_MIN = 0.2
#: Fewer bodies than this gives a warning (T12 or L1 down to S1).
MIN_BODIES = 6
#: Rows entering NMS at most (the best scoring), as detection runners usually cap them.
MAX_CANDIDATES = 1000
#: Weights of the slices in :func:`lateral_centre`: the body's width to this power.
LATERAL_POWER = 4.0

FloatArray = NDArray[np.float64]


class PlaneLike(Protocol):
    """What is needed of :class:`spineviewer.geometry.Plane`."""

    @property
    def normal(self) -> FloatArray: ...

    @property
    def spacing(self) -> tuple[float, float]: ...

    def to_patient(self, row: ArrayLike, col: ArrayLike) -> FloatArray: ...

    def to_pixel(self, point: ArrayLike) -> tuple[FloatArray, FloatArray]: ...

    def distance(self, point: ArrayLike) -> FloatArray: ...


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
    values: ArrayLike, size: tuple[int, int], percentiles: tuple[float, float] = (0.5, 99.5)
) -> tuple[NDArray[np.float32], Letterbox]:
    """A slice -> the (h, w) model image in [0, 1] and its :class:`Letterbox`.

    Percentile scaling on the whole slice first, then bilinear sampling at the input pixel
    centres; samples outside the slice are 0.
    """
    return letterbox_resample(percentile_scale(np.asarray(values), *percentiles), size)


def letterbox_resample(
    image: ArrayLike, size: tuple[int, int]
) -> tuple[NDArray[np.float32], Letterbox]:
    """An image already scaled to [0, 1] letterboxed into ``size``: bilinear sampling at the
    input pixel centres, 0 outside the image."""
    arr = np.asarray(image, dtype=np.float32)
    rows, cols = arr.shape
    box = letterbox(rows, cols, size)
    r, _ = box.to_image(0.0, np.arange(size[0]) + 0.5)
    _, c = box.to_image(np.arange(size[1]) + 0.5, 0.0)
    out = resample_axis(arr, r, axis=0)
    out = resample_axis(out, c, axis=1)
    return out.astype(np.float32), box


def resample_axis(arr: NDArray[np.float32], at: FloatArray, axis: int) -> NDArray[np.float32]:
    """Linear interpolation of ``arr`` at positions ``at`` along ``axis`` (0 outside)."""
    n = arr.shape[axis]
    inside = (at >= -0.5) & (at <= n - 0.5)
    pos = np.clip(at, 0.0, n - 1.0)
    lo = np.minimum(np.floor(pos).astype(int), max(n - 2, 0))
    hi = np.minimum(lo + 1, n - 1)
    w = (pos - lo).astype(np.float32)
    a = np.take(arr, lo, axis=axis)
    b = np.take(arr, hi, axis=axis)
    shape = [1, 1]
    shape[axis] = -1
    out = a * (1.0 - w.reshape(shape)) + b * w.reshape(shape)
    return np.where(inside.reshape(shape), out, 0.0).astype(np.float32)


# -- decoding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detections:
    """Boxes ``(n, 4)`` xyxy in input pixels, ``scores`` ``(n,)``, ``classes`` ``(n,)`` indices;
    ``class_scores`` ``(n, C)`` every class's score of each box, when known."""

    boxes: FloatArray
    scores: FloatArray
    classes: NDArray[np.int64]
    class_scores: FloatArray | None = None

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
        return Detections(self.boxes[idx], self.scores[idx], self.classes[idx], per_class)

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
    kept: list[int] = []
    while len(order):
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        order = rest[box_iou(b[best], b[rest])[0] <= iou_threshold]
    return np.asarray(kept, dtype=np.int64)


def decode_predictions(
    predictions: ArrayLike,
    score_threshold: float,
    nms_iou: float,
    box_format: str = "cxcywh",
    max_candidates: int = MAX_CANDIDATES,
) -> Detections:
    """YOLO-style rows ``(K, 4 + C)`` (or ``(1, K, 4 + C)``) -> NMS-ed detections, best first.

    Rows scoring at least ``score_threshold`` (the best ``max_candidates`` of them) enter NMS.
    """
    rows = np.asarray(predictions, dtype=np.float64)
    if rows.ndim == 3:
        if rows.shape[0] != 1:
            raise ValueError(f"decode one image at a time, not a batch of {rows.shape[0]}")
        rows = rows[0]
    if rows.ndim != 2 or rows.shape[1] < 5:
        raise ValueError(f"predictions must be (K, 4 + C), not {rows.shape}")
    scores_all = rows[:, 4:]
    classes = np.argmax(scores_all, axis=1)
    scores = scores_all[np.arange(len(rows)), classes]
    keep = np.flatnonzero(scores >= score_threshold)
    if len(keep) > max_candidates:
        keep = keep[np.argsort(-scores[keep], kind="stable")[:max_candidates]]
    boxes = rows[keep, :4]
    if box_format == "cxcywh":
        boxes = np.concatenate(
            [boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], 1
        )
    elif box_format != "xyxy":
        raise ValueError(f"unknown box format {box_format!r}")
    found = Detections(boxes, scores[keep], classes[keep].astype(np.int64), scores_all[keep])
    return found.take(nms(found.boxes, found.scores, nms_iou))


# -- labelling by order --------------------------------------------------------------------------


def assign_labels(
    heights: ArrayLike, sacral: ArrayLike, scores: ArrayLike, sacral_min: float = SACRAL_MIN
) -> tuple[list[str | None], list[str]]:
    """Labels for bodies at ``heights`` (larger = more superior) and warnings.

    ``sacral``: how sacral each body looks (its S1 score, or True/False), ``scores`` the
    confidence that it is a body at all. S1 is the body with the highest ``sacral`` value, ties
    broken by ``scores``, when that value reaches ``sacral_min``; otherwise the bottom-most
    body, with a warning. Returns one label per body (``None`` for a body dropped below S1 or
    above T1) and the warnings.
    """
    h = np.asarray(heights, dtype=np.float64).ravel()
    sac = np.asarray(sacral, dtype=np.float64).ravel()
    sc = np.asarray(scores, dtype=np.float64).ravel()
    labels: list[str | None] = [None] * len(h)
    warnings: list[str] = []
    if not len(h):
        return labels, ["no vertebral body found"]
    best = int(np.lexsort((-sc, -sac))[0])
    if sac[best] >= sacral_min:
        s1 = best
    else:
        s1 = int(np.argmin(h))
        warnings.append("no sacral-shaped body found: the bottom-most body was taken as S1")
    above = [i for i in np.argsort(h, kind="stable") if h[i] > h[s1]]
    below = sum(1 for i in range(len(h)) if h[i] < h[s1])
    if below:
        warnings.append(f"{below} bod{'y' if below == 1 else 'ies'} below S1 ignored")
    chain = [s1, *above]
    steps = np.diff(h[chain])
    typical = float(np.median(steps)) if len(steps) >= 2 else 0.0
    level = 0
    labels[s1] = LABELS_UPWARD[0]
    for k, i in enumerate(above):
        skip = 0
        if typical > 0 and steps[k] > GAP_FACTOR * typical:
            skip = max(1, round(float(steps[k]) / typical) - 1)
            warnings.append(f"{skip} bod{'y' if skip == 1 else 'ies'} missed below body {k + 2}")
        level += 1 + skip
        if level < len(LABELS_UPWARD):
            labels[i] = LABELS_UPWARD[level]
    found = sum(label is not None for label in labels)
    if found < MIN_BODIES:
        warnings.append(f"only {found} vertebral bodies found (fewer than {MIN_BODIES})")
    return labels, warnings


@dataclass(frozen=True)
class Body:
    """One labelled vertebral body.

    ``box`` xyxy in input pixels of the slice ``slice_index`` it was best seen on;
    ``centre_px`` (row, col) in that slice's image; ``centre_mm`` patient LPS when the plane is
    known; ``slices`` every slice it was seen on.
    """

    label: str
    class_name: str
    score: float
    box: tuple[float, float, float, float]
    centre_px: tuple[float, float]
    centre_mm: tuple[float, float, float] | None
    slice_index: int = 0
    slices: tuple[int, ...] = ()


@dataclass(frozen=True)
class Labelling:
    """The labelled bodies, bottom (S1) first, and what went wrong."""

    bodies: tuple[Body, ...]
    warnings: tuple[str, ...] = ()

    def centres_mm(self) -> dict[str, tuple[float, float, float]]:
        """label -> centre (patient mm), for bodies with a known plane."""
        return {b.label: b.centre_mm for b in self.bodies if b.centre_mm is not None}

    def get(self, label: str) -> Body | None:
        return next((b for b in self.bodies if b.label == label), None)


@dataclass(frozen=True)
class SliceDetections:
    """The detections on one slice, its letterbox, its plane (when known) and its index."""

    detections: Detections
    box: Letterbox
    plane: PlaneLike | None = None
    index: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def label_slice(
    found: Detections,
    box: Letterbox,
    plane: PlaneLike | None = None,
    index: int = 0,
    class_names: Sequence[str] = CLASS_NAMES,
) -> Labelling:
    """Labels by order on one slice; "up" is the patient's superior (+z) when ``plane`` is
    given, else the top of the image."""
    centres = found.centres
    rows, cols = box.to_image(centres[:, 0], centres[:, 1])
    mm = plane.to_patient(rows, cols) if plane is not None else None
    heights = mm[:, 2] if mm is not None else -rows
    labels, warnings = assign_labels(
        heights, found.scores_of(list(class_names).index("S1")), found.scores
    )
    bodies = [
        Body(
            label=label,
            class_name=class_names[int(found.classes[i])],
            score=float(found.scores[i]),
            box=_box(found.boxes[i]),
            centre_px=(float(rows[i]), float(cols[i])),
            centre_mm=_point(mm[i]) if mm is not None else None,
            slice_index=index,
            slices=(index,),
        )
        for i, label in enumerate(labels)
        if label is not None
    ]
    return Labelling(_bottom_up(bodies), tuple(warnings))


def _box(values: ArrayLike) -> tuple[float, float, float, float]:
    a, b, c, d = (float(v) for v in np.asarray(values).ravel())
    return (a, b, c, d)


def _point(values: ArrayLike) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in np.asarray(values).ravel())
    return (a, b, c)


def _bottom_up(bodies: Sequence[Body]) -> tuple[Body, ...]:
    return tuple(sorted(bodies, key=lambda b: LABELS_UPWARD.index(b.label)))


# -- several slices ------------------------------------------------------------------------------


def lateral_centre(offsets: ArrayLike, widths: ArrayLike, power: float = LATERAL_POWER) -> float:
    """The centre of a body along the slice normal from the slices that show it.

    ``offsets`` (mm along the normal) of the slices showing the body and the body's
    anterior-posterior ``widths`` there: the mean of the offsets weighted by ``width ** power``.
    A vertebral body's sagittal sections are widest, and alike, in its middle and shrink
    towards its sides, so the wide central sections decide and a missed or doubtful edge
    slice hardly moves the result. One slice: its offset.
    """
    d = np.asarray(offsets, dtype=np.float64).ravel()
    w = np.asarray(widths, dtype=np.float64).ravel()
    if not len(d):
        raise ValueError("no slice shows the body")
    weights = np.clip(w, 0.0, None) ** power
    if not weights.sum() > 0:
        return float(d.mean())
    return float(np.sum(d * weights) / np.sum(weights))


def fuse_slices(
    slices: Sequence[SliceDetections],
    reference: int | None = None,
    radius_mm: float = 12.0,
    central_mm: float = 8.0,
    class_names: Sequence[str] = CLASS_NAMES,
) -> Labelling:
    """Labelled bodies from the detections of several parallel slices of one stack.

    ``slices`` in stack order; ``reference``: the position of the middle one in it (default
    ``len(slices) // 2``). A
    detection joins a group when its centre, projected onto the reference slice, lies within
    ``radius_mm`` of the group's first (best) detection and the group has none on its slice
    yet. Groups not seen within one slice of the reference are dropped. The in-plane centre is
    the score-weighted mean over the group's detections within ``central_mm`` of its lateral
    centre. Every plane must be known.
    """
    if not slices:
        return Labelling((), ("no slice to analyse",))
    ref_pos = len(slices) // 2 if reference is None else reference
    ref = slices[ref_pos].plane
    if ref is None or any(s.plane is None for s in slices):
        raise ValueError("fusing slices needs every slice's plane")
    normal = np.asarray(ref.normal, dtype=np.float64)
    offsets = [float(np.dot(_plane_point(s), normal)) for s in slices]
    ref_offset = offsets[ref_pos]
    members: list[list[tuple[int, int, FloatArray, float]]] = []  # (slice, det, mm, width mm)
    heads: list[FloatArray] = []
    items = []
    for k, s in enumerate(slices):
        plane = s.plane
        assert plane is not None
        centres = s.detections.centres
        rows, cols = s.box.to_image(centres[:, 0], centres[:, 1])
        mm = plane.to_patient(rows, cols).reshape(-1, 3)
        dc = float(plane.spacing[1])
        widths = (s.detections.boxes[:, 2] - s.detections.boxes[:, 0]) / s.box.scale * dc
        items += [
            (float(s.detections.scores[i]), k, i, mm[i], float(widths[i]))
            for i in range(len(s.detections))
        ]
    items.sort(key=lambda t: (-t[0], t[1], t[2]))
    for _, k, i, point, width in items:
        flat = point - np.dot(point, normal) * normal
        joined = False
        for g, head in enumerate(heads):
            if np.linalg.norm(flat - head) <= radius_mm and all(m[0] != k for m in members[g]):
                members[g].append((k, i, point, width))
                joined = True
                break
        if not joined:
            heads.append(flat)
            members.append([(k, i, point, width)])
    groups = [g for g in members if any(abs(m[0] - ref_pos) <= 1 for m in g)]
    if not groups:
        return Labelling((), ("no vertebral body found",))
    sacral_class = list(class_names).index("S1")
    fused = [
        _fuse_group(g, slices, offsets, ref_offset, normal, central_mm, sacral_class)
        for g in groups
    ]
    labels, warnings = assign_labels(
        [f.centre[2] for f in fused], [f.sacral for f in fused], [f.score for f in fused]
    )
    bodies = []
    for f, label in zip(fused, labels, strict=True):
        if label is None:
            continue
        s = slices[f.best_slice]
        plane = s.plane
        assert plane is not None
        r, c = plane.to_pixel(f.centre)
        bodies.append(
            Body(
                label=label,
                class_name=class_names[f.cls],
                score=f.score,
                box=_box(s.detections.boxes[f.best_detection]),
                centre_px=(float(r), float(c)),
                centre_mm=_point(f.centre),
                slice_index=s.index,
                slices=tuple(sorted(slices[k].index for k in f.seen)),
            )
        )
    return Labelling(_bottom_up(bodies), tuple(warnings))


def _plane_point(s: SliceDetections) -> FloatArray:
    plane = s.plane
    assert plane is not None
    return np.asarray(plane.to_patient(0.0, 0.0), dtype=np.float64).reshape(3)


@dataclass(frozen=True)
class _Group:
    """One body seen on several slices."""

    centre: FloatArray  # patient mm
    cls: int  # the score-weighted vote
    score: float  # the best score on the central slices
    sacral: float  # the mean S1 score on the central slices
    best_slice: int  # position in ``slices`` of the best detection
    best_detection: int
    seen: list[int]  # positions in ``slices``


def _fuse_group(
    group: list[tuple[int, int, FloatArray, float]],
    slices: Sequence[SliceDetections],
    offsets: Sequence[float],
    ref_offset: float,
    normal: FloatArray,
    central_mm: float,
    sacral_class: int,
) -> _Group:
    ks = [m[0] for m in group]
    scores = np.array([float(slices[k].detections.scores[i]) for k, i, _, _ in group])
    classes = np.array([int(slices[k].detections.classes[i]) for k, i, _, _ in group])
    sacral = np.array(
        [float(slices[k].detections.scores_of(sacral_class)[i]) for k, i, _, _ in group]
    )
    points = np.stack([m[2] for m in group])
    widths = np.array([m[3] for m in group])
    rel = np.array([offsets[k] - ref_offset for k in ks])
    lateral = lateral_centre(rel, widths)
    near = np.abs(rel - lateral) <= central_mm
    if not near.any():
        near = np.abs(rel - lateral) == np.abs(rel - lateral).min()
    weights = scores[near]
    flat = points[near] - np.outer(points[near] @ normal, normal)
    in_plane = (flat * weights[:, None]).sum(axis=0) / weights.sum()
    best = int(np.argmax(scores))
    return _Group(
        centre=in_plane + (ref_offset + lateral) * normal,
        cls=int(np.argmax(np.bincount(classes, weights=scores))),
        score=float(scores[near].max()),
        sacral=float(sacral[near].mean()),
        best_slice=ks[best],
        best_detection=group[best][1],
        seen=ks,
    )


# -- running the model ---------------------------------------------------------------------------


def model_image(
    manifest: ModelManifest, values: ArrayLike
) -> tuple[NDArray[np.float32], Letterbox]:
    """One slice -> the (H, W) model image in [0, 1] as ``manifest.preprocessing`` says."""
    pre = manifest.preprocessing
    if pre.resize != "letterbox" or pre.roi_mm is not None:
        raise ValueError(f"{manifest.id}: expected a letterboxed whole slice (no roi_mm)")
    arr = np.asarray(values, dtype=np.float32)
    if pre.normalisation.percentile is not None:
        p = pre.normalisation.percentile
        return letterbox_image(arr, pre.size, (p.low, p.high))
    window = pre.normalisation.window
    assert window is not None
    low = window.center - window.width / 2.0
    return letterbox_resample(np.clip((arr - low) / window.width, 0.0, 1.0), pre.size)


def detect(
    manifest: ModelManifest,
    session: Any,
    slices: Sequence[ArrayLike],
    batch: int = 16,
    score_threshold: float | None = None,
) -> list[tuple[Detections, Letterbox]]:
    """Detections on each slice with an onnxruntime ``session`` of a ``yolo`` model.

    ``score_threshold`` overrides the manifest's (e.g. a low one for precision-recall curves).
    """
    decoding = manifest.decoding
    if not isinstance(decoding, DetectionDecoding) or decoding.style != "yolo":
        raise ValueError(f"{manifest.id}: not a yolo-style detection model")
    if decoding.coordinates != "input_pixels":
        raise ValueError(f"{manifest.id}: boxes must be in input pixels")
    pre = manifest.preprocessing
    channels = manifest.input.channel_count
    mean = np.resize(np.asarray(pre.mean, dtype=np.float32), channels)[None, :, None, None]
    std = np.resize(np.asarray(pre.std, dtype=np.float32), channels)[None, :, None, None]
    prepared = [model_image(manifest, values) for values in slices]
    out: list[tuple[Detections, Letterbox]] = []
    output = decoding.tensors["predictions"]
    for start in range(0, len(prepared), batch):
        chunk = prepared[start : start + batch]
        x = np.repeat(np.stack([image for image, _ in chunk])[:, None], channels, axis=1)
        feed = {manifest.input.name: ((x - mean) / std).astype(np.float32)}
        (rows,) = session.run([output], feed)
        nms_iou = decoding.nms_iou if decoding.nms_iou is not None else 0.5
        threshold = decoding.score_threshold if score_threshold is None else score_threshold
        for r, (_, box) in zip(rows, chunk, strict=True):
            found = decode_predictions(r, threshold, nms_iou, decoding.box_format)
            out.append((found, box))
    return out
