"""The column of vertebrae read on each sagittal contrast of a study, and which read to trust.

A lumbar MR study often has sagittal T2 and T1 (and STIR) series in one frame of reference.
The detector accepts each; a read that fails on one contrast (a missed or doubled body, a
sliver taken for a body) is often clean on another, and two clean reads that number the column
differently are a reason to doubt both. :func:`read_column` reads one series (detections on
every usable slice, fused, labelled, checked: :mod:`spineviewer.ai.label_check`);
:func:`best_read` picks the read to report (labels that passed their checks first, then the
one that found more bodies, then the preferred contrast) and says when another clean read
disagrees with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from spineviewer.ai.detection import Detections, detect
from spineviewer.ai.findings import CONFIDENT, NEEDS_REVIEW, UNCERTAIN, worst
from spineviewer.ai.label_check import LabelReview, check_labelling, restated
from spineviewer.ai.mr_series import MrStack
from spineviewer.ai.pipelines.base import Context, Skip, monochrome1
from spineviewer.ai.preprocessing import Letterbox
from spineviewer.ai.usable import UsableSlices, usable_slices
from spineviewer.ai.vertebra_labels import Body, SliceDetections, fuse_slices

__all__ = ["MATCH_STEPS", "ColumnRead", "best_read", "disagreement", "doubted", "read_column"]

#: Two reads' bodies closer than this many median body spacings are the same body.
MATCH_STEPS = 0.4
#: A check's status, best first.
_STATUS_RANK = {CONFIDENT: 0, UNCERTAIN: 1, NEEDS_REVIEW: 2}


@dataclass(frozen=True)
class ColumnRead:
    """One sagittal series read: its usable slices, each slice's detections and letterbox, the
    checked labelling, the detector's id and the warnings the read raised."""

    mr: MrStack
    usable: UsableSlices
    found: tuple[tuple[Detections, Letterbox], ...]
    review: LabelReview
    model_id: str
    warnings: tuple[str, ...]

    @property
    def contrast(self) -> str:
        return self.mr.contrast or "unknown-contrast"

    @property
    def bodies(self) -> list[Body]:
        return [b for b in self.review.labelling.bodies if b.centre_mm is not None]


def read_column(ctx: Context, mr: MrStack, what: str = "sagittal series") -> ColumnRead:
    """Detect, fuse, label and check the vertebrae of ``mr``; Skip when no detector accepts
    it, it is too damaged or no body is found. ``what`` names the series in the warnings; a
    read that is skipped after its slices were checked leaves their warnings (the files it
    left out) in ``ctx``."""
    stack = mr.stack
    session = ctx.session(
        "detection", "MR", "sagittal", contrast=mr.contrast, body_part=mr.body_part
    )
    usable = usable_slices(stack, ctx.check)
    warnings = usable.warnings(what)
    if usable.too_damaged:
        ctx.warnings += warnings
        raise Skip(f"{what} too damaged to analyse: {usable.too_damaged}")
    found = detect(
        session.manifest,
        session.session,
        list(usable.values),
        monochrome1=monochrome1(stack),
        spacing=stack.pixel_spacing,
    )
    per_slice = [
        SliceDetections(dets, box, plane, index)
        for (dets, box), plane, index in zip(found, usable.planes, usable.indices, strict=True)
    ]
    labelling = fuse_slices(per_slice, reference=len(per_slice) // 2)
    warnings += [f"vertebrae: {w}" for w in labelling.warnings if not restated(w)]
    if not labelling.bodies:
        ctx.warnings += warnings
        raise Skip(f"no vertebral body found on the {what}")
    review = check_labelling(labelling, usable)
    return ColumnRead(mr, usable, tuple(found), review, session.manifest.id, tuple(warnings))


def best_read(reads: Sequence[ColumnRead]) -> tuple[ColumnRead, tuple[str, ...]]:
    """The read to report (``reads`` in order of preference: labels that passed their checks
    first, then more bodies, then the earlier read) and why not the first, if it is not."""
    chosen = min(
        range(len(reads)),
        key=lambda k: (
            _STATUS_RANK.get(reads[k].review.result.status, 3),
            -len(reads[k].bodies),
            k,
        ),
    )
    read = reads[chosen]
    if chosen == 0:
        return read, ()
    first = reads[0]
    if first.review.result.status != read.review.result.status:
        why = f"its labels passed their checks, the {first.contrast} series' did not"
    else:
        why = f"it shows {len(read.bodies)} bodies, the {first.contrast} series {len(first.bodies)}"
    return read, (f"vertebrae read on the sagittal {read.contrast} series: {why}",)


def disagreement(read: ColumnRead, other: ColumnRead) -> str | None:
    """Why ``read``'s labels are in doubt when ``other`` (a read whose labels passed their
    checks) numbers a body they share differently; None when they agree."""
    mine, theirs = read.bodies, other.bodies
    if len(mine) < 2 or not theirs:
        return None
    z = np.array([b.centre_mm[2] for b in mine if b.centre_mm is not None])
    limit = MATCH_STEPS * float(np.median(np.abs(np.diff(z))))
    points = np.array([b.centre_mm for b in theirs if b.centre_mm is not None])
    for body in mine:
        assert body.centre_mm is not None
        distance = np.linalg.norm(points - np.asarray(body.centre_mm), axis=1)
        nearest = int(np.argmin(distance))
        if distance[nearest] < limit and theirs[nearest].label != body.label:
            return (
                f"the sagittal {other.contrast} series numbers the column differently (its "
                f"{theirs[nearest].label} is {body.label} here)"
            )
    return None


def doubted(read: ColumnRead, reasons: Sequence[str]) -> ColumnRead:
    """``read`` with every label marked "needs review" for ``reasons``."""
    if not reasons:
        return read
    review = read.review
    result = replace(
        review.result,
        status=worst(review.result.status, NEEDS_REVIEW),
        confidence=round(review.result.confidence * 0.5, 3),
        reasons=(*review.result.reasons, *reasons),
    )
    per_body = {
        label: (worst(status, NEEDS_REVIEW), (*why, *reasons))
        for label, (status, why) in review.review.items()
    }
    warnings = (*review.warnings, *(r for r in reasons if r not in review.warnings))
    return replace(read, review=replace(review, result=result, review=per_body, warnings=warnings))
