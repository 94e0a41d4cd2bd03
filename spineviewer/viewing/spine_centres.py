"""Where the vertebral bodies are, for a curved reformat along the spine: the centres in
patient mm, top to bottom, from what the viewer knows of a study (Qt-free).

Sources, in order of preference: the AI findings of the study (each vertebra's
``centre_mm``), then a phantom study's ground truth (``ground_truth.json`` in the series'
folder or one above it; SYNTHETIC PHANTOM - NOT FOR CLINICAL USE).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spineviewer.ai.findings import Findings

if TYPE_CHECKING:  # the phantom package is read only for a phantom study (not at start-up)
    from spineviewer.phantom.truth import StudyGroundTruth

#: Region order down the spine.
_REGIONS = {"C": 0, "T": 1, "L": 2, "S": 3}
#: How many folders above a series' files a study's ground truth may be.
_TRUTH_LEVELS = 3


@dataclass(frozen=True)
class SpineCentres:
    """Vertebra labels and their body centres (patient LPS mm), top to bottom."""

    labels: tuple[str, ...]
    centres: np.ndarray
    #: Where they came from: "AI findings" or "phantom ground truth".
    origin: str

    def __len__(self) -> int:
        return len(self.labels)


def spine_order(label: str) -> tuple[int, int]:
    """Sort key of a vertebra label down the spine (``T12`` before ``L1``); unknown last."""
    match = re.fullmatch(r"([CTLS])(\d+)", label)
    if match is None:
        return (len(_REGIONS), 0)
    return (_REGIONS[match.group(1)], int(match.group(2)))


def ordered(labelled: Mapping[str, Sequence[float]], origin: str) -> SpineCentres:
    """``labelled`` centres top to bottom by label (unknown labels by height, after)."""
    labels = sorted(labelled, key=lambda n: (spine_order(n), -float(labelled[n][2])))
    centres = np.array([labelled[n] for n in labels], dtype=np.float64).reshape(-1, 3)
    return SpineCentres(tuple(labels), centres, origin)


def from_findings(findings: Findings | None, study_uid: str) -> SpineCentres | None:
    """The vertebra centres an analysis of study ``study_uid`` found (None when none)."""
    if findings is None or findings.study_uid != study_uid or not findings.vertebrae:
        return None
    best: dict[str, tuple[float, Sequence[float]]] = {}
    for v in findings.vertebrae:
        if v.label not in best or v.score > best[v.label][0]:
            best[v.label] = (v.score, v.centre_mm)
    return ordered({n: c for n, (_, c) in best.items()}, "AI findings")


def find_ground_truth(files: Iterable[Path]) -> Path | None:
    """The phantom study folder holding ``ground_truth.json`` above any of ``files``."""
    from spineviewer.phantom.truth import GROUND_TRUTH_FILE

    for file in files:
        for folder in list(Path(file).parents)[:_TRUTH_LEVELS]:
            if (folder / GROUND_TRUTH_FILE).is_file():
                return folder
    return None


def from_truth(truth: StudyGroundTruth, frame_of_reference_uid: str) -> SpineCentres | None:
    """A phantom's vertebra centres when its frame of reference is the series' one."""
    if truth.frame_of_reference_uid != frame_of_reference_uid or not truth.vertebrae:
        return None
    return ordered({v.label: v.centre_mm for v in truth.vertebrae}, "phantom ground truth")


def spine_centres(
    findings: Findings | None, study_uid: str, frame_of_reference_uid: str, files: Iterable[Path]
) -> SpineCentres | None:
    """The best centres known for a series (AI findings, else a phantom's truth), or None."""
    found = from_findings(findings, study_uid)
    if found is not None and len(found) >= 2:
        return found
    folder = find_ground_truth(files)
    if folder is None:
        return None
    from spineviewer.phantom.truth import load_ground_truth

    return from_truth(load_ground_truth(folder), frame_of_reference_uid)
