"""The fracture scorer on hand-made truths and findings (no model, no rendering)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.findings import Findings, VertebraFinding
from spineviewer.evaluation.score_fractures import (
    fracture_table,
    roc_auc,
    score_fracture_findings,
    score_fracture_folder,
    summarise_fractures,
)
from spineviewer.evaluation.truth_reader import StudyTruth, TruthBody

LABELS = ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")


def _truth(grades: dict[str, int], out_of_view: tuple[str, ...] = ()) -> StudyTruth:
    bodies = tuple(
        TruthBody(
            label,
            np.array([0.0, 0.0, -35.0 * i]),
            label not in out_of_view,
            grades.get(label, 0),
            "wedge" if grades.get(label, 0) else None,
            0.3 if grades.get(label, 0) else 0.0,
            True if grades.get(label, 0) else None,
        )
        for i, label in enumerate(LABELS)
    )
    return StudyTruth(Path("study"), 1, "test", "1.2.3", "standard", (), bodies, ())


def _finding(
    label: str, z: float, fracture: str | None, probability: float | None
) -> VertebraFinding:
    return VertebraFinding(
        label,
        0.9,
        "1.2.3.4",
        "1.2.3.5",
        (0.0, 0.0, 1.0, 1.0),
        (0.0, 0.0, z),
        fracture=fracture,
        fracture_probability=probability,
    )


def _findings(*found: VertebraFinding) -> Findings:
    return Findings("1.2.3", "test", vertebrae=found)


def test_each_scored_body_gets_what_was_said_of_it() -> None:
    truth = _truth({"L1": 2, "L4": 1}, out_of_view=("T11",))
    z = {label: -35.0 * i for i, label in enumerate(LABELS)}
    findings = _findings(
        _finding("T12", z["T12"], "normal", 0.1),
        _finding("L1", z["L1"] + 5, "fractured", 0.95),
        _finding("L2", z["L2"], "uncertain", 0.7),
        _finding("L3", z["L3"], "fractured", 0.8),
        # a body labelled L4 that sits on the truth L5: matches neither
        _finding("L4", z["L5"], "fractured", 0.9),
        _finding("T10", z["T10"], None, None),
    )
    score = score_fracture_findings(truth, findings)
    rows = {v.label: v for v in score.vertebrae}
    assert list(rows) == ["T12", "L1", "L2", "L3", "L4", "L5"]  # T11..L6 in view; no T10, S1
    assert rows["L1"].reported == "fractured" and rows["L1"].genant_grade == 2
    assert rows["L2"].reported == "uncertain"
    assert not rows["L4"].found and not rows["L5"].found
    summary = summarise_fractures([score])
    fractured, intact = summary["fractured"], summary["intact"]
    assert (fractured["bodies"], fractured["reported_fractured"], fractured["not_found"]) == (
        2,
        1,
        1,
    )
    assert fractured["sensitivity"] == 0.5
    assert summary["by_grade"]["2"]["sensitivity"] == 1.0
    assert summary["by_grade"]["1"]["sensitivity"] == 0.0
    assert (
        summary["by_grade"]["3"]["bodies"] == 0 and summary["by_grade"]["3"]["sensitivity"] is None
    )
    # intact: T12 normal, L2 uncertain (neither), L3 fractured (false alarm), L5 not found
    assert (intact["bodies"], intact["reported_normal"], intact["reported_fractured"]) == (4, 1, 1)
    assert intact["uncertain"] == 1 and intact["not_found"] == 1
    assert intact["classified"] == 3  # T12, L2, L3
    assert intact["specificity"] == pytest.approx(2 / 3, abs=1e-4)  # uncertain: no call
    assert intact["specificity_definite"] == 0.5
    assert intact["false_alarm_rate"] == 0.25
    assert intact["coverage"] == 0.5
    assert summary["targets_met"] == {"sensitivity": False, "specificity": False}
    probability = summary["at_probability_0_5"]
    # with a probability: L1 (fractured, 0.95); T12 0.1, L2 0.7, L3 0.8 intact
    assert probability["fractured_with_probability"] == 1
    assert probability["intact_with_probability"] == 3
    assert probability["specificity"] == pytest.approx(1 / 3, abs=1e-4)
    assert probability["auc"] == 1.0
    json.dumps(summary)  # serialisable
    table = fracture_table(summary)
    assert "| all fractures | 2 | 1/2 (0.50) | 0.50 |" in table
    assert "| grade 2 | 1 | 1/1 (1.00) | 1.00 |" in table
    assert "| 4 | 1 | 1 | 1 | 1 | 0.67 | 0.50 | 0.25 | 0.50 | 1.000 |" in table


def test_a_failed_analysis_finds_nothing() -> None:
    score = score_fracture_findings(_truth({"L2": 3}), None)
    summary = summarise_fractures([score])
    assert summary["fractured"]["not_found"] == 1 and summary["fractured"]["sensitivity"] == 0.0
    assert summary["intact"]["specificity"] is None
    assert summary["intact"]["specificity_definite"] is None
    assert summary["at_probability_0_5"]["auc"] is None


def test_perfect_answers_meet_the_targets() -> None:
    truth = _truth({"T12": 3, "L3": 1})
    findings = _findings(
        *(
            _finding(
                label,
                -35.0 * i,
                "fractured" if label in ("T12", "L3") else "normal",
                0.9 if label in ("T12", "L3") else 0.2,
            )
            for i, label in enumerate(LABELS)
        )
    )
    summary = summarise_fractures([score_fracture_findings(truth, findings)])
    assert summary["fractured"]["sensitivity"] == 1.0
    assert summary["intact"]["specificity"] == 1.0 and summary["intact"]["coverage"] == 1.0
    assert summary["targets_met"] == {"sensitivity": True, "specificity": True}
    assert summary["by_level"]["T12"]["fractured"]["bodies"] == 1


def test_roc_auc_counts_ties_as_half() -> None:
    assert roc_auc([True, False], [0.9, 0.1]) == 1.0
    assert roc_auc([True, False], [0.1, 0.9]) == 0.0
    assert roc_auc([True, False, False], [0.5, 0.5, 0.2]) == 0.75
    assert roc_auc([True, True, False, False], [0.8, 0.4, 0.6, 0.2]) == 0.75
    assert roc_auc([False, False], [0.1, 0.2]) is None


def test_a_study_folder_is_read_with_its_fracture_fields(tmp_path: Path) -> None:
    truth = {
        "schema_version": 1,
        "kind": "lumbar-mr",
        "seed": 5,
        "generator": "spineviewer.phantom",
        "study_instance_uid": "1.2.3",
        "parameters": {"sagittal_fov": "full"},
        "vertebrae": [
            {
                "label": "L1",
                "centre_mm": [0, 0, 0],
                "fracture": "crush",
                "genant_grade": 3,
                "height_loss": 0.45,
            },
            {
                "label": "L2",
                "centre_mm": [0, 0, -35],
                "fracture": None,
                "genant_grade": 0,
                "height_loss": 0.0,
            },
            {"label": "L3", "centre_mm": [0, 0, -70]},  # a file without fracture fields: intact
        ],
        "discs": [],
    }
    (tmp_path / "ground_truth.json").write_text(json.dumps(truth))
    score = score_fracture_folder(tmp_path, _findings(_finding("L1", 0.0, "fractured", 0.99)))
    assert [(v.label, v.genant_grade, v.morphology, v.reported) for v in score.vertebrae] == [
        ("L1", 3, "crush", "fractured"),
        ("L2", 0, None, None),
        ("L3", 0, None, None),
    ]
    assert score.vertebrae[0].acute is None  # the training generator does not say
