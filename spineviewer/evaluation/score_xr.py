"""Scoring the spine X-ray pipeline on AP radiographs (``kind`` ``spine-xr`` studies).

The pipeline runs through the same entry as on MR (:func:`~spineviewer.evaluation.score.
run_pipelines`); each study is compared with its ``ground_truth.json``
(:mod:`~spineviewer.evaluation.xr_study` describes it):

Studies of ``spineviewer phantom --kind spine-xr`` (the training generator's) are read too: their
truth has the same ``kind``, centres in mm of the image (``parameters.pixel_spacing_mm``, no
magnification), every body in view, the Cobb angle's ``upper_end_vertebra`` and
``lower_end_vertebra``; their kind is ``training phantom``.

- **Vertebrae**: the MR rule (:func:`~spineviewer.evaluation.score.score_vertebrae`: right,
  flagged, wrong, incomplete) on the image: a found body's centre (its ``centre_mm`` back to
  pixels with the radiograph's pixel spacing, as the pipeline made it) and the truth centres,
  both in mm at the spine's mid-plane (the truth's ``patient_pixel_spacing_mm``), so the 20 mm
  of the VerSe rule mean the same on every detector. The bodies in view are T8..S1 whose centre
  lies inside the image.
- **Cobb angle**: the absolute difference between the reported angle and the truth's
  ``cobb.angle_deg`` (the same definition, on the projected endplates of the vertebrae in
  view); a study with no reported angle is counted apart (``cobb_missing``), never as an error
  of 0. The mean absolute error is over the studies with both.
- **Implants**: each reported implant matched, in the order of its score, to the unmatched
  truth implant of its class with the highest IoU, when that is at least :data:`IOU` (0.5);
  otherwise a false positive. AP@0.5 per class pools every study's detections (all-point
  interpolated area under precision-recall, as PASCAL VOC 2010+); the overall figure is the
  mean over the classes with truth implants. The pipeline reports only detections at or above
  its model's threshold, so precision and recall at that threshold are those of all reported
  detections, and the AP's curve ends there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai.findings import Findings
from spineviewer.ai.registry import ModelEntry
from spineviewer.ai.sessions import SessionCache
from spineviewer.dicom import Study
from spineviewer.evaluation.score import (
    StudyScore,
    failed_score,
    run_pipelines,
    score_vertebrae,
)
from spineviewer.evaluation.truth_reader import (
    GROUND_TRUTH_FILE,
    StudyTruth,
    TruthBody,
    load_truth_json,
)

__all__ = [
    "IMPLANT_CLASSES",
    "IOU",
    "XR_KIND",
    "ImplantMatch",
    "XrStudyScore",
    "XrTruth",
    "analyse_xr_folder",
    "average_precision",
    "box_iou",
    "is_xr_study",
    "read_xr_truth",
    "score_xr_findings",
    "summarise_xr",
]

XR_KIND = "spine-xr"
IOU = 0.5
IMPLANT_CLASSES = ("pedicle_screw", "rod", "interbody_cage")

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class XrTruth:
    """What the scorer needs of a radiograph's truth; ``vertebrae`` hold centres in mm at the
    spine's mid-plane (``[x, 0, -y]``, :mod:`~spineviewer.evaluation.xr_study`)."""

    study: StudyTruth
    #: mm per pixel at the spine's mid-plane.
    patient_mm: float
    cobb_deg: float | None
    cobb_ends: tuple[str, str] | None
    implants: tuple[tuple[str, Box], ...]


@dataclass(frozen=True)
class ImplantMatch:
    implant_class: str
    score: float
    iou: float
    true_positive: bool


@dataclass
class XrStudyScore(StudyScore):
    cobb_truth_deg: float | None = None
    cobb_truth_ends: list[str] = field(default_factory=list)
    cobb_reported_deg: float | None = None
    cobb_reported_ends: list[str] = field(default_factory=list)
    #: |reported - truth| (degrees); None when either is missing.
    cobb_error_deg: float | None = None
    implant_truth: dict[str, int] = field(default_factory=dict)
    implant_matches: list[ImplantMatch] = field(default_factory=list)


def is_xr_study(folder: str | Path) -> bool:
    """Whether ``folder``'s truth is a radiograph's (False when it cannot be read: the MR reader
    then says why)."""
    try:
        return load_truth_json(folder).get("kind") == XR_KIND
    except ValueError:
        return False


