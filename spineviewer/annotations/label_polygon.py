"""One label of a label map on one slice, as an editable polygon annotation.

The label's mask on the slice (a boolean image) is outlined by following its pixel edges
(:func:`trace_outlines`: every edge between a pixel of the mask and one outside it, joined
into closed loops, the mask kept on the right; at a corner where two pixels of the mask touch
only diagonally the loop turns into the pixel it came along, so 4-connected parts get loops of
their own). A loop through pixel edges encloses exactly the pixels of its part (holes
included). :func:`simplify` then drops the staircase's vertices (Douglas-Peucker, 0.75 px by
default), and :func:`label_polygon` makes it a ``polygon`` proposal of the model that made
the map (:class:`~spineviewer.annotations.annotation.Provenance`), for the reader to accept, edit
or reject as any proposal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from spineviewer.ai.manifest_model import ModelLabel
from spineviewer.annotations.annotation import Annotation, ImageRef, Kind, Point, Provenance, Status
from spineviewer.annotations.vocabulary import Vocabulary, default_vocabulary
from spineviewer.geometry import Plane

__all__ = ["label_polygon", "outline_polygon", "polygon_area", "simplify", "trace_outlines"]

#: Default Douglas-Peucker tolerance, pixels: a pixel staircase becomes its slope.
TOLERANCE_PX = 0.75
Corner = tuple[int, int]


def trace_outlines(mask: NDArray[np.bool_]) -> list[list[Point]]:
    """Closed loops (first vertex not repeated) along the pixel edges of ``mask``, as (row,
    col) image points (pixel centres at whole numbers, so edges at halves). Outer outlines run
    clockwise on screen (positive :func:`polygon_area`), holes the other way."""
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    inside = m[1:-1, 1:-1]
    # corner (a, b) is the point (a - 0.5, b - 0.5); each edge has the mask on its right
    edges: dict[Corner, list[Corner]] = defaultdict(list)
    sides: tuple[tuple[NDArray[np.bool_], Corner, Corner], ...] = (
        (inside & ~m[:-2, 1:-1], (0, 0), (0, 1)),  # top: rightwards
        (inside & ~m[1:-1, 2:], (0, 1), (1, 1)),  # right: downwards
        (inside & ~m[2:, 1:-1], (1, 1), (1, 0)),  # bottom: leftwards
        (inside & ~m[1:-1, :-2], (1, 0), (0, 0)),  # left: upwards
    )
    for side, start, end in sides:
        rows, cols = np.nonzero(side)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            edges[(r + start[0], c + start[1])].append((r + end[0], c + end[1]))
    loops: list[list[Point]] = []
    while edges:
        first = next(iter(edges))
        loop = [first]
        at = _take(edges, first, None)
        previous = first
        while at != first:
            loop.append(at)
            came = (at[0] - previous[0], at[1] - previous[1])
            previous, at = at, _take(edges, at, came)
        loops.append([(a - 0.5, b - 0.5) for a, b in _corners_only(loop)])
    return loops


def _take(edges: dict[Corner, list[Corner]], at: Corner, came: Corner | None) -> Corner:
    """The next corner from ``at`` (turning right first, then straight on, then left),
    removing that edge."""
    out = edges[at]
    if came is not None and len(out) > 1:
        right = (came[1], -came[0])
        out.sort(key=lambda e: 0 if (e[0] - at[0], e[1] - at[1]) == right else 1)
    nxt = out.pop(0)
    if not out:
        del edges[at]
    return nxt


def _corners_only(loop: list[Corner]) -> list[Corner]:
    """The loop without the vertices inside straight runs."""
    n = len(loop)
    keep = []
    for i, (a, b) in enumerate(loop):
        pa, pb = loop[i - 1]
        na, nb = loop[(i + 1) % n]
        if (a - pa) * (nb - b) - (b - pb) * (na - a) != 0:
            keep.append((a, b))
    return keep


def polygon_area(points: Sequence[Point]) -> float:
    """Signed area (pixels²) of a closed polygon of (row, col) points: positive when it runs
    clockwise on screen (rows down), as :func:`trace_outlines`' outer outlines do."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    y, x = p[:, 0], p[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2.0


def simplify(points: Sequence[Point], tolerance: float = TOLERANCE_PX) -> list[Point]:
    """A closed polygon with the vertices closer than ``tolerance`` to the line of their
    neighbours removed (Douglas-Peucker on the two halves between the first vertex and the
    one farthest from it); at least three vertices are kept."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(p) <= 3:
        return [(float(r), float(c)) for r, c in p]
    far = int(np.argmax(np.hypot(*(p - p[0]).T)))
    keep = np.zeros(len(p), dtype=bool)
    keep[[0, far]] = True
    closed = np.vstack([p, p[:1]])
    for lo, hi in ((0, far), (far, len(p))):
        stack = [(lo, hi)]
        while stack:
            a, b = stack.pop()
            if b - a < 2:
                continue
            start, end = closed[a], closed[b]
            between = closed[a + 1 : b]
            d = _distance_to_line(between, start, end)
            worst = int(np.argmax(d))
            if d[worst] > tolerance:
                keep[a + 1 + worst] = True
                stack += [(a, a + 1 + worst), (a + 1 + worst, b)]
    if keep.sum() < 3:
        keep[np.argsort(-np.hypot(*(p - p[0]).T))[:3]] = True
    return [(float(r), float(c)) for r, c in p[keep]]


def _distance_to_line(
    points: NDArray[np.float64], start: NDArray[np.float64], end: NDArray[np.float64]
) -> NDArray[np.float64]:
    direction = end - start
    length = float(np.hypot(*direction))
    offset = points - start
    if length == 0.0:
        return np.asarray(np.hypot(offset[:, 0], offset[:, 1]))
    return np.asarray(np.abs(offset[:, 0] * direction[1] - offset[:, 1] * direction[0]) / length)


def outline_polygon(
    mask: NDArray[np.bool_],
    near: Point | None = None,
    tolerance: float = TOLERANCE_PX,
) -> list[Point] | None:
    """The simplified outer outline of one part of ``mask``: the part with the pixel nearest
    ``near`` (row, col) when given, else the largest; None for an empty mask."""
    loops = [loop for loop in trace_outlines(mask) if polygon_area(loop) > 0]
    if not loops:
        return None
    if near is None:
        chosen = max(loops, key=polygon_area)
    else:
        target = np.asarray(near, dtype=np.float64)
        chosen = min(
            loops,
            key=lambda loop: float(np.min(np.hypot(*(np.asarray(loop) - target).T))),
        )
    return simplify(chosen, tolerance)


def label_polygon(
    mask: NDArray[np.bool_],
    image: ImageRef,
    plane: Plane | None,
    label: ModelLabel,
    model_id: str,
    model_version: str,
    *,
    near: Point | None = None,
    vocabulary: Vocabulary | None = None,
) -> Annotation | None:
    """A proposed polygon annotation of ``label``'s ``mask`` on ``image`` (see
    :func:`outline_polygon`), by the model ``model_id``: labelled with the label's name when
    the vocabulary has it, else with its display name as text. None for an empty mask."""
    points = outline_polygon(mask, near)
    if points is None:
        return None
    vocabulary = vocabulary or default_vocabulary()
    known = vocabulary.get(label.name) is not None
    return Annotation.create(
        Kind.POLYGON,
        image,
        points,
        plane,
        label=label.name if known else "",
        text="" if known else label.display,
        status=Status.PROPOSED,
        provenance=Provenance.model(model_id or "label map", model_version, None),
    )
