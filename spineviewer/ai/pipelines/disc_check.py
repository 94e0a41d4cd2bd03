"""The disc-state models' answer checked against the disc's measured posterior margin.

The demo disc-state models learnt the training phantoms' discs; on another generator they
called many normal discs bulging or herniated. A radiologist names a bulge or a herniation by
where the disc's tissue lies against the vertebral bodies' margins (Fardon 2014), so every
lumbar disc's answer is checked against what :mod:`spineviewer.ai.disc_contour` measures on
the sagittal slices beside its centre:

- the model says herniation and the disc's margin reaches less than :data:`HERNIATION_CLEARS`
  beyond the line of the bodies' posterior corners on every slice: "uncertain" (no displaced
  disc tissue where a herniation should show);
- the model says bulge and the margin stays :data:`BULGE_CLEARS` or more in front of that line
  on every slice: "uncertain";
- the model says normal and the margin reaches :data:`NORMAL_SUSPECT` or more beyond it on
  some slice: "uncertain" (disc tissue in the canal the model did not see);
- otherwise the model's answer stands, with the measurement attached;
- a disc that could not be measured (a T1-like sagittal series, a body off the image) keeps the
  model's answer and says so.

"Uncertain" is the disc's review (``review``), as for a model that is not sure: the state stays
the model's answer, the reason is in ``review_reasons`` and ``state_reasons``.

The thresholds were set on the training generator's held-out phantoms (wide profile, seeds
95000-95029, measured with the pipeline's own vertebra centres): there normal discs measured
-1.0 to +0.7 mm, so :data:`HERNIATION_CLEARS` sits just above them and :data:`NORMAL_SUSPECT`
at a clinical herniation's smallest size; true bulges measured +0.2 mm or more. A herniation
is missed by the measurement (and its correct "herniation" made uncertain) when its material
is nearly as bright as the canal on T2, or lies within the line of the corners, as the
training generator draws some. Measured through the whole pipeline on those 30 studies (142
scored discs): right 75 -> 69, coverage 0.73 -> 0.54, normal discs reported bulge or
herniation 25 -> 4 of 57, right among the confident answers 0.73 -> 0.91; 6 of 75 right
answers and 21 of 28 wrong confident answers became uncertain. On the second generator
(spineviewer.evaluation, 40 studies from seed 700000, 184 discs) afterwards: right 130 -> 122,
coverage 0.86 -> 0.77, normal discs reported abnormal 20 -> 15 of 101; its normal discs
measure up to 2.3 mm (the reference line through mid-body walls measured up to 3.9 mm there,
which is why the corners are used, as the nomenclature draws the line: a second look at that
generator, so those figures are not a blind test).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from spineviewer.ai.disc_contour import DiscContour, measure_disc
from spineviewer.ai.findings import UNCERTAIN, DiscFinding, VertebraFinding, worst
from spineviewer.ai.usable import UsableSlices

__all__ = [
    "BULGE_CLEARS",
    "HERNIATION_CLEARS",
    "MEASURE_MAX_DISTANCE_MM",
    "NORMAL_SUSPECT",
    "checked",
    "disc_contours",
]

#: A "herniation" whose margin reaches less than this beyond the corners' line (mm) is uncertain.
HERNIATION_CLEARS = 1.0
#: A "bulge" whose margin stays this far or more in front of the corners' line (mm) is uncertain.
BULGE_CLEARS = 0.5
#: A "normal" disc whose margin reaches this or more beyond the corners' line (mm) is uncertain.
NORMAL_SUSPECT = 2.0
#: Sagittal slices this close (left-right, mm) to a disc's centre are measured (a paracentral
#: herniation shows beside the midline; further out the bodies' and the disc's outlines curve
#: forward differently).
MEASURE_MAX_DISTANCE_MM = 12.0
UNMEASURED = "disc contour not measured: the model's answer unchecked"


def disc_contours(
    usable: UsableSlices, column: Sequence[VertebraFinding], levels: Iterable[str]
) -> dict[str, DiscContour]:
    """The contour of each disc of ``levels`` ("L4-L5") whose two bodies are in ``column`` (one
    series' vertebrae), measured on the usable slices within :data:`MEASURE_MAX_DISTANCE_MM`
    of its centre; discs that cannot be measured are left out."""
    if not usable.planes or not usable.values:
        return {}
    centres = {v.label: np.asarray(v.centre_mm, dtype=np.float64) for v in column}
    normal = usable.planes[0].normal
    positions = sorted(float(p.origin @ normal) for p in usable.planes)
    thickness = float(np.median(np.diff(positions))) if len(positions) > 1 else 4.0
    measured: dict[str, DiscContour] = {}
    for level in levels:
        upper, _, lower = level.partition("-")
        if upper not in centres or lower not in centres:
            continue
        middle = (centres[upper] + centres[lower]) / 2
        near = [
            (values, plane)
            for values, plane in zip(usable.values, usable.planes, strict=True)
            if abs(float(plane.distance(middle))) <= MEASURE_MAX_DISTANCE_MM
        ]
        contour = measure_disc(near, centres[upper], centres[lower], thickness)
        if contour is not None:
            measured[level] = contour
    return measured


def _measured(contour: DiscContour) -> str:
    """The measurement in words."""
    extension, measured = contour.posterior_extension_mm, contour.measured_width_mm
    if extension < 0:
        return (
            f"its posterior margin stays {-extension:.1f} mm in front of the line of the "
            f"bodies' posterior corners ({measured:.0f} mm measured left-right)"
        )
    return (
        f"its posterior margin reaches {extension:.1f} mm beyond the line of the bodies' "
        f"posterior corners, over {contour.extension_width_mm:.0f} of {measured:.0f} mm "
        "measured left-right"
    )


def checked(finding: DiscFinding, contour: DiscContour | None) -> DiscFinding:
    """``finding`` (the model's state) checked against its disc's ``contour``."""
    if contour is None:
        return replace(finding, state_reasons=(UNMEASURED,))
    measured = _measured(contour)
    extension = contour.posterior_extension_mm
    p = finding.probabilities.get(finding.state, 0.0)
    said = f"the model says {finding.state} ({p:.2f})"
    doubt = ""
    if finding.state == "herniation" and extension < HERNIATION_CLEARS:
        doubt = f"{said} but no disc tissue beyond the bodies' margins: {measured}"
    elif finding.state == "bulge" and extension <= -BULGE_CLEARS:
        doubt = f"{said} but the disc stays within the bodies' margins: {measured}"
    elif finding.state == "normal" and extension >= NORMAL_SUSPECT:
        doubt = f"{said} but disc tissue reaches beyond the bodies' margins: {measured}"
    measured_finding = replace(
        finding,
        posterior_extension_mm=extension,
        extension_width_mm=contour.extension_width_mm,
        measured_width_mm=contour.measured_width_mm,
        state_reasons=(doubt or measured,),
    )
    if not doubt:
        return measured_finding
    return replace(
        measured_finding,
        review=worst(finding.review, UNCERTAIN),
        review_reasons=(*finding.review_reasons, doubt),
    )