def read_xr_truth(folder: str | Path) -> XrTruth:
    """The truth of the radiograph study in ``folder``; a clear ValueError names the file and
    the problem."""
    path = Path(folder) / GROUND_TRUTH_FILE
    data = load_truth_json(folder)
    if data.get("schema_version") != 1 or data.get("kind") != XR_KIND:
        raise ValueError(
            f"{path}: expected a spine-xr truth of schema_version 1, got kind "
            f"{data.get('kind')!r}, schema_version {data.get('schema_version')!r}"
        )
    try:
        parameters = dict(data["parameters"])
        bodies = []
        for v in data["vertebrae"]:
            centre = np.asarray(v["centre_mm"], dtype=np.float64)
            if centre.shape != (3,) or not np.all(np.isfinite(centre)):
                raise ValueError(f"{path}: {v['label']}: centre_mm is not 3 finite numbers")
            bodies.append(TruthBody(str(v["label"]), centre, bool(v.get("in_view", True))))
        cobb = data.get("cobb") or {}
        implants = tuple(
            (str(i["implant_class"]), tuple(float(x) for x in i["box_px"]))
            for i in data["implants"]
        )
        study = StudyTruth(
            folder=Path(folder),
            seed=data.get("seed"),
            generator=str(data.get("generator", "")),
            study_uid=str(data["study_instance_uid"]),
            kind=str(parameters.get("case_kind", "training phantom")),
            tags=tuple(parameters.get("tags", ())),
            bodies=tuple(bodies),
            discs=(),
        )
        angle = cobb.get("angle_deg")
        ends = (
            str(cobb.get("upper_vertebra", cobb.get("upper_end_vertebra"))),
            str(cobb.get("lower_vertebra", cobb.get("lower_end_vertebra"))),
        )
        geometry = parameters.get("geometry") or {}
        spacing = geometry.get("patient_pixel_spacing_mm", parameters.get("pixel_spacing_mm"))
        if spacing is None:
            raise KeyError("parameters.geometry.patient_pixel_spacing_mm")
        return XrTruth(
            study,
            float(spacing),
            None if angle is None else float(angle),
            ends if angle is not None else None,
            implants,  # type: ignore[arg-type]
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: ground truth lacks {exc}") from None


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``[x0, y0, x1, y1]`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _count_truth(truth: XrTruth, score: XrStudyScore) -> None:
    for name, _ in truth.implants:
        score.implant_truth[name] = score.implant_truth.get(name, 0) + 1


def _match_implants(truth: XrTruth, findings: Findings, score: XrStudyScore) -> None:
    _count_truth(truth, score)
    used: set[int] = set()
    for found in sorted(findings.implants, key=lambda i: -i.score):
        best, best_iou = None, 0.0
        for k, (name, box) in enumerate(truth.implants):
            if k in used or name != found.implant_class:
                continue
            iou = box_iou(found.box_px, box)
            if iou > best_iou:
                best, best_iou = k, iou
        hit = best is not None and best_iou >= IOU
        if hit:
            used.add(best)  # type: ignore[arg-type]
        score.implant_matches.append(
            ImplantMatch(found.implant_class, float(found.score), round(best_iou, 4), hit)
        )


def _in_truth_mm(findings: Findings, study: Study, patient_mm: float) -> Findings:
    """The findings with each vertebra's ``centre_mm`` moved from the radiograph's own pixel
    spacing (as the pipeline wrote it) to mm at the spine's mid-plane."""
    spacing = (1.0, 1.0)
    for series in study.series:
        for stack in series.stacks:
            if stack.plane == "projection" and stack.pixel_spacing:
                spacing = stack.pixel_spacing
    moved = []
    for v in findings.vertebrae:
        col, row = v.centre_mm[0] / spacing[1], -v.centre_mm[2] / spacing[0]
        moved.append(replace(v, centre_mm=(col * patient_mm, 0.0, -row * patient_mm)))
    return replace(findings, vertebrae=tuple(moved))


def score_xr_findings(
    truth: XrTruth, findings: Findings, study: Study | None = None
) -> XrStudyScore:
    """Score one analysis of a radiograph against its truth (``study``: the scanned study,
    whose pixel spacing turns the findings' mm back into pixels; None: the findings' mm are
    taken as already at the spine's mid-plane)."""
    t = truth.study
    score = XrStudyScore(str(t.folder), t.seed, t.generator, t.kind, list(t.tags))
    moved = findings if study is None else _in_truth_mm(findings, study, truth.patient_mm)
    score_vertebrae(t, moved, score)
    score.cobb_truth_deg = truth.cobb_deg
    score.cobb_truth_ends = list(truth.cobb_ends or ())
    if findings.cobb is not None:
        score.cobb_reported_deg = float(findings.cobb.angle_deg)
        score.cobb_reported_ends = [findings.cobb.upper_vertebra, findings.cobb.lower_vertebra]
        if truth.cobb_deg is not None:
            score.cobb_error_deg = round(abs(score.cobb_reported_deg - truth.cobb_deg), 3)
    _match_implants(truth, findings, score)
    score.skipped = [
        f"{s.name}: {s.status}: {s.reason}" for s in findings.steps if s.status != "done"
    ]
    return score


def analyse_xr_folder(
    folder: str | Path,
    entries: Sequence[ModelEntry] | None = None,
    sessions: SessionCache | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[XrStudyScore, Findings | None]:
    """Analyse the radiograph study in ``folder`` (every pipeline, as on MR) and score it."""
    truth = read_xr_truth(folder)
    started = time.perf_counter()
    findings: Findings | None = None
    try:
        study, findings = run_pipelines(folder, truth.study.study_uid, entries, sessions, progress)
        score = score_xr_findings(truth, findings, study)
    except Exception as exc:  # one broken study must not stop the run: it is scored as failed
        findings = None
        score = failed_score(XrStudyScore, truth.study, exc)
        score.cobb_truth_deg = truth.cobb_deg
        _count_truth(truth, score)
    score.seconds = round(time.perf_counter() - started, 3)
    return score, findings


def average_precision(matches: Sequence[ImplantMatch], truths: int) -> float | None:
    """All-point interpolated AP of scored matches against ``truths`` truth objects (None when
    there are none)."""
    if truths == 0:
        return None
    ordered = sorted(matches, key=lambda m: -m.score)
    tp = np.cumsum([m.true_positive for m in ordered], dtype=float)
    fp = np.cumsum([not m.true_positive for m in ordered], dtype=float)
    recall = np.concatenate([[0.0], tp / truths, [tp[-1] / truths if len(tp) else 0.0]])
    precision = np.concatenate([[1.0], tp / np.maximum(tp + fp, 1e-12), [0.0]])
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return round(float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1])), 4)


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise_xr(scores: Sequence[XrStudyScore]) -> dict[str, Any]:
    """Cobb angle and implant figures of a group of radiograph studies (the vertebrae block is
    :func:`~spineviewer.evaluation.totals.vertebrae_summary`'s)."""
    errors = [s.cobb_error_deg for s in scores if s.cobb_error_deg is not None]
    missing = [s for s in scores if s.cobb_truth_deg is not None and s.cobb_reported_deg is None]
    per_class: dict[str, Any] = {}
    all_matches = [m for s in scores for m in s.implant_matches]
    for name in sorted({*IMPLANT_CLASSES, *(m.implant_class for m in all_matches)}):
        matches = [m for m in all_matches if m.implant_class == name]
        truths = sum(s.implant_truth.get(name, 0) for s in scores)
        tp = sum(m.true_positive for m in matches)
        per_class[name] = {
            "truth": truths,
            "reported": len(matches),
            "true_positives": tp,
            "ap50": average_precision(matches, truths),
            "precision": _rate(tp, len(matches)),
            "recall": _rate(tp, truths),
        }
    aps = [c["ap50"] for c in per_class.values() if c["ap50"] is not None]
    truths = sum(c["truth"] for c in per_class.values())
    tps = sum(c["true_positives"] for c in per_class.values())
    return {
        "cobb": {
            "studies_with_truth": sum(s.cobb_truth_deg is not None for s in scores),
            "measured": len(errors),
            "missing": len(missing),
            "missing_studies": [Path(s.folder).name for s in missing],
            "mae_deg": round(float(np.mean(errors)), 3) if errors else None,
            "median_error_deg": round(float(np.median(errors)), 3) if errors else None,
            "max_error_deg": round(float(np.max(errors)), 3) if errors else None,
            "within_5_deg": sum(e <= 5.0 for e in errors),
        },
        "implants": {
            "per_class": per_class,
            "map50": round(float(np.mean(aps)), 4) if aps else None,
            "truth": truths,
            "reported": len(all_matches),
            "precision": _rate(tps, len(all_matches)),
            "recall": _rate(tps, truths),
            "false_positives_in_studies_without_implants": sum(
                len(s.implant_matches) for s in scores if not s.implant_truth
            ),
        },
    }
