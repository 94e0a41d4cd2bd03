"""Which vertebra centres a curved reformat follows: AI findings first, else a phantom's truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spineviewer.ai.findings import Findings, VertebraFinding
from spineviewer.phantom.ct_scoliosis import generate_scoliotic_ct, scoliotic_folder_name
from spineviewer.viewing.spine_centres import (
    find_ground_truth,
    from_findings,
    ordered,
    spine_centres,
    spine_order,
)


def _finding(label: str, z: float, score: float = 0.9) -> VertebraFinding:
    return VertebraFinding(label, score, "1.2", "1.2.3", (0, 0, 1, 1), (0.0, 0.0, z))


def test_labels_sort_down_the_spine():
    assert sorted(["L1", "S1", "T12", "L10", "L2", "T9"], key=spine_order) == [
        "T9", "T12", "L1", "L2", "L10", "S1",
    ]  # fmt: skip
    centres = ordered({"L2": (0, 0, -10), "L1": (0, 0, 20), "X": (0, 0, 99)}, "test")
    assert centres.labels == ("L1", "L2", "X") and centres.centres.shape == (3, 3)


def test_findings_give_the_best_scored_centre_per_label():
    findings = Findings(
        "study",
        "cpu",
        vertebrae=(_finding("L2", -10), _finding("L1", 20), _finding("L1", 50, 0.2)),
    )
    centres = from_findings(findings, "study")
    assert centres is not None and centres.labels == ("L1", "L2")
    assert centres.centres[0, 2] == 20.0 and centres.origin == "AI findings"
    assert from_findings(findings, "another study") is None
    assert from_findings(None, "study") is None


def test_a_phantoms_truth_is_found_above_its_files(tmp_path: Path):
    truth = generate_scoliotic_ct(tmp_path, 4)
    study = tmp_path / scoliotic_folder_name(4)
    image = study / truth.series[0].images[0].file
    assert find_ground_truth([image]) == study
    assert find_ground_truth([tmp_path / "elsewhere" / "x.dcm"]) is None
    centres = spine_centres(None, truth.study_instance_uid, truth.frame_of_reference_uid, [image])
    assert centres is not None and centres.origin == "phantom ground truth"
    assert centres.labels[0] == "T11" and centres.labels[-1] == "S1"
    expected = [v.centre_mm for v in truth.vertebrae]
    assert np.allclose(centres.centres, expected)
    # another frame of reference: the truth is not this series'
    assert spine_centres(None, truth.study_instance_uid, "9.9", [image]) is None
