"""The soft tissues of an AP radiograph, projected in closed form.

The trunk is an elliptic cylinder whose half width changes with height (narrowest at the waist,
widest at the hips), turned with the patient on the table: fat under the skin (a drawn
thickness) round muscle and organs (water-like). The lung bases are two ellipsoids of aerated
lung above the diaphragm domes (about T10-T11; lower at the sides), and gas in the bowel a few
ellipsoids of air in the abdomen. Each is a chord length along the ray times the attenuation
difference it makes (the lungs and gas replace soft tissue). Rays are taken parallel through the
trunk at the spine plane's magnification: the trunk's edges are smooth anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spineviewer.evaluation.xr_project import XrGeometry
from spineviewer.evaluation.xr_tissues import XrTable

__all__ = ["SoftTissue", "draw_soft_tissue", "project_soft_tissue"]

Blob = tuple[tuple[float, float, float], tuple[float, float, float]]


@dataclass(frozen=True)
class SoftTissue:
    centre_x: float
    centre_y: float
    #: Half depth and the half width at the waist, the hips and the chest (mm), and where
    #: (z) the waist and the hip are.
    half_depth: float
    half_width: tuple[float, float, float]
    waist_z: float
    hip_z: float
    fat_mm: float
    turn_deg: float
    lungs: tuple[Blob, ...]
    gas: tuple[Blob, ...]

    def parameters(self) -> dict[str, object]:
        return {
            "trunk_half_depth_mm": round(self.half_depth, 1),
            "trunk_half_width_mm": [round(v, 1) for v in self.half_width],
            "subcutaneous_fat_mm": round(self.fat_mm, 1),
            "gas_pockets": len(self.gas),
        }


def draw_soft_tissue(
    rng: np.random.Generator, spine_y: float, t10_z: float, s1_z: float, turn_deg: float
) -> SoftTissue:
    """The trunk round a spine whose bodies lie at ``spine_y`` (mm), T10 at ``t10_z``, S1's top
    at ``s1_z``."""
    half_depth = float(rng.uniform(85.0, 135.0))
    back = spine_y + float(rng.uniform(55.0, 75.0))
    waist = float(rng.uniform(125.0, 165.0))
    widths = (waist, waist * float(rng.uniform(1.1, 1.3)), waist * float(rng.uniform(1.0, 1.15)))
    lungs = tuple(
        (
            (s * float(rng.uniform(60, 85)), spine_y - 10.0, t10_z + float(rng.uniform(50, 80))),
            (65.0, 70.0, 75.0),
        )
        for s in (-1.0, 1.0)
    )
    gas = tuple(
        (
            (
                float(rng.uniform(-100, 100)),
                back - 2 * half_depth + float(rng.uniform(40, 110)),
                float(rng.uniform(s1_z - 60, t10_z - 80)),
            ),
            (float(rng.uniform(10, 35)), float(rng.uniform(8, 20)), float(rng.uniform(8, 25))),
        )
        for _ in range(int(rng.integers(2, 9)))
    )
    return SoftTissue(
        centre_x=float(rng.uniform(-8, 8)),
        centre_y=back - half_depth,
        half_depth=half_depth,
        half_width=widths,
        waist_z=s1_z + 110.0,
        hip_z=s1_z - 60.0,
        fat_mm=float(rng.uniform(8.0, 40.0)),
        turn_deg=turn_deg,
        lungs=lungs,
        gas=gas,
    )


def _ellipse_chord(
    x: NDArray[np.float64], a: NDArray[np.float64], b: float, turn: float
) -> NDArray[np.float64]:
    """Length of the line ``x = const`` (along y) inside an ellipse of half axes ``a`` (x) and
    ``b`` (y) turned by ``turn`` radians, centred at the origin."""
    c, s = math.cos(turn), math.sin(turn)
    # points (x, t): in the ellipse frame (x c + t s, -x s + t c); solve A t^2 + B t + C = 0
    qa = (s / a) ** 2 + (c / b) ** 2
    qb = 2 * x * (c * s / a**2 - s * c / b**2)
    qc = (x * c / a) ** 2 + (x * s / b) ** 2 - 1.0
    disc = np.maximum(qb**2 - 4 * qa * qc, 0.0)
    return np.sqrt(disc) / qa


def _blob_chord(x: NDArray[np.float64], z: NDArray[np.float64], blob: Blob) -> NDArray[np.float64]:
    (cx, _, cz), (a, b, c) = blob
    inside = 1.0 - ((x - cx) / a) ** 2 - ((z - cz) / c) ** 2
    return 2.0 * b * np.sqrt(np.maximum(inside, 0.0))


def project_soft_tissue(
    geometry: XrGeometry, soft: SoftTissue, table: XrTable
) -> NDArray[np.float32]:
    """The soft tissues' line integral on the work grid."""
    u, w = geometry.work_uw()
    scale = geometry.sod / geometry.sid
    x = geometry.x_c + u[None, :] * scale - soft.centre_x
    z = geometry.z_c + w[:, None] * scale
    waist, hips, chest = soft.half_width
    t_hip = np.clip((soft.waist_z - z) / (soft.waist_z - soft.hip_z), 0.0, 1.0)
    t_chest = np.clip((z - soft.waist_z) / 150.0, 0.0, 1.0)
    a = waist + (hips - waist) * np.sin(t_hip * math.pi / 2) + (chest - waist) * t_chest
    turn = math.radians(soft.turn_deg)
    outer = _ellipse_chord(x, a, soft.half_depth, turn)
    fat = soft.fat_mm
    inner = _ellipse_chord(x, np.maximum(a - fat, 10.0), max(soft.half_depth - fat, 10.0), turn)
    line = table.fat * outer + (table.muscle - table.fat) * inner
    xs = geometry.x_c + u[None, :] * scale
    for lung in soft.lungs:
        line -= (table.soft - table.lung) * _blob_chord(xs, z, lung) * (inner > 0)
    for gas in soft.gas:
        line -= table.soft * _blob_chord(xs, z, gas) * (inner > 0)
    return np.maximum(line, 0.0).astype(np.float32)
