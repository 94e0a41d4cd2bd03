"""Vertebra labels in patient space: the bodies a slice cuts, and the level an axial slice is at.

No Qt: the viewer asks these functions what to draw on a slice. A label is any annotation whose
label is a level of the column (``"L3"``: a point of the labelling tool, an AI's box), not
rejected, on an image with a patient frame. It is shown on every slice of the same frame of
reference (any series: labels placed on the sagittal T2 show on the T1 and on the axials):

- :func:`body_marks`: one mark per level, at the mean centre of its annotations (a person's
  marks win over proposals of the same level), top to bottom.
- :func:`marks_on_plane`: on a slice along the column (sagittal, coronal), the marks of the
  bodies it cuts: those within the body's half width (:data:`LATERAL_HALF_WIDTH_MM`, or half
  the shorter side of a box) of its centre, not only the slice the label was placed on.
- :func:`plane_level`: on a slice across the column (axial), its level: the disc level when
  the plane passes within :func:`spineviewer.geometry.levels.default_threshold` of a disc centre
  (the midpoint of two adjacent labelled bodies, :func:`~spineviewer.geometry.levels.
  disc_centres`; the AI's axial assignment uses the same rules), else the body it passes
  through. Shifting the labels renames these levels, so the axial slices follow.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.annotations.annotation import REVIEW_NEEDS, Annotation, Status
from spineviewer.annotations.level_names import is_level, level_index
from spineviewer.geometry.levels import assign_slices_to_levels, disc_centres
from spineviewer.geometry.plane import Plane

__all__ = [
    "ACROSS_COLUMN_DEG",
    "LATERAL_HALF_WIDTH_MM",
    "BodyMark",
    "MarkOnPlane",
    "PlaneLevel",
    "body_marks",
    "column_axis",
    "disc_centres_of",
    "marks_on_plane",
    "nearest_body",
    "nearest_disc",
    "plane_level",
    "runs_across",
]

#: Half the left-right extent of a vertebral body (mm) labelled by a point: its label shows on
#: the sagittal slices this close to the point.
LATERAL_HALF_WIDTH_MM = 15.0
#: A slice whose normal is within this angle of the column runs across it (an axial slice).
ACROSS_COLUMN_DEG = 45.0

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class BodyMark:
    """One labelled body: its level, centre (patient mm) and how far to each side it shows.

    ``review`` is the most demanding pending review need of the proposals behind it ("" when
    none or when a person decided); ``frames`` the (SOP Instance UID, frame) pairs its
    annotations are drawn on (the viewer draws those annotations there, not a copy).
    """

    label: str
    centre_mm: tuple[float, float, float]
    half_width_mm: float
    review: str = ""
    uids: tuple[str, ...] = ()
    frames: frozenset[tuple[str, int]] = frozenset()


@dataclass(frozen=True)
class MarkOnPlane:
    """A body mark where a slice cuts it: pixel position of its centre and the distance (mm)."""

    mark: BodyMark
    row: float
    col: float
    distance_mm: float


@dataclass(frozen=True)
class PlaneLevel:
    """The level of a slice across the column: ``"L4-L5"`` (``kind`` "disc") or ``"L4"``
    (``kind`` "vertebra"), the slice's distance from its centre, and its pending review."""

    level: str
    kind: str
    distance_mm: float
    review: str = ""


def _worst(reviews: Iterable[str]) -> str:
    return max(reviews, key=lambda r: REVIEW_NEEDS.index(r) + 1 if r else 0, default="")


def _centre(a: Annotation) -> FloatArray:
    assert a.points_mm is not None
    return np.asarray(a.points_mm, dtype=np.float64).mean(axis=0)


def _half_width(a: Annotation) -> float:
    """A point: :data:`LATERAL_HALF_WIDTH_MM`; a box or outline: at least that, or half its
    shorter side (a body is about as wide as it is deep)."""
    if len(a.points) < 2 or a.points_mm is None or a.image.pixel_spacing is None:
        return LATERAL_HALF_WIDTH_MM
    rows = [r for r, _ in a.points]
    cols = [c for _, c in a.points]
    dr, dc = a.image.pixel_spacing
    sides = ((max(rows) - min(rows)) * dr, (max(cols) - min(cols)) * dc)
    return max(LATERAL_HALF_WIDTH_MM, 0.5 * min(sides))


def _same_frame(a: Annotation, frame_of_reference_uid: str, series_uid: str) -> bool:
    if frame_of_reference_uid and a.image.frame_of_reference_uid == frame_of_reference_uid:
        return True
    return bool(series_uid) and a.image.series_uid == series_uid


def body_marks(
    annotations: Iterable[Annotation], frame_of_reference_uid: str, series_uid: str = ""
) -> tuple[BodyMark, ...]:
    """The labelled bodies of one frame of reference (or of one series, for images without a
    frame of reference UID), top to bottom."""
    groups: dict[str, list[Annotation]] = {}
    for a in annotations:
        if (
            is_level(a.label)
            and a.status != Status.REJECTED
            and a.points_mm is not None
            and _same_frame(a, frame_of_reference_uid, series_uid)
        ):
            groups.setdefault(a.label, []).append(a)
    marks = []
    for label in sorted(groups, key=level_index):
        items = groups[label]
        used = [a for a in items if a.status != Status.PROPOSED] or items
        centre = np.mean([_centre(a) for a in used], axis=0)
        marks.append(
            BodyMark(
                label=label,
                centre_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
                half_width_mm=max(_half_width(a) for a in used),
                review=_worst(a.pending_review for a in used),
                uids=tuple(a.uid for a in used),
                frames=frozenset((a.image.sop_instance_uid, a.image.frame_number) for a in used),
            )
        )
    return tuple(marks)


