"""What every pipeline is made of: the run context, steps, skips, and the pipeline itself.

A :class:`Pipeline` is a name, what it applies to (a sentence for people), a factory of its
own typed state (the series it chose, intermediate results handed from step to step) and its
steps. A step is a function ``step(ctx, state)``; it picks its model from the registry by task
and by what the input is (:meth:`Context.session`), adds findings to the shared
:class:`Context`, and raises :class:`Skip` with the reason when it cannot run (no series it
accepts, no model for it, an earlier step found nothing). Any other error is recorded as
``failed`` with its message; both leave the other steps and pipelines running. Cancelling
(``cancelled()`` true) stops between steps and between slices of long steps.

Adding a pipeline is one module with one :class:`Pipeline` and a line in
:data:`spineviewer.ai.pipelines.PIPELINES`; nothing else changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from spineviewer.ai.findings import (
    AxialAssignment,
    ClassificationFinding,
    CobbFinding,
    DiscFinding,
    ImplantFinding,
    LabellingCheck,
    LabelMapFinding,
    ModelUse,
    StepResult,
    VertebraFinding,
)
from spineviewer.ai.registry import ModelEntry, best_for, why_none
from spineviewer.ai.runtime import ModelSession
from spineviewer.ai.sessions import SessionCache, short_provider
from spineviewer.dicom import Stack, Study

__all__ = [
    "Cancelled",
    "Context",
    "Pipeline",
    "Progress",
    "Skip",
    "Step",
    "monochrome1",
    "run_steps",
]

Progress = Callable[[str], None]
S = TypeVar("S")


class Skip(Exception):
    """A step that cannot run here; the message says why."""


def monochrome1(stack: Stack) -> bool:
    """Whether ``stack``'s images are MONOCHROME1 (high values dark): the models see them
    inverted when their manifest says so."""
    return stack.first.instance.photometric == "MONOCHROME1"


class Cancelled(Exception):
    """The user cancelled the analysis."""


@dataclass
class Context:
    """What the pipelines share: the study, the models, and what was found so far."""

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
    labelling: list[LabellingCheck] = field(default_factory=list)
    #: Label maps a segmentation model made (the arrays go on with the findings, in memory).
    label_maps: list[LabelMapFinding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The models that ran, by id (what the generic classifiers leave alone).
    used: dict[str, ModelUse] = field(default_factory=dict)

    def stacks(self) -> list[Stack]:
        return [stack for series in self.study.series for stack in series.stacks]

    def session(
        self,
        task: str,
        modality: str,
        view: str,
        *,
        contrast: str | None = None,
        projection: str | None = None,
        body_part: str | None = None,
        finds: tuple[str, ...] = (),
    ) -> ModelSession:
        """The session of the first available model that accepts this input and has the
        labels in ``finds``; Skip, with what the models accept, when there is none."""
        series: dict[str, Any] = {
            "contrast": contrast,
            "projection": projection,
            "body_part": body_part,
            "finds": finds,
        }
        entry = best_for(task, modality, view, self.entries, **series)
        if entry is not None and entry.manifest is not None:
            return self.use(entry)
        what = " ".join(v for v in (modality, contrast, projection, view) if v)
        why = why_none(task, modality, view, self.entries, **series)
        raise Skip(why.replace("this series", f"{what} images") or f"no {task} model for {what}")

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
            entry.origin,
        )
        return session

    def check(self) -> None:
        if self.cancelled():
            raise Cancelled()


#: A named step bound to its state: what :func:`run_steps` runs.
Step = tuple[str, Callable[[Context], None]]


@dataclass(frozen=True)
class Pipeline(Generic[S]):
    """One analysis: ``name`` prefixes its steps' names ("lumbar MR: vertebrae"),
    ``applies_to`` says in words what input it is for, ``new_state`` makes the typed state its
    steps share for one study."""

    name: str
    applies_to: str
    new_state: Callable[[], S]
    steps: tuple[tuple[str, Callable[[Context, S], None]], ...]

    def bound(self) -> list[Step]:
        """The steps with one fresh state, ready for :func:`run_steps`."""
        state = self.new_state()

        def bind(step: Callable[[Context, S], None]) -> Callable[[Context], None]:
            return lambda ctx: step(ctx, state)

        return [(f"{self.name}: {title}", bind(step)) for title, step in self.steps]


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
