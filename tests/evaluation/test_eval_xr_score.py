"""Scoring the spine X-ray pipeline on radiographs: the rules on hand-made findings, the
summary, and the command line end to end with the shipped models on the CPU."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.findings import CobbFinding, Findings, ImplantFinding, VertebraFinding
from spineviewer.cli import main
from spineviewer.evaluation import xr_study
from spineviewer.evaluation.score import StudyScore
from spineviewer.evaluation.score_xr import (
    ImplantMatch,
    XrTruth,
    average_precision,
    box_iou,
    read_xr_truth,
    score_xr_findings,
    summarise_xr,
)
from spineviewer.evaluation.totals import group, summary_table
from spineviewer.evaluation.truth_reader import StudyTruth, TruthBody

LABELS = ("T12", "L1", "L2", "L3", "L4", "L5", "S1")
SCREW_A = (100.0, 100.0, 140.0, 130.0)
SCREW_B = (200.0, 100.0, 240.0, 130.0)
ROD = (90.0, 80.0, 110.0, 300.0)


def _truth(cobb: float | None = 20.0) -> XrTruth:
    bodies = tuple(
        TruthBody(label, np.array([50.0, 0.0, -35.0 * i]), True) for i, label in enumerate(LABELS)
    )
    study = StudyTruth(Path("xr"), 1, "test", "uid", "single-curve", ("implants",), bodies, ())
    implants = (("pedicle_screw", SCREW_A), ("pedicle_screw", SCREW_B), ("rod", ROD))
    return XrTruth(study, 0.1, cobb, ("T12", "L4") if cobb else None, implants)


def _findings(cobb: float | None = 23.5, implants: tuple[ImplantFinding, ...] = ()) -> Findings:
    vertebrae = tuple(
        VertebraFinding(label, 0.9, "s", "i", (0, 0, 1, 1), (50.0 + 3.0, 0.0, -35.0 * i))
        for i, label in enumerate(LABELS)
    )
    found = None if cobb is None else CobbFinding(cobb, "T12", "L4", 10.0, -13.5, "i")
    return Findings("uid", "cpu", vertebrae=vertebrae, implants=implants, cobb=found)


def _implant(name: str, score: float, box: tuple[float, float, float, float]) -> ImplantFinding:
    return ImplantFinding(name, score, "i", box)


def test_box_iou_and_average_precision() -> None:
    assert box_iou(SCREW_A, SCREW_A) == 1.0
    assert box_iou(SCREW_A, SCREW_B) == 0.0
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    tp, fp = True, False
    matches = [ImplantMatch("x", s, 0.9, hit) for s, hit in ((0.9, tp), (0.8, fp), (0.7, tp))]
    # recall 1/3 at precision 1, then 2/3 at precision 2/3
    assert average_precision(matches, 3) == pytest.approx(1 / 3 + (1 / 3) * (2 / 3), abs=1e-4)
    assert average_precision(matches[:1], 1) == 1.0
    assert average_precision([], 2) == 0.0
    assert average_precision([], 0) is None


def test_score_of_hand_made_findings() -> None:
    implants = (
        _implant("pedicle_screw", 0.9, (101.0, 101.0, 141.0, 131.0)),  # screw A
        _implant("pedicle_screw", 0.8, (400.0, 400.0, 440.0, 430.0)),  # nothing there
        _implant("pedicle_screw", 0.7, (225.0, 100.0, 265.0, 130.0)),  # screw B, IoU < 0.5
        _implant("rod", 0.6, (91.0, 85.0, 111.0, 295.0)),
    )
    score = score_xr_findings(_truth(), _findings(implants=implants))
    assert score.labels == "right" and score.bodies_identified == len(LABELS)
    assert score.cobb_error_deg == pytest.approx(3.5)
    assert score.cobb_truth_ends == ["T12", "L4"] and score.cobb_reported_ends == ["T12", "L4"]
    assert [m.true_positive for m in score.implant_matches] == [True, False, False, True]
    assert score.implant_truth == {"pedicle_screw": 2, "rod": 1}
    summary = summarise_xr([score])
    screws = summary["implants"]["per_class"]["pedicle_screw"]
    assert screws["ap50"] == pytest.approx(0.5) and screws["precision"] == pytest.approx(
        1 / 3, abs=1e-4
    )
    assert screws["recall"] == 0.5
    assert summary["implants"]["per_class"]["rod"]["ap50"] == 1.0
    assert summary["implants"]["per_class"]["interbody_cage"]["ap50"] is None
    assert summary["implants"]["map50"] == pytest.approx(0.75)
    assert summary["implants"]["precision"] == 0.5 and summary["implants"][
        "recall"
    ] == pytest.approx(0.6667)
    assert summary["cobb"]["mae_deg"] == pytest.approx(3.5)


def test_a_label_off_by_one_is_wrong_and_a_missing_cobb_is_counted_apart() -> None:
    shifted = _findings(cobb=None)
    moved = tuple(
        VertebraFinding(LABELS[i + 1], 0.9, "s", "i", (0, 0, 1, 1), v.centre_mm)
        for i, v in enumerate(shifted.vertebrae[:-1])
    )
    shifted = Findings("uid", "cpu", vertebrae=moved)
    wrong = score_xr_findings(_truth(), shifted)
    assert wrong.labels == "wrong" and wrong.cobb_error_deg is None
    right = score_xr_findings(_truth(), _findings(cobb=18.0))
    summary = summarise_xr([wrong, right])
    assert summary["cobb"]["measured"] == 1 and summary["cobb"]["missing"] == 1
    assert summary["cobb"]["mae_deg"] == pytest.approx(2.0)


def test_radiographs_are_summed_apart_from_mr_studies() -> None:
    xr = score_xr_findings(_truth(), _findings())
    mr = StudyScore("mr", 2, "test", "standard", [])
    grouped = group([mr, xr])
    assert grouped["overall"]["studies"] == 1
    assert grouped["spine_xr"]["overall"]["studies"] == 1
    assert grouped["spine_xr"]["kinds"]["single-curve"]["cobb"]["mae_deg"] == pytest.approx(3.5)
    table = summary_table(grouped)
    assert "AP spine radiographs" in table and "Cobb MAE" in table and "3.50" in table
    assert "Cobb" not in summary_table(group([mr]))


def test_a_broken_truth_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "ground_truth.json").write_text('{"schema_version": 1, "kind": "spine-xr"}')
    with pytest.raises(ValueError, match=r"ground_truth\.json: ground truth lacks"):
        read_xr_truth(tmp_path)
    (tmp_path / "ground_truth.json").write_text('{"schema_version": 1, "kind": "lumbar-mr"}')
    with pytest.raises(ValueError, match="expected a spine-xr truth"):
        read_xr_truth(tmp_path)


def test_a_training_phantom_truth_is_read_too(tmp_path: Path) -> None:
    """``spineviewer phantom --kind spine-xr`` writes centres in image mm (its pixel spacing,
    no magnification), no ``in_view`` and the Cobb ends under other names."""
    truth = {
        "schema_version": 1,
        "kind": "spine-xr",
        "study_instance_uid": "1.2.3",
        "parameters": {"pixel_spacing_mm": 0.3775, "monochrome1": 0.0},
        "vertebrae": [{"label": "L1", "centre_mm": [10.0, 0.0, -20.0], "views": []}],
        "implants": [{"implant_class": "rod", "box_px": [1, 2, 3, 40]}],
        "cobb": {"angle_deg": 12.5, "upper_end_vertebra": "T11", "lower_end_vertebra": "L2"},
    }
    (tmp_path / "ground_truth.json").write_text(json.dumps(truth))
    read = read_xr_truth(tmp_path)
    assert read.patient_mm == 0.3775 and read.study.kind == "training phantom"
    assert read.cobb_deg == 12.5 and read.cobb_ends == ("T11", "L2")
    assert read.study.bodies[0].in_view and read.implants == (("rod", (1.0, 2.0, 3.0, 40.0)),)


def test_the_command_line_generates_and_scores_radiographs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Slot 16: a double curve with screws at two levels and rods; 0.5 mm pixels (the same
    draws) keep it small. The shipped models run on the CPU."""
    small = functools.partial(xr_study.generate_xr_study, spacing=0.5)
    monkeypatch.setattr(xr_study, "generate_xr_study", small)
    out = tmp_path / "studies"
    command = ["evaluation", "generate", str(out), "--kind", "spine-xr", "--seed", "731016"]
    assert main(command) == 0
    folder = out / xr_study.xr_study_folder_name(731016)
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["kind"] == "spine-xr" and len(truth["implants"]) == 6
    scores = tmp_path / "scores.json"
    assert main(["evaluation", "score", str(out), "--json", str(scores)]) == 0
    printed = capsys.readouterr()
    assert "AP spine radiographs" in printed.out and "Cobb" in printed.err
    payload = json.loads(scores.read_text(encoding="utf-8"))
    assert "overall" not in payload and payload["spine_xr"]["overall"]["studies"] == 1
    assert {m["id"] for m in payload["models"]} >= {"vertebrae-ap", "implants-ap"}
    study = payload["studies"][0]
    assert study["error"] is None and study["cobb_truth_deg"] == truth["cobb"]["angle_deg"]
    assert study["implant_truth"] == {"pedicle_screw": 4, "rod": 2}
    assert not [s for s in study["skipped"] if s.startswith("spine X-ray: radiograph")]
    # the keypoints model read the radiograph: its step is done or found no spine
    vertebrae = [s for s in study["skipped"] if s.startswith("spine X-ray: vertebrae")]
    assert not vertebrae or "no spine seen" in vertebrae[0]
