"""Analysing a study: every registered pipeline's steps run in order, each recorded, none
stopping the rest.

The pipelines, their steps and the shared :class:`Context` are in
:mod:`spineviewer.ai.pipelines`; :func:`analyse_study` runs each of
:data:`~spineviewer.ai.pipelines.PIPELINES` with a fresh state and returns one
:class:`~spineviewer.ai.findings.Findings`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from spineviewer.ai.findings import Findings
from spineviewer.ai.pipelines import PIPELINES, Cancelled, Context, Progress, Skip, run_steps
from spineviewer.ai.registry import ModelEntry, find_models
from spineviewer.ai.sessions import SessionCache
from spineviewer.dicom import SkippedFile, Study, scan

__all__ = ["Cancelled", "Context", "Skip", "analyse_path", "analyse_study", "run_steps"]


def analyse_study(
    study: Study,
    entries: Sequence[ModelEntry] | None = None,
    sessions: SessionCache | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    skipped: Sequence[SkippedFile] = (),
) -> Findings:
    """Every pipeline on one study; raises :class:`Cancelled` when cancelled. ``skipped``:
    the study's files the scan could not read (a truncated or inconsistent image is refused
    there, before any step sees it), named in the warnings first so that the findings say
    what they were made without."""
    cache = sessions or SessionCache()
    ctx = Context(
        study,
        find_models() if entries is None else entries,
        cache,
        progress or (lambda text: None),
        cancelled or (lambda: False),
    )
    steps = run_steps(ctx, [step for pipeline in PIPELINES for step in pipeline.bound()])
    return Findings(
        study_uid=study.uid,
        provider=cache.provider,
        models=tuple(ctx.used.values()),
        vertebrae=tuple(ctx.vertebrae),
        discs=tuple(ctx.discs),
        axial_levels=tuple(ctx.axial_levels),
        implants=tuple(ctx.implants),
        cobb=ctx.cobb,
        classifications=tuple(ctx.classifications),
        steps=tuple(steps),
        warnings=tuple(dict.fromkeys([*cache.notices, *_left_out(skipped), *ctx.warnings])),
        labelling=tuple(ctx.labelling),
        label_maps=tuple(ctx.label_maps),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _left_out(skipped: Sequence[SkippedFile]) -> list[str]:
    return [f"{s.path} left out: {s.reason}" for s in skipped if s.dicom]


def analyse_path(
    path: str | Path,
    model_dirs: Sequence[str | Path] = (),
    provider: str | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[Findings]:
    """Every study under ``path`` (folder, zip, DICOMDIR, file), one Findings each, with the
    files of that study (by the StudyInstanceUID of their header) the scan could not read."""
    result = scan(path)
    entries = find_models(model_dirs)
    sessions = SessionCache(provider)
    return [
        analyse_study(
            study,
            entries,
            sessions,
            progress,
            cancelled,
            result.skipped_of(study.uid),
        )
        for study in result.studies
    ]
