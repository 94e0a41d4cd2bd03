"""The labels of a spine radiograph can say "not sure" too (real phantom radiographs cut with
pydicom, real onnxruntime sessions with the shipped AP models).

An AP radiograph that ends between L5 and the sacrum was labelled T11..S1 (the cut L5 looks
sacral to the detector: every label one level off) with every vertebra "confident" and no
labelling check at all, so neither the findings nor the report asked for a second look. The
radiograph's column now gets the sagittal MR column's check (sacrum in view, gaps, possible
transitional anatomy, image edges).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.findings import CONFIDENT, NEEDS_REVIEW, Findings, ImplantFinding
from spineviewer.phantom import generate, load_ground_truth, study_folder_name
from spineviewer.reports.study_report import cautions

SEED = 94_005
MODELS = Path(__file__).resolve().parents[2] / "onnx_models"

pytestmark = pytest.mark.skipif(
    not (MODELS / "vertebrae-ap.onnx").exists(), reason="the AP radiograph model is not shipped"
)


@pytest.fixture(scope="module")
def radiograph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("xr")
    generate("spine-xr", root, SEED)
    return root / study_folder_name("spine-xr", SEED)


def _analyse(path: Path) -> Findings:
    (findings,) = analyse_path(path, provider="cpu")
    return findings


def _cut_below(study: Path, dest: Path, z_mm: float) -> Path:
    """A copy of ``study`` whose radiograph ends at detector height ``z_mm`` (the ground
    truth's ``[x, 0, -y]`` from the image origin; rows below removed)."""
    shutil.copytree(study, dest)
    (path,) = dest.rglob("*.dcm")
    ds = pydicom.dcmread(path)
    keep = int(-z_mm / float(ds.PixelSpacing[0]))
    ds.PixelData = ds.pixel_array[:keep].tobytes()
    ds.Rows = keep
    ds.save_as(path)
    return dest


def test_a_whole_radiograph_is_labelled_with_confidence(radiograph: Path) -> None:
    findings = _analyse(radiograph)
    (check,) = findings.labelling
    assert check.series_uid == findings.vertebrae[0].series_uid
    assert check.sacrum == "found" and check.status == CONFIDENT, check
    assert findings.vertebrae[-1].label == "S1"
    assert all(v.review == CONFIDENT for v in findings.vertebrae)
    assert cautions(findings) == () and not [w for w in findings.warnings if "label" in w]


@pytest.mark.parametrize("below_l5_mm", [10.0, 15.0, 20.0, 26.0])
def test_a_radiograph_cut_above_the_sacrum_is_flagged(
    radiograph: Path, tmp_path: Path, below_l5_mm: float
) -> None:
    truth = {v.label: v.centre_mm for v in load_ground_truth(radiograph).vertebrae}
    cut = _cut_below(radiograph, tmp_path / "cut", truth["L5"][2] - below_l5_mm)
    findings = _analyse(cut)
    (check,) = findings.labelling
    assert check.sacrum != "found" and check.status == NEEDS_REVIEW, check
    assert findings.vertebrae and all(v.review == NEEDS_REVIEW for v in findings.vertebrae)
    assert all(v.review_reasons for v in findings.vertebrae)
    for text in (findings.warnings, findings.summary_lines(), cautions(findings)):
        assert any("sacrum" in line for line in text), text
    if check.sacrum == "not in view":  # relabelled from L5: each label on its own body
        for v in findings.vertebrae:
            assert abs(v.centre_mm[2] - truth[v.label][2]) < 10.0, v.label


def test_the_summary_tells_the_columns_of_an_mr_and_a_radiograph_apart() -> None:
    """One study, L1 and L2 on a sagittal MR and on a radiograph: one line each, named, and
    the radiograph's labelling doubt says it is the radiograph's (they ran together as
    "vertebrae: L1 L2 L1 L2")."""
    from spineviewer.ai.findings import LabellingCheck, VertebraFinding

    def vertebra(label: str, series: str, tilt: tuple[float, float] | None) -> VertebraFinding:
        return VertebraFinding(label, 0.9, series, "1", (0, 0, 1, 1), (0, 0, 0), tilt_deg=tilt)

    mr = [vertebra(label, "1.1", None) for label in ("L1", "L2")]
    xr = [vertebra(label, "1.2", (1.0, 2.0)) for label in ("L1", "L2")]
    doubt = LabellingCheck("1.2", 0.5, NEEDS_REVIEW, "at the image edge", ("cut",))
    lines = Findings("1", "cpu", vertebrae=(*mr, *xr), labelling=(doubt,)).summary_lines()
    assert lines[:3] == [
        "vertebrae (MR): L1 L2",
        "vertebrae (radiograph): L1 L2",
        "vertebra labels (radiograph): needs review (cut)",
    ]
    assert Findings("1", "cpu", vertebrae=tuple(mr)).summary_lines()[0] == "vertebrae: L1 L2"


def test_the_summary_names_implants_as_people_read_them() -> None:
    implants = tuple(
        ImplantFinding(cls, 0.9, "1", (0, 0, 1, 1))
        for cls in ("pedicle_screw", "pedicle_screw", "rod")
    )
    lines = Findings("1", "cpu", implants=implants).summary_lines()
    assert "implants: 2 Pedicle screw, 1 Spinal rod" in lines
