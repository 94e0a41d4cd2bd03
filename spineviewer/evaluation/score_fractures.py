"""Scoring the vertebral fracture findings against a study's truth, per vertebra.

Which vertebrae: the truth bodies in the sagittal field of view from :data:`SCORED_LEVELS`
(T11 to L6: where the evaluation generator draws fractures). Each is *fractured* when its
truth Genant grade is 1-3 and *intact* at grade 0 (a truth without fracture fields is intact:
neither generator draws a fracture unless asked).

Matching (the VerSe rule of :mod:`~spineviewer.evaluation.score`): the finding of the same label
whose centre lies within :data:`~spineviewer.evaluation.score.VERSE_DISTANCE_MM` of the truth
centre, that truth body being the nearest to it. A body without such a finding is *not
found*; a found body has the finding's ``fracture`` (``fractured``, ``normal``,
``uncertain``, or None: not classified) and ``fracture_probability``.

- **sensitivity**: fractured bodies reported ``fractured`` over all fractured bodies (an
  ``uncertain`` answer, no answer or no finding counts as missed), per grade, morphology and
  acute / chronic;
- **specificity**: one less the share of the classified intact bodies (those with any
  fracture value) reported ``fractured``: an ``uncertain`` answer is no call, neither a false
  alarm nor wrong (as the evaluation README's fifth round counts it); bodies not found or not
  classified are left out. Beside it ``specificity_definite``, over the intact bodies
  reported ``normal`` or ``fractured`` only, and the **false-alarm rate** over all intact
  bodies;
- **coverage**: the share of all scored bodies with a definite answer (``normal`` or
  ``fractured``), per class;
- **at probability 0.5**: the same from ``fracture_probability >= 0.5`` alone, over the bodies
  with a probability;
- **AUC**: the area under the ROC curve of ``fracture_probability`` (fractured against intact,
  ties counting one half), over the bodies with a probability.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spineviewer.ai.findings import Findings
from spineviewer.evaluation.score import VERSE_DISTANCE_MM
from spineviewer.evaluation.truth_reader import StudyTruth, read_truth

__all__ = [
    "SCORED_LEVELS",
    "TARGETS",
    "FractureStudyScore",
    "VertebraFractureScore",
    "fracture_table",
    "roc_auc",
    "score_fracture_findings",
    "score_fracture_folder",
    "summarise_fractures",
]

SCORED_LEVELS: tuple[str, ...] = ("T11", "T12", "L1", "L2", "L3", "L4", "L5", "L6")
#: The issue's targets for fractures.
TARGETS = {"sensitivity": 0.9, "specificity": 0.9}
FRACTURED, NORMAL = "fractured", "normal"


@dataclass(frozen=True)
class VertebraFractureScore:
    label: str
    genant_grade: int
    morphology: str | None
    acute: bool | None
    height_loss: float
    #: A finding matched this body (label and position).
    found: bool
    #: The finding's fracture value ("fractured", "normal", "uncertain") or None.
    reported: str | None
    probability: float | None
    #: The height loss the product measured, when it did.
    reported_height_loss: float | None = None

    @property
    def fractured(self) -> bool:
        return self.genant_grade >= 1

    @property
    def answered(self) -> bool:
        return self.reported in (FRACTURED, NORMAL)


@dataclass
class FractureStudyScore:
    folder: str
    seed: int | None
    kind: str
    tags: list[str]
    vertebrae: list[VertebraFractureScore] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _matched(truth: StudyTruth, findings: Findings) -> dict[str, Any]:
    """Truth label -> the finding matched to it by the VerSe rule."""
    centres = np.array([b.centre for b in truth.bodies])
    out: dict[str, Any] = {}
    for v in findings.vertebrae:
        distance = np.linalg.norm(centres - np.asarray(v.centre_mm, dtype=np.float64), axis=1)
        nearest = int(np.argmin(distance))
        body = truth.bodies[nearest]
        if body.label == v.label and float(distance[nearest]) <= VERSE_DISTANCE_MM:
            out.setdefault(body.label, v)
    return out


def score_fracture_findings(truth: StudyTruth, findings: Findings | None) -> FractureStudyScore:
    """Every scored body of ``truth`` with what ``findings`` said of it (None: the analysis
    failed, every body not found)."""
    score = FractureStudyScore(str(truth.folder), truth.seed, truth.kind, list(truth.tags))
    matched = {} if findings is None else _matched(truth, findings)
    for body in truth.bodies:
        if body.label not in SCORED_LEVELS or not body.in_view:
            continue
        finding = matched.get(body.label)
        score.vertebrae.append(
            VertebraFractureScore(
                body.label,
                body.genant_grade,
                body.fracture,
                body.acute,
                body.height_loss,
                finding is not None,
                None if finding is None else finding.fracture,
                None if finding is None else finding.fracture_probability,
                None if finding is None else finding.height_loss,
            )
        )
    return score


def score_fracture_folder(folder: str | Path, findings: Findings | None) -> FractureStudyScore:
    """:func:`score_fracture_findings` of the study in ``folder`` (its ``ground_truth.json``)."""
    return score_fracture_findings(read_truth(folder), findings)


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """The area under the ROC curve (the Mann-Whitney statistic, ties one half); None without
    both classes."""
    positive = np.array([s for s, y in zip(scores, labels, strict=True) if y], dtype=np.float64)
    negative = np.array([s for s, y in zip(scores, labels, strict=True) if not y], dtype=np.float64)
    if not len(positive) or not len(negative):
        return None
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positive) * len(negative)))


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else round(num / den, 4)


def _fractured_counts(bodies: list[VertebraFractureScore]) -> dict[str, Any]:
    found = sum(v.reported == FRACTURED for v in bodies)
    return {
        "bodies": len(bodies),
        "reported_fractured": found,
        "reported_normal": sum(v.reported == NORMAL for v in bodies),
        "uncertain": sum(v.reported not in (FRACTURED, NORMAL, None) for v in bodies),
        "not_classified": sum(v.found and v.reported is None for v in bodies),
        "not_found": sum(not v.found for v in bodies),
        "sensitivity": _rate(found, len(bodies)),
        "coverage": _rate(sum(v.answered for v in bodies), len(bodies)),
    }


def _probability_counts(bodies: list[VertebraFractureScore]) -> dict[str, Any]:
    scored = [v for v in bodies if v.probability is not None]
    fractured = [v for v in scored if v.fractured]
    intact = [v for v in scored if not v.fractured]
    hits = sum(float(v.probability or 0) >= 0.5 for v in fractured)
    clear = sum(float(v.probability or 0) < 0.5 for v in intact)
    return {
        "fractured_with_probability": len(fractured),
        "intact_with_probability": len(intact),
        "sensitivity": _rate(hits, len(fractured)),
        "specificity": _rate(clear, len(intact)),
        "auc": None
        if not scored
        else roc_auc([v.fractured for v in scored], [float(v.probability or 0) for v in scored]),
    }


def summarise_fractures(scores: Iterable[FractureStudyScore]) -> dict[str, Any]:
    """The counts and rates over many studies (JSON-serialisable; see the module docstring)."""
    studies = list(scores)
    bodies = [v for s in studies for v in s.vertebrae]
    fractured = [v for v in bodies if v.fractured]
    intact = [v for v in bodies if not v.fractured]
    false_alarms = sum(v.reported == FRACTURED for v in intact)
    cleared = sum(v.reported == NORMAL for v in intact)
    classified = sum(v.reported is not None for v in intact)
    summary: dict[str, Any] = {
        "studies": len(studies),
        "studies_with_fractures": sum(any(v.fractured for v in s.vertebrae) for s in studies),
        "errors": [f"{Path(s.folder).name}: {s.error}" for s in studies if s.error],
        "fractured": _fractured_counts(fractured),
        "intact": {
            "bodies": len(intact),
            "reported_normal": cleared,
            "reported_fractured": false_alarms,
            "uncertain": sum(v.reported not in (FRACTURED, NORMAL, None) for v in intact),
            "not_classified": sum(v.found and v.reported is None for v in intact),
            "not_found": sum(not v.found for v in intact),
            "classified": classified,
            "specificity": _rate(classified - false_alarms, classified),
            "specificity_definite": _rate(cleared, cleared + false_alarms),
            "false_alarm_rate": _rate(false_alarms, len(intact)),
            "coverage": _rate(cleared + false_alarms, len(intact)),
        },
        "by_grade": {
            str(g): _fractured_counts([v for v in fractured if v.genant_grade == g])
            for g in (1, 2, 3)
        },
        "by_morphology": {
            m: _fractured_counts([v for v in fractured if v.morphology == m])
            for m in sorted({str(v.morphology) for v in fractured})
        },
        "by_acute": {
            name: _fractured_counts([v for v in fractured if v.acute is flag])
            for name, flag in (("acute", True), ("chronic", False))
        },
        "by_level": {
            label: {
                "fractured": _fractured_counts([v for v in fractured if v.label == label]),
                "intact_false_alarms": sum(
                    v.reported == FRACTURED for v in intact if v.label == label
                ),
                "intact": sum(v.label == label for v in intact),
            }
            for label in SCORED_LEVELS
            if any(v.label == label for v in bodies)
        },
        "at_probability_0_5": _probability_counts(bodies),
        "targets": TARGETS,
    }
    sensitivity = summary["fractured"]["sensitivity"]
    specificity = summary["intact"]["specificity"]
    summary["targets_met"] = {
        "sensitivity": sensitivity is not None and sensitivity >= TARGETS["sensitivity"],
        "specificity": specificity is not None and specificity >= TARGETS["specificity"],
    }
    return summary


def _cell(counts: dict[str, Any], key: str, of: str = "bodies") -> str:
    rate = counts[key]
    hits = counts["reported_fractured"] if key == "sensitivity" else None
    if rate is None:
        return "-"
    return f"{hits}/{counts[of]} ({rate:.2f})" if hits is not None else f"{rate:.2f}"


def fracture_table(summary: dict[str, Any]) -> str:
    """A Markdown table of :func:`summarise_fractures`' summary: one row per group of fractured
    bodies (all, each grade, morphology, acute / chronic) with sensitivity and coverage, then
    the intact bodies' specificities, false alarms and coverage, and the AUC."""
    rows = ["| group | bodies | sensitivity | coverage |", "|---|---|---|---|"]
    groups = [("all fractures", summary["fractured"])]
    groups += [(f"grade {g}", c) for g, c in summary["by_grade"].items()]
    groups += [(m, c) for m, c in summary["by_morphology"].items()]
    groups += [(a, c) for a, c in summary["by_acute"].items()]
    for name, counts in groups:
        rows.append(
            f"| {name} | {counts['bodies']} | {_cell(counts, 'sensitivity')} | "
            f"{_cell(counts, 'coverage')} |"
        )
    intact = summary["intact"]
    probability = summary["at_probability_0_5"]

    def rate(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    rows += [
        "",
        "| intact bodies | called normal | called fractured | uncertain | not classified or "
        "not found | specificity | specificity, definite answers | false-alarm rate | "
        "coverage | AUC |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {intact['bodies']} | {intact['reported_normal']} | {intact['reported_fractured']} | "
        f"{intact['uncertain']} | {intact['not_classified'] + intact['not_found']} | "
        f"{rate(intact['specificity'])} | {rate(intact['specificity_definite'])} | "
        f"{rate(intact['false_alarm_rate'])} | {rate(intact['coverage'])} | "
        f"{rate(probability['auc'], 3)} |",
    ]
    return "\n".join(rows) + "\n"
