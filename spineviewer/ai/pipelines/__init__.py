"""The analysis pipelines, one module each, and the registry that runs them in order.

:data:`PIPELINES` is the one list :func:`spineviewer.ai.analysis.analyse_study` runs: the
lumbar MR pipeline, the spine X-ray pipeline, the segmentation pipeline, then the generic
classifiers (which run only the classification models the others did not use). A new
pipeline is a module with a :class:`~spineviewer.ai.pipelines.base.Pipeline` and a line here.
"""

from __future__ import annotations

from spineviewer.ai.pipelines import generic, lumbar_mr, segmentation, spine_xr
from spineviewer.ai.pipelines.base import (
    Cancelled,
    Context,
    Pipeline,
    Progress,
    Skip,
    Step,
    run_steps,
)

__all__ = [
    "PIPELINES",
    "Cancelled",
    "Context",
    "Pipeline",
    "Progress",
    "Skip",
    "Step",
    "run_steps",
    "step_count",
]

PIPELINES: tuple[Pipeline, ...] = (
    lumbar_mr.PIPELINE,
    spine_xr.PIPELINE,
    segmentation.PIPELINE,
    generic.PIPELINE,
)


def step_count() -> int:
    """How many steps one analysis runs (for progress bars)."""
    return sum(len(p.steps) for p in PIPELINES)
