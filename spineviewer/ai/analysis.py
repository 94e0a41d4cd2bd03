"""Analysing a study: the pipelines' steps run in order, each recorded, none stopping the rest.

A step is a small function of the shared :class:`Context`; it picks its model from the
registry by task, modality and view (``Context.session``), runs ``pre_process -> predict ->
post_process`` and adds findings. A step that cannot run raises :class:`Skip` with the reason
(no sagittal series, no model for it, an earlier step found nothing); any other error is
recorded as ``failed`` with its message; both leave the other steps running. Cancelling
(``cancelled()`` true) stops between steps and between slices of long steps.

``analyse_study`` runs the lumbar MR steps (:mod:`spineviewer.ai.lumbar_mr`), then the spine
X-ray steps (:mod:`spineviewer.ai.spine_xr`), then the generic classifiers
(:mod:`spineviewer.ai.generic`) and returns one :class:`~spineviewer.ai.findings.Findings`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spineviewer.ai.findings import (
    AxialAssignment,
    ClassificationFinding,
    CobbFinding,
    DiscFinding,
    Findings,
    ImplantFinding,
    ModelUse,
    StepResult,
    VertebraFinding,
)
from spineviewer.ai.registry import ModelEntry, best_for, find_models
from spineviewer.ai.runtime import ModelSession
from spineviewer.ai.sessions import SessionCache, short_provider
from spineviewer.dicom import Stack, Study, scan

__all__ = ["Cancelled", "Context", "Skip", "analyse_path", "analyse_study", "run_steps"]

Progress = Callable[[str], None]


class Skip(Exception):
    """A step that cannot run here; the message says why."""


class Cancelled(Exception):
    """The user cancelled the analysis."""


@dataclass
class Context:
    """What the steps share: the study, the models, and what was found so far."""

    study: Study
    entries: Sequence[ModelEntry]
    sessions: SessionCache
    progress: Progress = lambda text: None
    cancelled: Callable[[], bool] = lambda: False
    vertebrae: list[VertebraFinding] = field(default_factory=list)
    discs: list[DiscFinding] = field(default_factory=list)
    axial_levels: list[AxialAssignment] = field(default_factory=list)
    implants: list[ImplantFinding] = field(default_factory=list)
    cobb: CobbFinding | None = None
    classifications: list[ClassificationFinding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The models that ran, by id (what the generic classifiers leave alone).
    used: dict[str, ModelUse] = field(default_factory=dict)
    #: Intermediate results handed from step to step (series chosen, labelling, ...).
    state: dict[str, Any] = field(default_factory=dict)

    def stacks(self) -> list[Stack]:
        return [stack for series in self.study.series for stack in series.stacks]

    def session(self, task: str, modality: str, view: str) -> ModelSession:
        """The session of the first available model for the job; Skip when there is none."""
        entry = best_for(task, modality, view, self.entries)
        if entry is None or entry.manifest is None:
            raise Skip(f"no {task} model for {modality} {view} images")
        return self.use(entry)

    def use(self, entry: ModelEntry) -> ModelSession:
        """The session of ``entry``, recorded as used (id, version, sha256, provider)."""
        session = self.sessions.get(entry)
        m = session.manifest
        self.used[m.id] = ModelUse(
            m.id,
            m.version,
            m.sha256,
            short_provider(session.provider),
            m.provenance.not_for_clinical_use,
        )
        return session

    def check(self) -> None:
        if self.cancelled():
            raise Cancelled()


Step = tuple[str, Callable[[Context], None]]


def run_steps(ctx: Context, steps: Iterable[Step]) -> list[StepResult]:
    """Run each step, recording done / skipped / failed and its duration."""
    results = []
    for name, step in steps:
        ctx.check()
        ctx.progress(name)
        started = time.perf_counter()
        try:
            step(ctx)
            status, reason = "done", ""
        except Skip as exc:
            status, reason = "skipped", str(exc)
        except Cancelled:
            raise
        except Exception as exc:  # one failing step must not lose the others' findings
            status, reason = "failed", f"{type(exc).__name__}: {exc}"
            ctx.warnings.append(f"{name} failed: {exc}")
        results.append(StepResult(name, status, reason, round(time.perf_counter() - started, 4)))
    return results


def analyse_study(
    study: Study,
    entries: Sequence[ModelEntry] | None = None,
    sessions: SessionCache | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Findings:
    """Every pipeline on one study; raises :class:`Cancelled` when cancelled."""
    from spineviewer.ai import generic, lumbar_mr, spine_xr

    cache = sessions or SessionCache()
    ctx = Context(
        study,
        find_models() if entries is None else entries,
        cache,
        progress or (lambda text: None),
        cancelled or (lambda: False),
    )
    steps = run_steps(ctx, [*lumbar_mr.STEPS, *spine_xr.STEPS, *generic.STEPS])
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
        warnings=tuple([*cache.notices, *ctx.warnings]),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        extra=dict(ctx.state.get("extra", {})),
    )


def analyse_path(
    path: str | Path,
    model_dirs: Sequence[str | Path] = (),
    provider: str | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[Findings]:
    """Every study under ``path`` (folder, zip, DICOMDIR, file), one Findings each."""
    result = scan(path)
    entries = find_models(model_dirs)
    sessions = SessionCache(provider)
    return [
        analyse_study(study, entries, sessions, progress, cancelled) for study in result.studies
    ]
