"""Generic classifiers: any classification model the named pipelines did not use runs on the
whole image of every series it applies to (the middle image of a stack), so a user's own
fracture or osteoporosis model (seeds 002 and 004) needs no code. A model that wants an ROI
(``roi_mm``) needs a structure to centre on, which only a pipeline knows: it is skipped with
that reason. A model restricted to some contrasts runs only on MR series of those contrasts
(:mod:`spineviewer.ai.mr_series`), to some projections only on radiographs of those views,
to a body part only on series whose BodyPartExamined fits.
"""

from __future__ import annotations

import numpy as np

from spineviewer.ai.findings import ClassificationFinding
from spineviewer.ai.manifest import AppliesTo
from spineviewer.ai.mr_series import contrast_of
from spineviewer.ai.pipelines.base import Context, Pipeline, Skip, monochrome1
from spineviewer.ai.preprocessing import whole_image
from spineviewer.dicom import Stack, StackPixels

__all__ = ["PIPELINE", "stack_view"]


def stack_view(stack: Stack) -> str:
    """The view a manifest's ``applies_to.view`` is compared with: the plane of a stack, or
    the ViewPosition of a radiograph ("AP" when absent)."""
    if stack.plane == "projection":
        return stack.first.instance.view_position or "AP"
    return stack.plane


def _matches(applies_to: AppliesTo, stack: Stack) -> bool:
    view = stack_view(stack)
    return applies_to.matches(
        stack.modality,
        view,
        contrast=contrast_of(stack).contrast if stack.modality == "MR" else None,
        projection=view if stack.plane == "projection" else None,
        body_part=stack.first.instance.study.get("BodyPartExamined", "").upper() or None,
    )


def run_generic_classifiers(ctx: Context, state: None) -> None:
    models = [
        e
        for e in ctx.entries
        if e.available
        and e.manifest is not None
        and e.manifest.task == "classification"
        and e.manifest.id not in ctx.used
    ]
    if not models:
        raise Skip("no other classification model")
    ran, wanted_roi = 0, []
    for entry in models:
        manifest = entry.manifest
        assert manifest is not None
        for stack in ctx.stacks():
            if not _matches(manifest.applies_to, stack):
                continue
            if manifest.preprocessing.roi_mm is not None:
                wanted_roi.append(manifest.id)
                break
            ctx.check()
            session = ctx.use(entry)
            index = len(stack) // 2
            values = StackPixels(stack).slice(index)
            mono1 = monochrome1(stack)
            probs = session.classify(whole_image(manifest, values, mono1)[None])[0]
            names = session.class_names
            ctx.classifications.append(
                ClassificationFinding(
                    manifest.id,
                    stack.series_uid,
                    stack.frames[index].instance.sop_instance_uid,
                    names[int(np.argmax(probs))],
                    {n: round(float(p), 4) for n, p in zip(names, probs, strict=True)},
                )
            )
            ran += 1
    if not ran:
        reason = "no series these models apply to"
        if wanted_roi:
            ids = sorted(set(wanted_roi))
            verb = "needs" if len(ids) == 1 else "need"
            reason += f"; {', '.join(ids)} {verb} an ROI only a pipeline gives"
        raise Skip(reason)


PIPELINE: Pipeline[None] = Pipeline(
    name="generic classifiers",
    applies_to="any series a classification model's manifest accepts",
    new_state=lambda: None,
    steps=(("whole images", run_generic_classifiers),),
)
