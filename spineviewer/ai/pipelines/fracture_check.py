"""The fracture model's answer checked against the body's measured heights.

The demo fracture model learnt the training phantoms' fracture shapes; on another generator it
called half of the intact vertebrae fractured, many with probabilities above 0.9 (its card
says so). A radiologist would not call a compression fracture without a height loss (Genant),
so every answer is checked against the heights :mod:`spineviewer.ai.body_heights` measures:

- the model says fractured and the body's height loss is under :data:`LOSS_CLEARS`: the answer
  becomes "uncertain" (the model's call is not borne out by the heights);
- the model says normal and the loss is at least :data:`LOSS_SUSPECT`: "uncertain" too (the
  heights suggest a deformity the model did not see);
- otherwise the model's answer stands, with the heights and the loss's Genant grade attached;
- a body that could not be measured keeps the model's answer and says so.

The thresholds are Genant's: a loss under 20 % is no fracture. :data:`LOSS_CLEARS` sits below it
and :data:`LOSS_SUSPECT` above it by the measurement's spread on the training generator's
held-out phantoms (wide profile), so a borderline body keeps the model's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace

import numpy as np

from spineviewer.ai.body_heights import BodyHeights, genant_grade, height_loss, measure_body
from spineviewer.ai.findings import UNCERTAIN, VertebraFinding
from spineviewer.ai.usable import UsableSlices

__all__ = ["LOSS_CLEARS", "LOSS_SUSPECT", "checked", "column_heights"]

#: A "fractured" body whose height loss is below this is reported "uncertain".
LOSS_CLEARS = 0.12
#: A "normal" body whose height loss is at least this is reported "uncertain".
LOSS_SUSPECT = 0.30
#: Sagittal slices this close (mm, left-right) to a body's centre are measured; each height
#: is the median over them (the body's middle third; a parasagittal slice through a pedicle
#: would measure something else).
MEASURE_MAX_DISTANCE_MM = 5.0
#: A height above this fraction of the centre-to-centre spacing crossed a disc: not used.
MAX_HEIGHT = 0.9


def column_heights(
    usable: UsableSlices, column: Sequence[VertebraFinding]
) -> dict[str, BodyHeights]:
    """The heights of each thoracic or lumbar body of ``column`` (one series' vertebrae), the
    median of each height over the usable slices within :data:`MEASURE_MAX_DISTANCE_MM` of its
    centre; bodies that cannot be measured are left out."""
    bodies = sorted((v for v in column if v.label[:1] in "TL"), key=lambda v: float(v.centre_mm[2]))
    if len(bodies) < 2 or not usable.planes or not usable.values:
        return {}
    centres = [np.asarray(v.centre_mm, dtype=np.float64) for v in bodies]
    measured: dict[str, BodyHeights] = {}
    for i, body in enumerate(bodies):
        near = [centres[j] for j in (i - 1, i + 1) if 0 <= j < len(bodies)]
        below = centres[i - 1] if i > 0 else centres[i]
        above = centres[i + 1] if i + 1 < len(bodies) else centres[i]
        spacing = float(np.mean([np.linalg.norm(c - centres[i]) for c in near]))
        reads = [
            measure_body(values, plane, centres[i], above - below, spacing)
            for values, plane in zip(usable.values, usable.planes, strict=True)
            if abs(float(plane.distance(centres[i]))) <= MEASURE_MAX_DISTANCE_MM
        ]
        heights = [h for h in reads if h is not None and h.highest_mm <= MAX_HEIGHT * spacing]
        if heights:
            measured[body.label] = BodyHeights(
                *(
                    float(np.median([getattr(h, f.name) for h in heights]))
                    for f in fields(BodyHeights)
                )
            )
    return measured


def checked(
    finding: VertebraFinding,
    answer: str,
    probability: float,
    heights: dict[str, BodyHeights],
    order: Sequence[str],
) -> VertebraFinding:
    """``finding`` with the model's ``answer`` ("normal" / "fractured") and the probability of
    "fractured", checked against its heights (``order``: the column's labels, caudal first,
    to find its neighbours)."""
    own = heights.get(finding.label)
    if own is None:
        return replace(
            finding,
            fracture=answer,
            fracture_probability=probability,
            fracture_reasons=("body heights not measured: the model's answer unchecked",),
        )
    at = order.index(finding.label) if finding.label in order else -1
    neighbours = [
        heights[order[j]]
        for j in (at - 1, at + 1)
        if at >= 0 and 0 <= j < len(order) and order[j] in heights
    ]
    loss = height_loss(own, neighbours)
    grade = genant_grade(loss)
    a, m, p = own.as_tuple()
    measured = f"heights A/M/P {a:g}/{m:g}/{p:g} mm, loss {loss:.0%} (Genant grade {grade})"
    value = answer
    reasons: tuple[str, ...] = (measured,)
    if answer == "fractured" and loss < LOSS_CLEARS:
        value = UNCERTAIN
        reasons = (f"the model says fractured ({probability:.2f}) but {measured}",)
    elif answer != "fractured" and loss >= LOSS_SUSPECT:
        value = UNCERTAIN
        reasons = (f"the model says intact (fracture {probability:.2f}) but {measured}",)
    return replace(
        finding,
        fracture=value,
        fracture_probability=probability,
        body_heights_mm=own.as_tuple(),
        height_loss=round(loss, 3),
        fracture_reasons=reasons,
    )
