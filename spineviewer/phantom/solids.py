"""Analytic shapes evaluated at many points at once: rigid frames and superellipsoids.

Every shape lives in a local right-handed frame whose axes are, by convention, *lateral*
(patient left), *posterior* and *superior* for the structure it models. Points are given as
``(..., 3)`` arrays of patient coordinates (LPS, mm) and tests return boolean arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
#: Coordinates in float64 or (for speed on pixel grids) float32.
AnyFloat = NDArray[np.floating[Any]]
BoolArray = NDArray[np.bool_]


#: Half lengths at least this long (mm) are treated as endless (no test along z).
_ENDLESS = 1000.0


def _power(x: AnyFloat, exponent: float) -> AnyFloat:
    """``x ** exponent`` for ``x >= 0``, by repeated squaring for small integer exponents."""
    if exponent == 1.0:
        return x
    if exponent in (2.0, 4.0, 8.0, 16.0):
        out = x * x
        for _ in range(int(exponent).bit_length() - 2):
            out *= out
        return out
    return np.power(x, exponent)


def rotation(axis: ArrayLike, angle_deg: float) -> FloatArray:
    """3x3 matrix of the right-handed rotation by ``angle_deg`` about ``axis`` (Rodrigues)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    a = np.deg2rad(angle_deg)
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(a) * kx + (1.0 - np.cos(a)) * (kx @ kx)


def frame_axes(superior: ArrayLike, lateral_hint: ArrayLike = (1.0, 0.0, 0.0)) -> FloatArray:
    """Rows (lateral, posterior, superior) of a right-handed frame with the given superior axis.

    ``lateral_hint`` is made orthogonal to ``superior``; posterior = superior x lateral so that
    lateral x posterior = superior (as L x P = S in LPS).
    """
    z = np.asarray(superior, dtype=np.float64)
    z = z / np.linalg.norm(z)
    x = np.asarray(lateral_hint, dtype=np.float64)
    x = x - (x @ z) * z
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


@dataclass(frozen=True)
class Frame:
    """A rigid local frame: ``origin`` in patient mm, ``axes`` rows = local x, y, z directions."""

    origin: FloatArray
    axes: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", np.asarray(self.origin, dtype=np.float64).reshape(3))
        object.__setattr__(self, "axes", np.asarray(self.axes, dtype=np.float64).reshape(3, 3))

    def to_local(self, points: ArrayLike) -> FloatArray:
        """Local coordinates of patient point(s)."""
        return (np.asarray(points, dtype=np.float64) - self.origin) @ self.axes.T

    def to_world(self, local: ArrayLike) -> FloatArray:
        """Patient coordinates of local point(s)."""
        return self.origin + np.asarray(local, dtype=np.float64) @ self.axes

    @property
    def superior(self) -> FloatArray:
        """The local z axis in patient coordinates."""
        return self.axes[2]

    def moved(self, local_offset: ArrayLike) -> Frame:
        """The same axes, origin shifted by ``local_offset`` (local coordinates)."""
        return Frame(self.to_world(local_offset), self.axes)


@dataclass(frozen=True)
class Superellipsoid:
    """``(|x/a|^n + |y/b|^n)^(m/n) + |z/c|^m <= 1`` around a local ``centre``.

    ``radius`` bounds the shape around its centre (it lies within the box of half sizes).

    ``n`` shapes the cross-section (2 = ellipse, larger = boxier), ``m`` the profile along z
    (2 = ellipsoid, 8 = nearly flat ends like a vertebral endplate).
    """

    half: tuple[float, float, float]
    n: float = 2.0
    m: float = 2.0
    centre: tuple[float, float, float] = (0.0, 0.0, 0.0)
    radius: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if min(self.half) <= 0:
            raise ValueError(f"superellipsoid half sizes must be positive, got {self.half}")
        object.__setattr__(self, "radius", float(np.linalg.norm(self.half)))

    def value(self, local: AnyFloat) -> AnyFloat:
        """The implicit function at local points ``(..., 3)``; ``<= 1`` inside."""
        return self.value_xyz(local[..., 0], local[..., 1], local[..., 2])

    def value_xyz(self, x: AnyFloat, y: AnyFloat, z: AnyFloat) -> AnyFloat:
        """The implicit function from separate (broadcastable) local coordinate arrays."""
        a, b, c = self.half
        x = np.abs(x - np.float32(self.centre[0])) * np.float32(1.0 / a)
        y = np.abs(y - np.float32(self.centre[1])) * np.float32(1.0 / b)
        radial = _power(_power(x, self.n) + _power(y, self.n), self.m / self.n)
        if c >= _ENDLESS:
            return radial
        return radial + _power(np.abs(z - np.float32(self.centre[2])) * np.float32(1.0 / c), self.m)

    def contains(self, local: FloatArray) -> BoolArray:
        """True for local points inside."""
        return self.value(local) <= 1.0

    def shrunk(self, by: float) -> Superellipsoid:
        """The same shape with every half size reduced by ``by`` mm (an inner surface)."""
        half = tuple(max(h - by, 0.25) for h in self.half)
        return Superellipsoid(half=half, n=self.n, m=self.m, centre=self.centre)  # type: ignore[arg-type]

    def grown(self, lateral: float, posterior: float, superior: float = 0.0) -> Superellipsoid:
        """The same shape with half sizes increased per axis (a bulge)."""
        a, b, c = self.half
        return Superellipsoid(
            half=(a + lateral, b + posterior, c + superior), n=self.n, m=self.m, centre=self.centre
        )


