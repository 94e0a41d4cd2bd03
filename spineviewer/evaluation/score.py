"""Scoring the AI pipelines on generated studies: one :class:`StudyScore` per study.

Rules (each study compared with its ``ground_truth.json``):

- **Vertebrae** (the VerSe rule): a found label is right when its centre lies within
  :data:`VERSE_DISTANCE_MM` of the truth centre of the same label *and* that truth body is the
  closest of all truth bodies. The identification rate counts the truth bodies whose centre is
  in the sagittal field of view that were found with the right label. A study's labels are
  *right* when every in-view body is identified, no found label is wrong and the study is not
  flagged; *flagged* when any labelling check is not "confident" (the check's status is that
  of the doubts that bear on level names: no sacrum, a gap, irregular spacing, transitional
  anatomy, too few bodies) or any vertebra's review is "needs review" (a flagged study never
  counts as right). A vertebra "uncertain" while the check is confident is doubted for itself
  alone (a body cut by the top edge of the image: its box, not its level name); that is listed
  in ``body_doubts`` and does not flag the study. Otherwise *wrong* when a found
  label is wrong (the dangerous case: wrong labels presented as confident), else *incomplete*
  (no label wrong, but an in-view body was missed, or none was found at all).
- **Discs**: the discs scored are the truth lumbar discs (L1-L2 down) in the sagittal field of
  view with an axial image plane within ``AXIAL_MAX_DISTANCE_MM`` of the centre (inside the
  image): those the pipeline could classify. A disc is right when a disc of the same level is
  reported, its centre is closest to that truth disc, its review is not "uncertain" and its
  state is the truth's. Coverage: the share reported and not "uncertain".
- **Axial levels**: each axial image's truth level is the nearest truth disc centre to its plane
  within :func:`~spineviewer.geometry.levels.default_threshold` of the truth disc centres
  (worked out here from the images' planes, for either generator). An image with a truth level
  is *wrong* when the pipeline gave it another level, *unassigned* when it gave none.
- **Skipped steps**: every step that was skipped or failed, with its reason.

AP radiographs (``kind`` ``spine-xr``) go to :mod:`~spineviewer.evaluation.score_xr` (the
vertebrae by the rule above, the Cobb angle and the implants), through the same
:func:`run_pipelines`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from spineviewer.ai.analysis import analyse_study
from spineviewer.ai.findings import CONFIDENT, NEEDS_REVIEW, UNCERTAIN, Findings
from spineviewer.ai.registry import ModelEntry, find_models
from spineviewer.ai.sessions import SessionCache
from spineviewer.dicom import Study, scan
from spineviewer.evaluation.truth_reader import StudyTruth
from spineviewer.geometry import Plane
from spineviewer.geometry.levels import (
    AXIAL_MAX_DISTANCE_MM,
    assign_slices_to_levels,
    default_threshold,
)

__all__ = [
    "VERSE_DISTANCE_MM",
    "DiscScore",
    "StudyScore",
    "failed_score",
    "run_pipelines",
    "score_axial",
    "score_discs",
    "score_findings",
    "score_vertebrae",
]

VERSE_DISTANCE_MM = 20.0


@dataclass(frozen=True)
class DiscScore:
    level: str
    truth: str
    #: The reported state, "uncertain" (reported so), "missing" (no disc of this level) or
    #: "misplaced" (the disc of this name lies nearer another truth disc).
    reported: str
    right: bool
    pfirrmann: int | None = None


@dataclass
class StudyScore:
    folder: str
    seed: int | None
    generator: str
    kind: str
    tags: list[str]
    bodies_in_view: int = 0
    bodies_identified: int = 0
    found_labels: list[str] = field(default_factory=list)
    wrong_labels: list[str] = field(default_factory=list)
    truth_labels: list[str] = field(default_factory=list)
    flagged: bool = False
    flag_reasons: list[str] = field(default_factory=list)
    #: Vertebrae "uncertain" for themselves alone (cut by the image edge): no flag.
    body_doubts: list[str] = field(default_factory=list)
    discs: list[DiscScore] = field(default_factory=list)
    axial_with_level: int = 0
    axial_wrong: int = 0
    axial_unassigned: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def labels(self) -> str:
        """``right``, ``flagged``, ``wrong`` or ``incomplete`` (see the module docstring)."""
        if self.flagged:
            return "flagged"
        if self.wrong_labels:
            return "wrong"
        if self.error is not None or self.bodies_identified < self.bodies_in_view:
            return "incomplete"
        return "right"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["labels"] = self.labels
        return out


def score_vertebrae(truth: StudyTruth, findings: Findings, score: StudyScore) -> None:
    """The VerSe rule, the flag and the right / flagged / wrong verdict inputs."""
    centres = np.array([b.centre for b in truth.bodies])
    identified: set[str] = set()
    for v in findings.vertebrae:
        score.found_labels.append(v.label)
        distance = np.linalg.norm(centres - np.asarray(v.centre_mm), axis=1)
        nearest = int(np.argmin(distance))
        body = truth.bodies[nearest]
        if body.label == v.label and float(distance[nearest]) <= VERSE_DISTANCE_MM:
            identified.add(v.label)
        else:
            score.wrong_labels.append(f"{v.label} (truth {body.label}, {distance[nearest]:.0f} mm)")
    in_view = [b for b in truth.bodies if b.in_view]
    score.truth_labels = [b.label for b in in_view]
    score.bodies_in_view = len(in_view)
    score.bodies_identified = sum(b.label in identified for b in in_view)
    for check in findings.labelling:
        if check.status != CONFIDENT:
            score.flag_reasons.append(f"labels {check.status}: " + "; ".join(check.reasons))
    flagged = [v.label for v in findings.vertebrae if v.review == NEEDS_REVIEW]
    if flagged:
        score.flag_reasons.append("vertebrae needing review: " + " ".join(flagged))
    score.body_doubts = [v.label for v in findings.vertebrae if v.review == UNCERTAIN]
    score.flagged = bool(score.flag_reasons)


def _reachable(truth: StudyTruth, planes: Sequence[Plane]) -> list[str]:
    """The truth lumbar discs in the sagittal view that some axial image passes through."""
    out = []
    for disc in truth.discs:
        if not disc.level.startswith("L") or not disc.in_view:
            continue
        for plane in planes:
            if abs(float(plane.distance(disc.centre))) > AXIAL_MAX_DISTANCE_MM:
                continue
            row, col = (float(v) for v in plane.to_pixel(disc.centre))
            rows, cols = plane.shape or (0, 0)
            if 0 <= row < rows and 0 <= col < cols:
                out.append(disc.level)
                break
    return out


def score_discs(
    truth: StudyTruth, findings: Findings, planes: Sequence[Plane], score: StudyScore
) -> None:
    """Per scored disc: what was reported and whether it is right."""
    centres = np.array([d.centre for d in truth.discs])
    reported = {d.level: d for d in findings.discs}
    by_level = {d.level: d for d in truth.discs}
    for level in _reachable(truth, planes):
        disc = by_level[level]
        found = reported.get(level)
        if found is None:
            state = "missing"
        else:
            distance = np.linalg.norm(centres - np.asarray(found.centre_mm), axis=1)
            if truth.discs[int(np.argmin(distance))].level != level:
                state = "misplaced"
            elif found.review == UNCERTAIN:
                state = UNCERTAIN
            else:
                state = found.state
        score.discs.append(DiscScore(level, disc.state, state, state == disc.state, disc.pfirrmann))


def score_axial(
    truth: StudyTruth, findings: Findings, planes: dict[str, Plane], score: StudyScore
) -> None:
    """Axial images with a truth level: how many the pipeline put on another or on none."""
    centres = {d.level: d.centre for d in truth.discs}
    if not centres or not planes:
        return
    uids = list(planes)
    truth_levels = assign_slices_to_levels(
        [planes[u] for u in uids], centres, default_threshold(centres)
    )
    given = {a.sop_instance_uid: a.level for a in findings.axial_levels}
    for uid, expected in zip(uids, truth_levels, strict=True):
        if expected.level is None:
            continue
        score.axial_with_level += 1
        level = given.get(uid)
        if level is None:
            score.axial_unassigned += 1
        elif level != expected.level:
            score.axial_wrong += 1


def _axial_planes(study: Study) -> dict[str, Plane]:
    out = {}
    for series in study.series:
        for stack in series.stacks:
            if stack.modality != "MR" or stack.plane != "axial":
                continue
            for index, frame in enumerate(stack.frames):
                plane = stack.plane_of(index)
                if plane is not None:
                    out[frame.instance.sop_instance_uid] = plane
    return out


def score_findings(truth: StudyTruth, findings: Findings, study: Study) -> StudyScore:
    """Score one analysis against its truth."""
    score = StudyScore(str(truth.folder), truth.seed, truth.generator, truth.kind, list(truth.tags))
    planes = _axial_planes(study)
    score_vertebrae(truth, findings, score)
    score_discs(truth, findings, list(planes.values()), score)
    score_axial(truth, findings, planes, score)
    score.skipped = [
        f"{s.name}: {s.status}: {s.reason}" for s in findings.steps if s.status != "done"
    ]
    return score


def run_pipelines(
    folder: str | Path,
    study_uid: str,
    entries: Sequence[ModelEntry] | None = None,
    sessions: SessionCache | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Study, Findings]:
    """Scan ``folder``, find the study ``study_uid`` and run every pipeline on it (the one
    entry the MR and the radiograph scoring share)."""
    result = scan(folder)
    study = next((s for s in result.studies if s.uid == study_uid), None)
    if study is None:
        raise ValueError(f"{folder}: no DICOM study {study_uid}")
    findings = analyse_study(
        study,
        find_models() if entries is None else entries,
        sessions or SessionCache("cpu"),
        progress,
    )
    return study, findings


S = TypeVar("S", bound=StudyScore)


def failed_score(cls: type[S], truth: StudyTruth, exc: Exception) -> S:
    """The score of a study that could not be read or analysed: its ``error`` set, its in-view
    bodies counted, nothing right."""
    score = cls(
        str(truth.folder),
        truth.seed,
        truth.generator,
        truth.kind,
        list(truth.tags),
        error=f"{type(exc).__name__}: {exc}",
    )
    score.bodies_in_view = sum(b.in_view for b in truth.bodies)
    return score


def models_used(entries: Sequence[ModelEntry]) -> list[dict[str, Any]]:
    """The available models of ``entries`` as a scores file records them (id, file, version)."""
    return [
        {
            "id": e.id,
            "file": e.onnx_path.name,
            "version": e.manifest.version if e.manifest else None,
        }
        for e in entries
        if e.available
    ]
