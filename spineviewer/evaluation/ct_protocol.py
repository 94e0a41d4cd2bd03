"""The acquisition of a lumbar CT study: one straight axial stack planned on the anatomy.

No gantry tilt. Slices 1-3 mm thick, reconstructed every 0.75-1 thickness (overlapping
reconstructions are common); a 512 matrix over a reconstruction diameter of 256-461 mm (pixels
0.5-0.9 mm), centred 10-50 mm in front of the column (the trunk may be cut at the sides of a
small field, as in a targeted reconstruction). From 2-10 mm above the top endplate of T11 or
T12 (the case says which) down to 0-25 mm below the centre of S2, or, without the sacrum, to
2-8 mm above the highest point of S1. Maker, kVp and a soft or bone kernel are drawn; the
noise is the case's (:mod:`~spineviewer.evaluation.ct_case_mix`) at the slice thickness, half
again with a bone kernel, whose noise is also finer grained. Stored values are HU minus the
maker's RescaleIntercept (-1024, or -1000 for Philips), 12 bits unsigned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spineviewer.evaluation.column import Column
from spineviewer.evaluation.ct_case_mix import REFERENCE_NOISE_HU, CtCase
from spineviewer.evaluation.naming import VENDORS
from spineviewer.evaluation.protocol import top_z
from spineviewer.evaluation.render import Profile, StackGeometry

__all__ = ["CT_PROFILE", "MATRIX", "CtProtocol", "plan_ct_protocol"]

MATRIX = 512
#: A CT slice's sensitivity profile: two sub-planes (slices are 1-3 mm thick).
CT_PROFILE: Profile = ((-0.25, 1.0), (0.25, 1.0))
#: (soft kernel, bone kernel) names and the description's words per maker.
_KERNELS = {
    "SIEMENS": (("Br40", "Br64"), "LWS"),
    "GE MEDICAL SYSTEMS": (("STANDARD", "BONEPLUS"), "L-SPINE"),
    "Philips": (("B", "YD"), "LSpine"),
}
_INTERCEPT = {"SIEMENS": -1024.0, "GE MEDICAL SYSTEMS": -1024.0, "Philips": -1000.0}


@dataclass(frozen=True)
class CtProtocol:
    geometry: StackGeometry
    vendor: str
    kvp: int
    bone_kernel: bool
    kernel_name: str
    description: str
    rescale_intercept: float
    noise_sigma_hu: float
    parameters: dict[str, Any]


def _rows(case: CtCase, column: Column, rng: np.random.Generator) -> tuple[float, float]:
    """The z of the highest and the lowest slice."""
    top = top_z(column.body(case.top)) + float(rng.uniform(2.0, 10.0))
    if case.sacrum_in_view:
        bottom = float(column.body("S2").centre[2]) - float(rng.uniform(0.0, 25.0))
    else:
        bottom = top_z(column.body("S1")) + float(rng.uniform(2.0, 8.0))
    return top, bottom


def plan_ct_protocol(
    case: CtCase, column: Column, rng: np.random.Generator, matrix: int = MATRIX
) -> CtProtocol:
    """The stack of ``case`` (``matrix``: columns and rows; smaller ones keep the field and
    make bigger pixels, for tests)."""
    vendor = list(VENDORS)[int(rng.integers(0, len(VENDORS)))]
    thickness = float(rng.uniform(1.0, 3.0))
    step = thickness * float(rng.uniform(0.75, 1.0))
    diameter = MATRIX * float(rng.uniform(0.5, 0.9))
    pixel = diameter / matrix
    top, bottom = _rows(case, column, rng)
    count = math.floor((top - bottom) / step) + 1
    spine = np.mean([b.centre for b in column.bodies if b.region == "lumbar"], axis=0)
    centre_x = float(spine[0]) + float(rng.uniform(-10.0, 10.0))
    centre_y = float(spine[1]) - float(rng.uniform(10.0, 50.0))
    half = pixel * (matrix - 1) / 2
    origin = np.array([centre_x - half, centre_y - half, bottom])
    geometry = StackGeometry(
        origin,
        np.array([1.0, 0.0, 0.0]),
        np.array([0.0, 1.0, 0.0]),
        (pixel, pixel),
        (matrix, matrix),
        count,
        step,
        thickness,
    )
    bone = bool(rng.random() < 0.5)
    kvp = int(rng.choice([100, 120]))
    sigma = REFERENCE_NOISE_HU * case.noise_factor * math.sqrt(3.0 / thickness)
    sigma *= 1.5 if bone else 1.0
    kernels, word = _KERNELS[vendor]
    kernel = kernels[1] if bone else kernels[0]
    description = f"{word} {'BONE' if bone else 'SOFT'} {thickness:.1f}mm {kernel}"
    parameters = {
        "manufacturer": vendor,
        "kvp": kvp,
        "kernel": kernel,
        "bone_kernel": bone,
        "slice_thickness_mm": round(thickness, 4),
        "spacing_between_slices_mm": round(step, 4),
        "pixel_spacing_mm": round(pixel, 6),
        "reconstruction_diameter_mm": round(diameter, 3),
        "slices": count,
        "z_range_mm": [round(bottom, 2), round(bottom + step * (count - 1), 2)],
        "noise_sigma_hu": round(sigma, 3),
    }
    return CtProtocol(
        geometry, vendor, kvp, bone, kernel, description, _INTERCEPT[vendor], sigma, parameters
    )
