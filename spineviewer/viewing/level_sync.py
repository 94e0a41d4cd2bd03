"""Scrolling two studies together when their frames of reference differ (a current study and
its prior), without Qt.

Two studies of one patient are linked by anatomy, not by patient coordinates (the patient lay
elsewhere in the scanner, so the same millimetres are another place in the body):

- :class:`LevelMap`, when both studies have vertebra labels (AI findings or a person's level
  marks): a point of one study is placed on its labelled column (the polyline through the
  labelled body centres, top to bottom) by the segment it is nearest and the fraction along
  it, plus its offset from the column; the other study's point is the same fraction along the
  same two labels, plus the offset turned as the column turned (the rigid fit of the labels
  common to both, Kabsch). An axial slice stands for the point where the column crosses it,
  so the current's L4-L5 slice brings the prior's slice nearest the prior's own L4-L5 disc; a
  sagittal slice stands for the foot of the column's middle on it (its offset to the side).
- :class:`OffsetMap`, when labels are missing: a person paired two slices (one per study);
  every point moves by the offset between their centres.

A map answers, for a slice shown in one study, the patient point (in the other study's
frame) the other study should show; :func:`~spineviewer.viewing.source.nearest_slice` finds
its slice. :meth:`inverse` maps the other way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from spineviewer.geometry.plane import Plane
from spineviewer.viewing.crossref import plane_centre
from spineviewer.viewing.source import SliceSource, nearest_slice

__all__ = [
    "ACROSS_COLUMN_DEG",
    "Column",
    "FrameMap",
    "LevelMap",
    "OffsetMap",
    "linked_index",
]

FloatArray = NDArray[np.float64]
#: A slice whose normal is within this angle of the column runs across it (an axial slice);
#: the same rule as the level marks' (:mod:`spineviewer.annotations.level_marks`).
ACROSS_COLUMN_DEG = 45.0


def _vector(point: Sequence[float] | FloatArray) -> FloatArray:
    return np.asarray(point, dtype=np.float64).reshape(3)


@dataclass(frozen=True)
class Column:
    """Labelled vertebral body centres of one study (patient mm), top to bottom."""

    labels: tuple[str, ...]
    points: FloatArray

    @classmethod
    def of(cls, marks: Iterable[tuple[str, Sequence[float]]]) -> Column:
        """From ``(label, centre)`` pairs in column order (the first of a repeated label)."""
        seen: dict[str, FloatArray] = {}
        for label, centre in marks:
            seen.setdefault(label, _vector(centre))
        points = np.array(list(seen.values()), dtype=np.float64).reshape(-1, 3)
        return cls(tuple(seen), points)

    def common(self, other: Column) -> tuple[Column, Column]:
        """Both columns cut to the labels they share, in this column's order."""
        shared = [label for label in self.labels if label in other.labels]
        mine = [self.labels.index(label) for label in shared]
        theirs = [other.labels.index(label) for label in shared]
        return (
            Column(tuple(shared), self.points[mine]),
            Column(tuple(shared), other.points[theirs]),
        )

    def axis(self) -> FloatArray:
        """Unit vector from the top labelled body to the bottom one."""
        d = self.points[-1] - self.points[0]
        return np.asarray(d / np.linalg.norm(d), dtype=np.float64)

    def locate(self, point: Sequence[float] | FloatArray) -> tuple[int, float, FloatArray]:
        """The segment nearest ``point`` (index of its upper body), the fraction along it
        (below 0 or above 1 only past the first or last body) and the offset from that foot."""
        p = _vector(point)
        best: tuple[float, int, float, FloatArray] | None = None
        last = len(self.points) - 2
        for i in range(last + 1):
            a, b = self.points[i], self.points[i + 1]
            d = b - a
            t = float(np.dot(p - a, d) / np.dot(d, d))
            low = -math.inf if i == 0 else 0.0  # past the first body: along the first segment
            high = math.inf if i == last else 1.0  # past the last body: along the last one
            t = min(max(t, low), high)
            foot = a + t * d
            distance = float(np.linalg.norm(p - foot))
            if best is None or distance < best[0]:
                best = (distance, i, t, p - foot)
        assert best is not None
        return best[1], best[2], best[3]

    def at(self, segment: int, fraction: float) -> FloatArray:
        """The point ``fraction`` of the way along segment ``segment``."""
        a, b = self.points[segment], self.points[segment + 1]
        return np.asarray(a + fraction * (b - a), dtype=np.float64)

    def crossing(self, plane: Plane) -> FloatArray | None:
        """Where the column crosses ``plane`` (inside a segment, or its extension past the
        ends); None when the plane runs along the column."""
        axis = self.axis()
        if abs(float(np.dot(plane.normal, axis))) < math.cos(math.radians(ACROSS_COLUMN_DEG)):
            return None
        distances = plane.distance(self.points)
        for i in range(len(self.points) - 1):
            d0, d1 = float(distances[i]), float(distances[i + 1])
            if d0 == d1:
                continue
            t = d0 / (d0 - d1)
            inside = 0.0 <= t <= 1.0
            first = i == 0 and t < 0.0
            last = i == len(self.points) - 2 and t > 1.0
            if inside or first or last:
                return self.at(i, t)
        return None


