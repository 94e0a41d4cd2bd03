"""The 3D phantom: painted parts sampled on any image plane.

Rendering a plane gives two label images: the tissue of every pixel and the structure that owns
it (``"L3"`` body, ``"L3/posterior"``, ``"L4-L5"`` disc, ...). Each part is only evaluated on the
pixels of its bounding sphere's footprint, so a 320 x 320 slice takes a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from spineviewer.geometry import Plane
from spineviewer.phantom.anatomy import (
    LABELS,
    STANDARD_POSTURE,
    Posture,
    SpineAnatomy,
    build_anatomy,
)
from spineviewer.phantom.discs import DiscDraw
from spineviewer.phantom.fractures import Fracture
from spineviewer.phantom.parts import Part, build_parts

LabelImage = NDArray[np.uint8]
OwnerImage = NDArray[np.uint16]


@dataclass(frozen=True)
class _PixelGrid:
    """A plane's pixel grid as an affine map: ``P(r, c) = start + c * per_col + r * per_row``.

    The three vectors come from :meth:`Plane.to_patient`, so the grid is the plane's own.
    """

    start: NDArray[np.float64]
    per_col: NDArray[np.float64]
    per_row: NDArray[np.float64]

    @classmethod
    def of(cls, plane: Plane) -> _PixelGrid:
        corners = plane.to_patient([0.0, 0.0, 1.0], [0.0, 1.0, 0.0])
        return cls(corners[0], corners[1] - corners[0], corners[2] - corners[0])

    def affine(
        self,
        matrix: NDArray[np.float64],
        offset: NDArray[np.float64],
        rows: NDArray[np.float32],
        cols: NDArray[np.float32],
    ) -> list[NDArray[np.float32]]:
        """Components of ``matrix @ (P(r, c) - offset)`` on the window ``rows x cols``."""
        f = np.float32
        a, b, c = matrix @ (self.start - offset), matrix @ self.per_col, matrix @ self.per_row
        return [f(a[i]) + f(b[i]) * cols + f(c[i]) * rows for i in range(len(a))]

    def mask(self, part: Part, r_lo: int, r_hi: int, c_lo: int, c_hi: int) -> NDArray[np.bool_]:
        """Which pixels of the window ``[r_lo, r_hi) x [c_lo, c_hi)`` lie inside ``part``."""
        rows = np.arange(r_lo, r_hi, dtype=np.float32)[:, None]
        cols = np.arange(c_lo, c_hi, dtype=np.float32)[None, :]
        x, y, z = self.affine(part.frame.axes, part.frame.origin, rows, cols)
        inside = part.shape.value_xyz(x, y, z) <= 1.0
        for shape in part.within:
            inside &= shape.value_xyz(x, y, z) <= 1.0
        for clip in part.clips:
            (side,) = self.affine(clip.normal[None, :], clip.point, rows, cols)
            inside &= side <= 0.0
        return np.broadcast_to(inside, (r_hi - r_lo, c_hi - c_lo))


@dataclass(frozen=True)
class Rendered:
    """Tissue and owner label images of one plane."""

    plane: Plane
    tissue: LabelImage
    owner: OwnerImage


@dataclass(frozen=True)
class SpineModel:
    """A spine anatomy with its parts, ready to be sampled."""

    anatomy: SpineAnatomy
    parts: tuple[Part, ...]
    structures: tuple[str, ...] = field(init=False)
    _owner_ids: tuple[int, ...] = field(init=False, repr=False)
    _spheres: NDArray[np.float64] = field(init=False, repr=False)
    _radii: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names: list[str] = [""]
        for p in self.parts:
            if p.structure not in names:
                names.append(p.structure)
        object.__setattr__(self, "structures", tuple(names))
        object.__setattr__(self, "_owner_ids", tuple(names.index(p.structure) for p in self.parts))
        object.__setattr__(self, "_spheres", np.array([p.sphere_centre for p in self.parts]))
        object.__setattr__(self, "_radii", np.array([p.shape.radius for p in self.parts]))

    @classmethod
    def random(
        cls,
        rng: np.random.Generator,
        fractures: Mapping[str, Fracture] | None = None,
        labels: Sequence[str] = LABELS,
        disc_draws: Mapping[str, DiscDraw] | None = None,
        posture: Posture = STANDARD_POSTURE,
    ) -> SpineModel:
        """Draw an anatomy of ``labels`` (with ``fractures`` by label, the graded discs' states
        from ``disc_draws`` when given, the curve and pose within ``posture``) and build its
        parts."""
        anatomy = build_anatomy(rng, fractures, labels, disc_draws, posture)
        return cls(anatomy, build_parts(anatomy))

    def structure_id(self, name: str) -> int:
        """Owner value of a structure in rendered owner images (0 = none)."""
        return self.structures.index(name)

    def render(self, plane: Plane) -> Rendered:
        """Sample the phantom at the centre of every pixel of ``plane`` (needs ``plane.shape``)."""
        if plane.shape is None:
            raise ValueError("the plane needs a shape (rows, columns) to be rendered")
        rows, cols = plane.shape
        tissue = np.zeros((rows, cols), dtype=np.uint8)
        owner = np.zeros((rows, cols), dtype=np.uint16)
        dr, dc = plane.spacing
        grid = _PixelGrid.of(plane)
        distances = plane.distance(self._spheres)
        centre_rows, centre_cols = plane.to_pixel(self._spheres)
        reach = np.sqrt(np.maximum(self._radii**2 - distances**2, 0.0))
        r_lo = np.maximum(0, np.floor(centre_rows - reach / dr)).astype(int)
        r_hi = np.minimum(rows, np.ceil(centre_rows + reach / dr) + 1).astype(int)
        c_lo = np.maximum(0, np.floor(centre_cols - reach / dc)).astype(int)
        c_hi = np.minimum(cols, np.ceil(centre_cols + reach / dc) + 1).astype(int)
        hit = (np.abs(distances) < self._radii) & (r_lo < r_hi) & (c_lo < c_hi)
        for i in np.flatnonzero(hit):
            part = self.parts[i]
            window = (slice(r_lo[i], r_hi[i]), slice(c_lo[i], c_hi[i]))
            mask = grid.mask(part, r_lo[i], r_hi[i], c_lo[i], c_hi[i])
            tissue[window][mask] = int(part.tissue)
            owner[window][mask] = self._owner_ids[i]
        return Rendered(plane, tissue, owner)
