"""A smooth curve through ordered points (vertebra centres, canal points) and frames along it.

:class:`CentreCurve` is a natural cubic spline through the points, parametrised by the chord
length between them, re-sampled densely and measured again so that positions along it are
true arc lengths in mm. Past the first and last points it continues straight along the end
tangents (a reformat needs some room above the first body and below the last).

:meth:`CentreCurve.frames` gives an orthonormal frame at any arc length: the tangent, an
``across`` direction (a patient direction such as left, made perpendicular to the tangent, so
it never twists about the curve) and the third, ``depth``, direction. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
#: Dense samples per mm used to measure arc length.
_SAMPLES_PER_MM = 4.0


def natural_cubic_spline(t: FloatArray, y: FloatArray, at: FloatArray) -> FloatArray:
    """Values at ``at`` of the natural cubic spline through ``(t, y)`` (``y``: (n, d)).

    ``t`` strictly increasing; two points give the straight line between them.
    """
    n = len(t)
    h = np.diff(t)
    second = np.zeros_like(y)
    if n > 2:
        a = np.zeros((n - 2, n - 2))
        idx = np.arange(n - 2)
        a[idx, idx] = 2.0 * (h[:-1] + h[1:])
        a[idx[1:], idx[:-1]] = h[1:-1]
        a[idx[:-1], idx[1:]] = h[1:-1]
        slopes = np.diff(y, axis=0) / h[:, None]
        second[1:-1] = np.linalg.solve(a, 6.0 * np.diff(slopes, axis=0))
    seg = np.clip(np.searchsorted(t, at, side="right") - 1, 0, n - 2)
    t0, hs = t[seg], h[seg]
    w1 = ((at - t0) / hs)[:, None]
    w0 = 1.0 - w1
    m0, m1 = second[seg], second[seg + 1]
    hh = (hs**2)[:, None] / 6.0
    out: FloatArray = w0 * y[seg] + w1 * y[seg + 1] + hh * ((w0**3 - w0) * m0 + (w1**3 - w1) * m1)
    return out


@dataclass(frozen=True)
class CurveFrames:
    """Frames at arc lengths ``s`` (n,): ``points``, ``tangent``, ``across``, ``depth`` (n, 3)."""

    s: FloatArray
    points: FloatArray
    tangent: FloatArray
    across: FloatArray
    depth: FloatArray


@dataclass(frozen=True)
class CentreCurve:
    """A smooth curve through ordered points, measured in mm along its length.

    ``knots_s`` are the arc lengths of the given points (the first at 0), ``length`` the arc
    length of the last one.
    """

    points: FloatArray
    dense_s: FloatArray
    dense_points: FloatArray
    knots_s: FloatArray

    @classmethod
    def through(cls, points: ArrayLike) -> CentreCurve:
        """The curve through ``points`` (n, 3) in their order; n >= 2, no two alike."""
        p = np.asarray(points, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 3 or len(p) < 2:
            raise ValueError(f"a curve needs at least two 3-D points, got shape {p.shape}")
        chords = np.linalg.norm(np.diff(p, axis=0), axis=1)
        if np.any(chords < 1e-6):
            raise ValueError("two consecutive curve points coincide")
        t = np.concatenate([[0.0], np.cumsum(chords)])
        fine = np.linspace(0.0, t[-1], max(int(t[-1] * _SAMPLES_PER_MM), 2) + 1)
        fine = np.union1d(fine, t)
        dense = natural_cubic_spline(t, p, fine)
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
        knots = arc[np.searchsorted(fine, t)]
        return cls(p, arc, dense, knots)

    @property
    def length(self) -> float:
        """Arc length from the first point to the last (mm)."""
        return float(self.dense_s[-1])

    def at(self, s: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Points and unit tangents at arc lengths ``s`` (straight beyond the ends)."""
        s = np.atleast_1d(np.asarray(s, dtype=np.float64))
        ds = self.dense_s
        inside = np.clip(s, 0.0, ds[-1])
        pts = np.stack([np.interp(inside, ds, self.dense_points[:, i]) for i in range(3)], axis=1)
        grads = np.gradient(self.dense_points, ds, axis=0)
        tan = np.stack([np.interp(inside, ds, grads[:, i]) for i in range(3)], axis=1)
        tan /= np.linalg.norm(tan, axis=1, keepdims=True)
        pts = pts + (s - inside)[:, None] * tan
        return pts, tan

    def frames(self, s: ArrayLike, across_hint: ArrayLike) -> CurveFrames:
        """Frames at ``s``: ``across`` is ``across_hint`` made perpendicular to the tangent;
        ``depth = tangent x across``."""
        s = np.atleast_1d(np.asarray(s, dtype=np.float64))
        pts, tan = self.at(s)
        hint = np.asarray(across_hint, dtype=np.float64)
        across = hint[None, :] - (tan @ hint)[:, None] * tan
        norms = np.linalg.norm(across, axis=1, keepdims=True)
        if np.any(norms < 1e-6):
            raise ValueError("the curve runs along the across direction; choose another")
        across /= norms
        return CurveFrames(s, pts, tan, across, np.cross(tan, across))

    def nearest_s(self, points: ArrayLike) -> FloatArray:
        """Arc length of the curve point nearest each of ``points`` (..., 3); beyond the ends
        (negative, or past :attr:`length`) along the straight continuations."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        d2 = ((p[:, None, :] - self.dense_points[None, :, :]) ** 2).sum(axis=2)
        best = np.argmin(d2, axis=1)
        # refine on the segment either side by projecting onto it
        out = np.empty(len(p))
        for n, b in enumerate(best):
            lo, hi = max(b - 1, 0), min(b + 1, len(self.dense_s) - 1)
            a, c = self.dense_points[lo], self.dense_points[hi]
            seg = c - a
            f = float(np.clip((p[n] - a) @ seg / max(seg @ seg, 1e-12), 0.0, 1.0))
            out[n] = self.dense_s[lo] + f * (self.dense_s[hi] - self.dense_s[lo])
        ends, tangents = self.at([0.0, self.length])
        before = (p - ends[0]) @ tangents[0]
        after = (p - ends[1]) @ tangents[1]
        out = np.where((out <= 0.0) & (before < 0.0), before, out)
        out = np.where((out >= self.length) & (after > 0.0), self.length + after, out)
        return out
