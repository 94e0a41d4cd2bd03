"""Where the sagittal MR slices go: today's centred field of view, or one cut at chosen levels.

``full`` centres a square field of about 320 mm on T12..S1. ``T10-L5`` ends just above the
highest point of the S1 body (no sacral body in view) and begins between T9's centre and T10's
top; ``L2-S1`` begins just above L2 (below the L1-L2 disc's centre) and ends 10-30 mm below
S1; ``T10-S1`` and ``L1-S1`` combine those edges (``L1``: just above L1, below the T12-L1
disc's centre). The cut fields keep the drawn pixel size within a few per cent and fit the
matrix (a multiple of 16) to the height they cover.
"""

from __future__ import annotations

import itertools

import numpy as np

from spineviewer.geometry import Plane
from spineviewer.phantom.anatomy import SpineAnatomy, Vertebra, spine_labels
from spineviewer.phantom.imaging import nearest_plane, stack_planes
from spineviewer.phantom.mr_options import MrOptions
from spineviewer.phantom.parts import body_shape
from spineviewer.phantom.solids import FloatArray

#: A 33 x 33 x 33 grid over the cube [-1, 1]^3, for the extent of a body.
_GRID = np.array(list(itertools.product(np.linspace(-1.0, 1.0, 33), repeat=3)))


def mr_labels(options: MrOptions) -> tuple[str, ...]:
    """Labelled vertebrae of a study: T11 (T9 for ``T10-L5`` and ``T10-S1``) down to L5 or L6,
    then S1.

    Those fields add T9 so that the slices above T10 show a spine, not its end.
    """
    top = "T9" if options.sagittal_fov.startswith("T10") else "T11"
    return spine_labels(top, options.lumbar_vertebrae)


def lumbar_centres(anatomy: SpineAnatomy) -> FloatArray:
    """Centres of T12 down to S1: what the sagittal and the straight axial series centre on."""
    return np.array([v.centre for v in anatomy.vertebrae if v.label[0] != "T" or v.label == "T12"])


def z_extent(v: Vertebra) -> tuple[float, float]:
    """Lowest and highest patient z of a body, to within about a millimetre (its grid step)."""
    shape = body_shape(v)
    local = _GRID * shape.half
    points = v.frame.to_world(local[shape.contains(local)])
    return float(points[:, 2].min()), float(points[:, 2].max())


def fov_edges(anatomy: SpineAnatomy, fov: str, rng: np.random.Generator) -> tuple[float, float]:
    """Patient z of the first and the last row of a cut field of view (not ``full``).

    Top: ``T10`` between T9's centre and 2-6 mm above T10; ``L1`` 1-3 mm above L1, below the
    T12-L1 disc's centre; ``L2`` likewise for L2. Bottom: ``L5`` 1.5-3 mm above the highest
    point of the S1 body; ``S1`` 10-30 mm below its lowest point.
    """
    if fov == "full" or fov.count("-") != 1:
        raise ValueError(f"no edges for the field of view {fov!r}")
    first, last = fov.split("-")
    if first == "T10":
        top = min(
            z_extent(anatomy.vertebra("T10"))[1] + rng.uniform(2.0, 6.0),
            float(anatomy.vertebra("T9").centre[2]) - 2.0,
        )
    elif first in ("L1", "L2"):
        above = {"L1": "T12-L1", "L2": "L1-L2"}[first]
        top = min(
            z_extent(anatomy.vertebra(first))[1] + rng.uniform(1.0, 3.0),
            float(anatomy.disc(above).frame.origin[2]) - 1.0,
        )
    else:
        raise ValueError(f"no edges for the field of view {fov!r}")
    if last == "L5":
        bottom = z_extent(anatomy.vertebra("S1"))[1] + rng.uniform(1.5, 3.0)
    elif last == "S1":
        bottom = z_extent(anatomy.vertebra("S1"))[0] - rng.uniform(10.0, 30.0)
    else:
        raise ValueError(f"no edges for the field of view {fov!r}")
    return float(top), float(bottom)


def sagittal_planes(
    anatomy: SpineAnatomy, rng: np.random.Generator, fov: str, fov_rng: np.random.Generator
) -> tuple[list[Plane], float]:
    """The sagittal slices and their spacing; columns anterior -> posterior, rows down.

    ``rng`` draws what every study draws (so ``full`` is today's series); ``fov_rng`` the
    margins of a cut field of view.
    """
    lumbar = lumbar_centres(anatomy)
    pixel = float(rng.uniform(0.8, 1.1))
    matrix = round(320.0 / pixel / 16.0) * 16
    jitter = np.array([rng.uniform(-1.5, 1.5), rng.uniform(15, 30), rng.uniform(-10, 10)])
    centre = lumbar.mean(axis=0) + jitter
    step = float(rng.uniform(3.3, 4.0))
    count = int(rng.choice([13, 15]))
    if fov != "full":
        top, bottom = fov_edges(anatomy, fov, fov_rng)
        matrix = max(round((top - bottom) / pixel / 16.0) * 16, 128)
        pixel = (top - bottom) / (matrix - 1)
        shown = [v.centre for v in anatomy.vertebrae if bottom <= v.centre[2] <= top]
        depth = float(np.mean(shown, axis=0)[1]) + jitter[1]
        centre = np.array([centre[0], depth, (top + bottom) / 2.0])
    shape = (matrix, matrix)
    planes = stack_planes(centre, (0, 1, 0), (0, 0, -1), (pixel, pixel), shape, count, step)
    return planes, step


def in_view(planes: list[Plane], step: float, point: FloatArray) -> bool:
    """True when ``point`` lies inside the stack: within half a step of a slice, inside its
    rows and columns."""
    plane = planes[nearest_plane(planes, point)]
    if abs(float(plane.distance(point))) > step / 2.0 + 1e-6:
        return False
    assert plane.shape is not None
    row, col = (float(v) for v in plane.to_pixel(point))
    rows, cols = plane.shape
    return -0.5 <= row <= rows - 0.5 and -0.5 <= col <= cols - 0.5
