"""Vertebral bodies on sagittal MR: from the detector's output to labelled bodies (numpy only).

No torch, no Qt: the viewer's pipeline reuses this module as it is. Running the model (input
letterbox, decoding, NMS) is :mod:`spineviewer.ai.detection`. Steps (docs/SPINE_PIPELINE.md steps
2-3):

1. :func:`assign_labels`: labelling by order. The most sacral-looking body (the highest
   ``S1`` class score, at least :data:`SACRAL_MIN`; over several slices the mean on the
   central ones) is S1; bodies below it are dropped (sacral segments, false positives); the
   bodies above it are L5, L4, ... L1, T12, T11 ... upward. A gap between two neighbours
   larger than :data:`GAP_FACTOR` times the median gap counts as missed bodies and skips their
   labels. Without a sacral-looking body the bottom-most body is taken as S1 and a warning says
   so; fewer than 6 bodies gives a warning too.
2. :func:`label_slice` (one slice) and :func:`fuse_slices` (several parallel slices of one
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
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spineviewer.ai.detection import Detections
from spineviewer.ai.preprocessing import Letterbox

__all__ = [
    "CLASS_NAMES",
    "GAP_FACTOR",
    "LABELS_UPWARD",
    "NO_SACRAL_BODY",
    "Body",
    "Labelling",
    "SliceDetections",
    "assign_labels",
    "fuse_slices",
    "intruder_mask",
    "label_slice",
    "lateral_centre",
    "missed_bodies",
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
#: Weights of the slices in :func:`lateral_centre`: the body's width to this power.
LATERAL_POWER = 4.0
#: A body this far (mm) from the line through its two neighbours is off the column.
OFF_COLUMN_MM = 15.0
#: Two neighbouring bodies closer than this many times the median distance between
#: neighbours cannot both be bodies (a body split in two, a disc or an endplate taken for one).
CROWDED_FACTOR = 0.55
#: A body's centre lies about this many times the height of its box from the next one's
#: (the median over 247 neighbouring pairs of 40 held-out wide-profile phantoms).
STEP_PER_HEIGHT = 1.14
#: Two detections less than this many expected steps (:data:`STEP_PER_HEIGHT` times the
#: median box height of the better-scoring half) apart are neighbouring bodies, so a weaker
#: detection between them is not a body. On the same phantoms neighbours lie 0.81-1.28
#: expected steps apart, bodies two apart 1.63 or more.
NEIGHBOURS_FACTOR = 1.45

FloatArray = NDArray[np.float64]

#: :func:`assign_labels`' warning when no body looks sacral.
NO_SACRAL_BODY = "no sacral-shaped body found: the bottom-most body was taken as S1"


def missed_bodies(count: int, above: int) -> str:
    """:func:`assign_labels`' warning of ``count`` bodies missed below the ``above``-th body
    counted from S1 (1)."""
    return f"{count} bod{'y' if count == 1 else 'ies'} missed below body {above}"


class PlaneLike(Protocol):
    """What is needed of :class:`spineviewer.geometry.Plane`."""

    @property
    def normal(self) -> FloatArray: ...

    @property
    def spacing(self) -> tuple[float, float]: ...

    def to_patient(self, row: ArrayLike, col: ArrayLike) -> FloatArray: ...

    def to_pixel(self, point: ArrayLike) -> tuple[FloatArray, FloatArray]: ...

    def distance(self, point: ArrayLike) -> FloatArray: ...


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
        warnings.append(NO_SACRAL_BODY)
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
            warnings.append(missed_bodies(skip, k + 2))
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
    #: How sacral it looks (its mean S1 class score on the central slices).
    sacral: float = 0.0


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
            sacral=float(found.scores_of(list(class_names).index("S1"))[i]),
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
    # each group's first (best) detection, projected: the first len(members) rows in use
    head_points = np.empty((len(items), 3))
    for _, k, i, point, width in items:
        flat = point - np.dot(point, normal) * normal
        near = np.linalg.norm(head_points[: len(members)] - flat, axis=1) <= radius_mm
        # the first group within reach with nothing on this slice yet
        g = next((int(g) for g in np.flatnonzero(near) if all(m[0] != k for m in members[g])), None)
        if g is not None:
            members[g].append((k, i, point, width))
        else:
            head_points[len(members)] = flat
            members.append([(k, i, point, width)])
    groups = [g for g in members if any(abs(m[0] - ref_pos) <= 1 for m in g)]
    if not groups:
        return Labelling((), ("no vertebral body found",))
    sacral_class = list(class_names).index("S1")
    fused = [
        _fuse_group(g, slices, offsets, ref_offset, normal, central_mm, sacral_class)
        for g in groups
    ]
    keep = off_column_mask(np.array([f.centre for f in fused]))
    dropped = int(np.sum(~keep))
    fused = [f for f, k in zip(fused, keep, strict=True) if k]
    roomy = crowded_mask(np.array([f.centre for f in fused]), [f.score for f in fused])
    fused = [f for f, k in zip(fused, roomy, strict=True) if k]
    between = intruder_mask(
        np.array([f.centre for f in fused]), [f.score for f in fused], [f.height for f in fused]
    )
    fused = [f for f, k in zip(fused, between, strict=True) if k]
    crowded = int(np.sum(~roomy)) + int(np.sum(~between))
    labels, warnings = assign_labels(
        [f.centre[2] for f in fused], [f.sacral for f in fused], [f.score for f in fused]
    )
    if dropped:
        warnings.append(
            f"{dropped} detection{'s' if dropped > 1 else ''} off the vertebral column ignored"
        )
    if crowded:
        warnings.append(
            f"{crowded} detection{'s' if crowded > 1 else ''} too close to a neighbouring body "
            "ignored"
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
                sacral=f.sacral,
            )
        )
    return Labelling(_bottom_up(bodies), tuple(warnings))


def crowded_mask(
    centres: ArrayLike, scores: ArrayLike, factor: float = CROWDED_FACTOR
) -> NDArray[np.bool_]:
    """Which bodies to keep (patient mm ``centres``, ordered here by height): of two
    neighbours closer than ``factor`` times the median neighbour distance, the one with the
    lower score goes, repeatedly (three bodies at least; the median of the bodies kept)."""
    points = np.asarray(centres, dtype=np.float64).reshape(-1, 3)
    score = np.asarray(scores, dtype=np.float64).ravel()
    keep = np.ones(len(points), dtype=bool)
    order = list(np.argsort(points[:, 2], kind="stable"))
    while len(order) >= 3:
        gaps = np.linalg.norm(np.diff(points[order], axis=0), axis=1)
        tight = int(np.argmin(gaps))
        if gaps[tight] >= factor * float(np.median(gaps)):
            break
        a, b = order[tight], order[tight + 1]
        weaker = a if score[a] < score[b] else b
        keep[weaker] = False
        order.remove(weaker)
    return keep


def intruder_mask(centres: ArrayLike, scores: ArrayLike, heights: ArrayLike) -> NDArray[np.bool_]:
    """Which detections to keep (patient mm ``centres``, box ``heights`` in mm): one scoring
    lower than both its neighbours (by height) goes when those two lie less than
    :data:`NEIGHBOURS_FACTOR` expected steps apart, the weakest first, repeatedly.

    :func:`crowded_mask` compares steps with their median, which fails when detections sit on
    many discs (the median step is then half a step); the expected step here comes from the
    box heights of the better-scoring half of the detections instead.
    """
    points = np.asarray(centres, dtype=np.float64).reshape(-1, 3)
    score = np.asarray(scores, dtype=np.float64).ravel()
    tall = np.asarray(heights, dtype=np.float64).ravel()
    keep = np.ones(len(points), dtype=bool)
    if len(points) < 3:
        return keep
    better = score >= np.median(score)
    step = STEP_PER_HEIGHT * float(np.median(tall[better]))
    order = list(np.argsort(points[:, 2], kind="stable"))
    while len(order) >= 3:
        inner = [
            (score[b], b)
            for a, b, c in zip(order, order[1:], order[2:], strict=False)
            if score[b] < min(score[a], score[c])
            and np.linalg.norm(points[a] - points[c]) < NEIGHBOURS_FACTOR * step
        ]
        if not inner:
            break
        weakest = min(inner)[1]
        keep[weakest] = False
        order.remove(weakest)
    return keep


def off_column_mask(centres: ArrayLike, limit_mm: float = OFF_COLUMN_MM) -> NDArray[np.bool_]:
    """False for the bodies that lie off the vertebral column.

    ``centres`` (n, 3) in patient mm. Between its upper and lower neighbours (by height, +z) a
    body must lie within ``limit_mm`` of the line joining them (the column bends slowly; a
    detection on the spinal canal or a posterior element does not fit). The worst offender goes
    first, then the check is repeated without it; the top and bottom bodies are kept.
    """
    points = np.asarray(centres, dtype=np.float64).reshape(-1, 3)
    keep = np.ones(len(points), dtype=bool)
    while True:
        idx = np.flatnonzero(keep)
        order = idx[np.argsort(points[idx, 2])]
        worst, worst_off = -1, limit_mm
        for a, b, c in zip(order, order[1:], order[2:], strict=False):
            span = points[c, 2] - points[a, 2]
            if span <= 0:
                continue
            t = (points[b, 2] - points[a, 2]) / span
            expected = points[a] + t * (points[c] - points[a])
            off = float(np.linalg.norm(points[b] - expected))
            if off > worst_off:
                worst, worst_off = int(b), off
        if worst < 0:
            return keep
        keep[worst] = False


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
    height: float  # mm, of the best detection's box
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
    best_slice = slices[ks[best]]
    y0, y1 = best_slice.detections.boxes[group[best][1], [1, 3]]
    assert best_slice.plane is not None
    height = float(y1 - y0) / best_slice.box.scale_r * float(best_slice.plane.spacing[0])
    return _Group(
        centre=in_plane + (ref_offset + lateral) * normal,
        cls=int(np.argmax(np.bincount(classes, weights=scores))),
        score=float(scores[near].max()),
        sacral=float(sacral[near].mean()),
        height=height,
        best_slice=ks[best],
        best_detection=group[best][1],
        seen=ks,
    )