def column_axis(marks: Sequence[BodyMark]) -> FloatArray:
    """Unit vector from the top labelled body to the bottom one; the patient's feet direction
    (LPS ``-z``) when fewer than two bodies are apart."""
    if len(marks) >= 2:
        d = np.subtract(marks[-1].centre_mm, marks[0].centre_mm)
        norm = float(np.linalg.norm(d))
        if norm > 1e-6:
            return np.asarray(d / norm, dtype=np.float64)
    return np.array([0.0, 0.0, -1.0])


def runs_across(plane: Plane, marks: Sequence[BodyMark]) -> bool:
    """True when ``plane`` cuts across the column (axial-like), False along it."""
    cos = abs(float(np.dot(plane.normal, column_axis(marks))))
    return cos >= math.cos(math.radians(ACROSS_COLUMN_DEG))


def marks_on_plane(marks: Sequence[BodyMark], plane: Plane) -> list[MarkOnPlane]:
    """The bodies a slice along the column cuts, with their centres projected onto it (none on
    a slice across the column: :func:`plane_level` names that one)."""
    if not marks or runs_across(plane, marks):
        return []
    centres = np.array([m.centre_mm for m in marks])
    distances = plane.distance(centres)
    rows, cols = plane.to_pixel(centres)
    return [
        MarkOnPlane(m, float(r), float(c), float(d))
        for m, r, c, d in zip(marks, rows, cols, distances, strict=True)
        if abs(float(d)) <= m.half_width_mm
    ]


def disc_centres_of(marks: Sequence[BodyMark]) -> dict[str, FloatArray]:
    """Disc level -> centre for each pair of adjacent labelled bodies (no disc across a gap)."""
    return disc_centres([(m.label, m.centre_mm) for m in marks])


def _disc_review(level: str, by_label: Mapping[str, BodyMark]) -> str:
    upper, _, lower = level.partition("-")
    return _worst(by_label[x].review for x in (upper, lower) if x in by_label)


def plane_level(marks: Sequence[BodyMark], plane: Plane) -> PlaneLevel | None:
    """The level of a slice across the column (None along it, or beyond the labelled bodies)."""
    if not marks or not runs_across(plane, marks):
        return None
    by_label = {m.label: m for m in marks}
    discs = disc_centres_of(marks)
    if discs:
        found = assign_slices_to_levels([plane], discs)[0]
        if found.level is not None and found.distance_mm is not None:
            review = _disc_review(found.level, by_label)
            return PlaneLevel(found.level, "disc", found.distance_mm, review)
    distances = np.abs(plane.distance(np.array([m.centre_mm for m in marks])))
    best = int(np.argmin(distances))
    if float(distances[best]) > _half_height(marks, best):
        return None
    mark = marks[best]
    return PlaneLevel(mark.label, "vertebra", float(distances[best]), mark.review)


def _half_height(marks: Sequence[BodyMark], index: int) -> float:
    """How far along the column body ``index`` reaches: half the distance to its nearest
    labelled neighbour (a point's half width for a lone body)."""
    here = np.asarray(marks[index].centre_mm)
    gaps = [
        float(np.linalg.norm(here - np.asarray(marks[j].centre_mm)))
        for j in (index - 1, index + 1)
        if 0 <= j < len(marks)
    ]
    return 0.5 * min(gaps) if gaps else LATERAL_HALF_WIDTH_MM


def nearest_disc(marks: Sequence[BodyMark], point_mm: Sequence[float]) -> str | None:
    """The labelled disc level whose centre is nearest ``point_mm`` (a finding's disc centre),
    within half the smallest gap between disc centres; None when none is that close."""
    discs = disc_centres_of(marks)
    if not discs:
        return None
    names = list(discs)
    centres = np.array([discs[n] for n in names])
    gaps = [float(np.linalg.norm(p - q)) for p, q in itertools.combinations(centres, 2)]
    limit = 0.5 * min(gaps) if gaps else LATERAL_HALF_WIDTH_MM
    distances = np.linalg.norm(centres - np.asarray(point_mm, dtype=np.float64), axis=1)
    best = int(np.argmin(distances))
    return names[best] if float(distances[best]) <= limit else None


def nearest_body(marks: Sequence[BodyMark], point_mm: Sequence[float]) -> str | None:
    """The labelled body whose centre is nearest ``point_mm`` (a finding's body centre),
    within half the distance to that body's labelled neighbours; None when none is."""
    if not marks:
        return None
    centres = np.array([m.centre_mm for m in marks])
    distances = np.linalg.norm(centres - np.asarray(point_mm, dtype=np.float64), axis=1)
    best = int(np.argmin(distances))
    return marks[best].label if float(distances[best]) <= _half_height(marks, best) else None