def _kabsch(source: FloatArray, target: FloatArray) -> FloatArray:
    """The rotation that best turns the centred ``source`` points onto the ``target`` ones
    (the identity for fewer than three points, or points on one line)."""
    if len(source) < 3:
        return np.eye(3)
    a = source - source.mean(axis=0)
    b = target - target.mean(axis=0)
    u, s, vt = np.linalg.svd(a.T @ b)
    if s[1] < 1e-6 * max(s[0], 1e-12):  # collinear: the turn about the line is unknown
        return _turn_between(a[-1] - a[0], b[-1] - b[0])
    sign = float(np.sign(np.linalg.det(vt.T @ u.T))) or 1.0
    return np.asarray(vt.T @ np.diag([1.0, 1.0, sign]) @ u.T, dtype=np.float64)


def _turn_between(a: FloatArray, b: FloatArray) -> FloatArray:
    """The smallest rotation turning direction ``a`` onto direction ``b``."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if np.linalg.norm(v) < 1e-12:
        return np.eye(3)  # (opposite columns do not occur in one patient)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.asarray(np.eye(3) + k + k @ k / (1.0 + c), dtype=np.float64)


class FrameMap(Protocol):
    """Maps points of one study's frame of reference to another's."""

    def point(self, point: Sequence[float] | FloatArray) -> FloatArray:
        """A patient point of the first study as the second's."""
        ...

    def direction(self, vector: Sequence[float] | FloatArray) -> FloatArray:
        """A direction of the first study as the second's."""
        ...

    def slice_point(self, plane: Plane) -> FloatArray:
        """The point (second study's frame) the second study shows for a slice of the first."""
        ...

    def inverse(self) -> FrameMap:
        """The map the other way."""
        ...


@dataclass(frozen=True)
class LevelMap:
    """From one study's labelled column to another's (the labels both have, at least two)."""

    source: Column
    target: Column
    rotation: FloatArray

    @classmethod
    def between(cls, source: Column, target: Column) -> LevelMap | None:
        """The map over the labels both columns share; None with fewer than two."""
        a, b = source.common(target)
        if len(a.labels) < 2:
            return None
        return cls(a, b, _kabsch(a.points, b.points))

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the map is built on, top to bottom."""
        return self.source.labels

    def point(self, point: Sequence[float] | FloatArray) -> FloatArray:
        segment, fraction, offset = self.source.locate(point)
        return self.target.at(segment, fraction) + self.rotation @ offset

    def direction(self, vector: Sequence[float] | FloatArray) -> FloatArray:
        return np.asarray(self.rotation @ _vector(vector), dtype=np.float64)

    def slice_point(self, plane: Plane) -> FloatArray:
        """An axial slice: where the column crosses it; another: the foot of the middle of the
        column on it."""
        crossing = self.source.crossing(plane)
        if crossing is None:
            middle = self.source.points.mean(axis=0)
            crossing = middle - float(plane.distance(middle)) * plane.normal
        return self.point(crossing)

    def inverse(self) -> LevelMap:
        return LevelMap(self.target, self.source, self.rotation.T)


@dataclass(frozen=True)
class OffsetMap:
    """A person's sync point: ``source_mm`` in the first study is ``target_mm`` in the second."""

    source_mm: FloatArray
    target_mm: FloatArray

    @classmethod
    def pairing(cls, source: Plane, target: Plane) -> OffsetMap:
        """The two slices a person paired: their centres are one place."""
        return cls(plane_centre(source), plane_centre(target))

    def point(self, point: Sequence[float] | FloatArray) -> FloatArray:
        return _vector(point) - self.source_mm + self.target_mm

    def direction(self, vector: Sequence[float] | FloatArray) -> FloatArray:
        return _vector(vector)

    def slice_point(self, plane: Plane) -> FloatArray:
        return self.point(plane_centre(plane))

    def inverse(self) -> OffsetMap:
        return OffsetMap(self.target_mm, self.source_mm)


def linked_index(mapping: FrameMap, shown: Plane, other: SliceSource) -> int | None:
    """The slice of ``other`` (the second study) to show beside ``shown`` (the first's), when
    ``other`` runs the same way as ``shown`` (both axial, both sagittal: within 45 degrees);
    None otherwise or without geometry."""
    probe = other.info(0).plane if len(other) else None
    if probe is None:
        return None
    turned = mapping.direction(shown.normal)
    if abs(float(np.dot(turned, probe.normal))) < math.cos(math.radians(45.0)):
        return None
    found = nearest_slice(other, mapping.slice_point(shown))
    return None if found is None else found[0]
