"""Analysing and scoring one study folder of the second generator, whatever its kind.

Radiographs (``kind`` ``spine-xr``) go to :mod:`~spineviewer.evaluation.score_xr`, every other
study to the MR / CT scoring of :mod:`~spineviewer.evaluation.score`; neither needs to know
the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from spineviewer.ai.findings import Findings
from spineviewer.ai.registry import ModelEntry
from spineviewer.ai.sessions import SessionCache
from spineviewer.evaluation.score import StudyScore, failed_score, run_pipelines, score_findings
from spineviewer.evaluation.score_xr import analyse_xr_folder, is_xr_study
from spineviewer.evaluation.truth_reader import read_truth

__all__ = ["analyse_folder", "score_folder"]


def analyse_folder(
    folder: str | Path,
    entries: Sequence[ModelEntry] | None = None,
    sessions: SessionCache | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[StudyScore, Findings | None]:
    """Analyse the study in ``folder`` (every pipeline) and score it; the findings come back
    too (None when the study could not be read or analysed: it then scores with its ``error``
    set and nothing right). A missing or broken ground truth raises ValueError. A radiograph
    study (``kind`` ``spine-xr``) is scored by :mod:`~spineviewer.evaluation.score_xr`."""
    if is_xr_study(folder):
        return analyse_xr_folder(folder, entries, sessions, progress)
    truth = read_truth(folder)
    started = time.perf_counter()
    findings: Findings | None = None
    try:
        study, findings = run_pipelines(folder, truth.study_uid, entries, sessions, progress)
        score = score_findings(truth, findings, study)
    except Exception as exc:  # one broken study must not stop the run: it is scored as failed
        findings = None
        score = failed_score(StudyScore, truth, exc)
    score.seconds = round(time.perf_counter() - started, 3)
    return score, findings


def score_folder(
    folder: str | Path,
    entries: Sequence[ModelEntry] | None = None,
    sessions: SessionCache | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyScore:
    """Analyse the study in ``folder`` (every pipeline) and score it; a study that cannot be
    read or analysed scores with its ``error`` set and nothing right."""
    return analyse_folder(folder, entries, sessions, progress)[0]
