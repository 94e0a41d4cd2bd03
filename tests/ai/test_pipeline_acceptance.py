"""Issue 6's acceptance on held-out phantoms through ``spineviewer analyze``: 20 lumbar MR
studies (seeds no model was trained on) with their angled and continuous axial series, a study
without axial series, and the real CT declined by the MR pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from study_helpers import copy_plane

from spineviewer.ai.findings import Findings
from spineviewer.cli import main
from spineviewer.phantom import generate, load_ground_truth, study_folder_name

SEEDS = range(90_000, 90_020)  # disc-state's held-out seeds; no detector saw them either


@pytest.fixture(scope="module")
def analysed(module_tmp: Path) -> list[tuple[Path, Findings]]:
    root = module_tmp / "acceptance"
    root.mkdir()
    out = []
    for seed in SEEDS:
        generate("lumbar-mr", root / "studies", seed)
        study = root / "studies" / study_folder_name("lumbar-mr", seed)
        json_path = root / f"{seed}.json"
        assert main(["analyze", str(study), "--json", str(json_path), "--provider", "cpu"]) == 0
        out.append((study, Findings.from_json(json_path.read_text())))
    return out


def test_every_axial_slice_goes_to_the_right_level(analysed) -> None:
    """No slice ever goes to a wrong disc. Whether a slice about 5 mm from a disc belongs to it
    or to none depends on the cut-off (half the smallest disc gap, at most 5 mm) and on the
    estimated disc centre (within about 2 mm of the true one), so only there may the two
    disagree; every slice the classifier uses (within 3 mm) is assigned exactly as the truth."""
    total = same = 0
    for study, findings in analysed:
        truth = {a.sop_instance_uid: a for a in load_ground_truth(study).axial_levels}
        found = {a.sop_instance_uid: a for a in findings.axial_levels}
        assert set(found) == set(truth), study.name  # both axial variants, every slice
        for uid, t in truth.items():
            f = found[uid]
            total += 1
            same += f.level == t.level
            if f.level != t.level:
                assert None in (f.level, t.level), (study.name, uid, t.level, f.level)
                assert min(t.distance_mm, f.distance_mm) > 3.0, (study.name, uid)
    assert same / total >= 0.9, f"{total - same} of {total} slices at the cut-off disagree"


def test_vertebra_labels_and_disc_states(analysed) -> None:
    labels = labels_right = discs = discs_right = 0
    for study, findings in analysed:
        truth = load_ground_truth(study)
        centres = {v.label: np.asarray(v.centre_mm) for v in truth.vertebrae}
        for v in findings.vertebrae:
            labels += 1
            nearest = min(centres, key=lambda k: np.linalg.norm(centres[k] - v.centre_mm))
            labels_right += (
                nearest == v.label and np.linalg.norm(centres[nearest] - v.centre_mm) < 20
            )
        states = {d.level: d.state for d in truth.discs}
        for d in findings.discs:
            discs += 1
            discs_right += d.state == states[d.level]
        assert not [s for s in findings.steps if s.status == "failed"]
    assert labels >= 20 * 7 and labels_right / labels >= 0.99
    assert discs >= 20 * 6 and discs_right / discs >= 0.95


def test_without_axial_series_the_sagittal_findings_come_with_a_warning(
    analysed, tmp_path: Path
) -> None:
    study, _ = analysed[0]
    sagittal_only = copy_plane(study, "sagittal", tmp_path / "sagittal")
    out = tmp_path / "f.json"
    assert main(["analyze", str(sagittal_only), "--json", str(out), "--provider", "cpu"]) == 0
    findings = Findings.from_json(out.read_text())
    assert len(findings.vertebrae) >= 7
    assert findings.discs and all(d.view == "sagittal" for d in findings.discs)
    assert any("no axial MR series" in w for w in findings.warnings)
    assert findings.step("lumbar MR: disc states").status == "skipped"  # type: ignore[union-attr]
    assert any(" sagittal slices" in line for line in findings.summary_lines())


def test_the_real_ct_is_declined_by_the_mr_pipeline(real_ct_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ct.json"
    assert main(["analyze", str(real_ct_dir), "--json", str(out), "--provider", "cpu"]) == 0
    findings = Findings.from_json(out.read_text())
    assert not findings.vertebrae and not findings.discs
    step = findings.step("lumbar MR: series")
    assert step is not None and step.status == "skipped" and "no MR series" in step.reason