@dataclass(frozen=True)
class CollapsedBody(Superellipsoid):
    """A superellipsoid whose endplates sink by ``loss * depth(x, y)`` of the half height.

    ``half`` are the intact outer half sizes; ``inset`` mm (a cortex) is taken off every side,
    as :meth:`Superellipsoid.shrunk` does, but the profile stays that of the outer surface.
    Profiles (``kind``): ``wedge``, 1 at the anterior wall (``y = -b``) falling linearly to 0
    at the posterior wall (planar endplates); ``crush``, 1 everywhere; ``biconcave``,
    ``(1 - rho^2)^2`` with ``rho = |(x/a, y/b)| / dish`` below 1, else 0 (an intact rim).
    """

    kind: str = "crush"
    loss: float = 0.0
    inset: float = 0.0
    dish: float = 0.8

    def depth(self, x: AnyFloat, y: AnyFloat) -> AnyFloat:
        """The sinking profile (0-1) at local ``x, y`` relative to ``centre``."""
        a, b, _ = self.half
        x = (x - np.float32(self.centre[0])) * np.float32(1.0 / a)
        y = (y - np.float32(self.centre[1])) * np.float32(1.0 / b)
        if self.kind == "wedge":
            return np.clip(np.float32(0.5) - np.float32(0.5) * y, 0.0, 1.0) + 0.0 * x
        if self.kind == "biconcave":
            rho2 = (x * x + y * y) * np.float32(1.0 / self.dish**2)
            inner = np.clip(np.float32(1.0) - rho2, 0.0, 1.0)
            return inner * inner
        return np.ones_like(x + y)

    def value_xyz(self, x: AnyFloat, y: AnyFloat, z: AnyFloat) -> AnyFloat:
        """The implicit function: a superellipsoid whose half height varies with ``x, y``."""
        a, b, c = self.half
        inset = self.inset
        sink = self.depth(x, y)
        xs = np.abs(x - np.float32(self.centre[0])) * np.float32(1.0 / max(a - inset, 0.25))
        ys = np.abs(y - np.float32(self.centre[1])) * np.float32(1.0 / max(b - inset, 0.25))
        radial = _power(_power(xs, self.n) + _power(ys, self.n), self.m / self.n)
        half_height = np.maximum(
            np.float32(c) * (np.float32(1.0) - np.float32(self.loss) * sink) - np.float32(inset),
            np.float32(0.25),
        )
        return radial + _power(np.abs(z - np.float32(self.centre[2])) / half_height, self.m)

    def shrunk(self, by: float) -> CollapsedBody:
        """The inner surface ``by`` mm inside (same profile)."""
        return CollapsedBody(
            half=self.half,
            n=self.n,
            m=self.m,
            centre=self.centre,
            kind=self.kind,
            loss=self.loss,
            inset=self.inset + by,
            dish=self.dish,
        )


@dataclass(frozen=True)
class HalfSpace:
    """Points with ``(p - point) . normal <= 0`` (patient coordinates)."""

    point: FloatArray
    normal: FloatArray

    def contains(self, points: FloatArray) -> BoolArray:
        """True for patient points on the inner side."""
        return (points - self.point) @ self.normal <= 0.0
