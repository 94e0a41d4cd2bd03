"""Series of several contrasts in one lumbar MR study (the demo phantom's files copied and
rewritten with pydicom; real onnxruntime sessions with the shipped models):

- axial T2 and axial T1 through the same discs (a common protocol, or a T1-weighted localiser):
  the T2 discs are classified by the T2 disc model, the T1 slices left out (the step was
  skipped as "series contrast is unknown");
- a header whose description and timing disagree: the findings say so (the note was made and
  dropped, so the user read "T1" of a series named "SAG T2" with no why);
- a sagittal series whose images have two contrasts: unknown, whichever file sorts first (the
  first file decided: T1 first skipped the series, T2 first ran the T2 detector on T1 images).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.findings import Findings
from spineviewer.ai.mr_series import contrast_of
from spineviewer.dicom import scan

T1_TIMING = {"RepetitionTime": 550, "EchoTime": 10}


def _analyse(path: Path) -> Findings:
    (findings,) = analyse_path(path, provider="cpu")
    return findings


def _edit(path: Path, **tags: object) -> None:
    ds = pydicom.dcmread(path)
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.save_as(path)


def _axial_t1_copy(study: Path, folder: str, dest: str) -> set[str]:
    """A copy of the series in ``folder`` as an axial T1 series (new UIDs); its SOP UIDs."""
    (study / dest).mkdir()
    series_uid, uids = generate_uid(), set()
    for path in sorted((study / folder).glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SeriesDescription, ds.SeriesNumber = "AX T1 TSE", 9
        ds.RepetitionTime, ds.EchoTime = T1_TIMING["RepetitionTime"], T1_TIMING["EchoTime"]
        ds.save_as(study / dest / path.name)
        uids.add(str(ds.SOPInstanceUID))
    return uids


@pytest.fixture(scope="module")
def demo(demo_study_dir: Path) -> Findings:
    return _analyse(demo_study_dir)


def test_axial_t1_beside_axial_t2_leaves_the_t2_discs_classified(
    demo_study_dir: Path, demo: Findings, tmp_path: Path
) -> None:
    study = shutil.copytree(demo_study_dir, tmp_path / "t1-and-t2")
    t1 = _axial_t1_copy(study, "S03_axial_t2_stack", "S09_axial_t1")
    t1 |= _axial_t1_copy(study, "S02_axial_t2_angled", "S10_axial_t1_angled")
    findings = _analyse(study)
    step = findings.step("lumbar MR: disc states")
    assert step is not None and step.status == "done", step
    assert [d.level for d in findings.discs] == [d.level for d in demo.discs]
    for disc, alone in zip(findings.discs, demo.discs, strict=True):
        assert not set(disc.axial_instances) & t1, disc.level  # T1 slices never classified
        assert disc.state == alone.state
        for name, p in alone.probabilities.items():
            assert disc.probabilities[name] == pytest.approx(p, abs=1e-3)


def test_a_description_timing_disagreement_reaches_the_findings(
    demo_study_dir: Path, tmp_path: Path
) -> None:
    study = shutil.copytree(demo_study_dir, tmp_path / "liar")
    for path in (study / "S01_sagittal_t2").glob("*.dcm"):
        _edit(path, **T1_TIMING)
    findings = _analyse(study)
    # the detector reads T1 too; the T2-only fracture model does not run on it
    step = findings.step("lumbar MR: fractures")
    assert step is not None and step.status == "skipped" and "series is T1" in step.reason
    (note,) = [w for w in findings.warnings if "TR/TE" in w]
    assert note.startswith('sagittal series "SAG T2') and "described as T2" in note, note
    assert any(note in line for line in findings.summary_lines())


def test_a_normal_study_has_no_contrast_note(demo: Findings) -> None:
    assert not [w for w in demo.warnings if "contrast" in w or "TR/TE" in w], demo.warnings


@pytest.mark.parametrize("t1_first", [True, False])
def test_a_sagittal_series_of_two_contrasts_is_not_analysed(
    demo_study_dir: Path, tmp_path: Path, t1_first: bool
) -> None:
    """Every other sagittal file gets T1 timing: starting with the first file or with the
    second, the answer is the same: contrast unknown, the T2 detector does not run, the
    warning says why."""
    study = shutil.copytree(demo_study_dir, tmp_path / "mixed")
    files = sorted((study / "S01_sagittal_t2").glob("*.dcm"))
    for path in files[0 if t1_first else 1 :: 2]:
        _edit(path, **T1_TIMING)
    (sagittal,) = [s for s in scan(study).stacks() if s.plane == "sagittal"]
    assert len(sagittal) == len(files)  # one stack: nothing else tells the images apart
    found = contrast_of(sagittal)
    assert found.contrast is None and "differ in contrast" in found.note
    assert "T1 on" in found.note and "T2 on" in found.note
    findings = _analyse(study)
    step = findings.step("lumbar MR: vertebrae")
    assert step is not None and step.status == "skipped", step
    assert findings.vertebrae == () and findings.discs == ()
    assert any("differ in contrast" in w for w in findings.warnings), findings.warnings


@pytest.mark.parametrize(
    ("description", "timing", "contrast"),
    [
        ("SAG STIR", {"RepetitionTime": 4000, "EchoTime": 60}, "STIR"),
        ("t2_tirm_sag", {"RepetitionTime": 3500, "EchoTime": 45}, "STIR"),
        ("SAG STIR", {"RepetitionTime": 500, "EchoTime": 10}, "T1"),  # with a note
        ("SAG T2", {"RepetitionTime": 4000, "EchoTime": 100}, "T2"),
    ],
)
def test_a_stir_without_its_inversion_fields_is_still_stir(
    demo_study_dir: Path, tmp_path: Path, description: str, timing: dict, contrast: str
) -> None:
    """An anonymiser may strip InversionTime and ScanningSequence: a series named STIR (or
    Siemens' TIRM) with a STIR's long TR and TE was read as T2 from its timing, and the T2
    models ran on it."""
    study = shutil.copytree(demo_study_dir, tmp_path / "stir")
    for path in (study / "S01_sagittal_t2").glob("*.dcm"):
        ds = pydicom.dcmread(path)
        for keyword in ("InversionTime", "SequenceName"):
            if keyword in ds:
                delattr(ds, keyword)
        ds.ScanningSequence, ds.SeriesDescription = "SE", description
        ds.RepetitionTime, ds.EchoTime = timing["RepetitionTime"], timing["EchoTime"]
        ds.save_as(path)
    (sagittal,) = [s for s in scan(study).stacks() if s.plane == "sagittal"]
    found = contrast_of(sagittal)
    assert found.contrast == contrast, found
    assert ("described as STIR" in found.note) is (contrast == "T1")
    if contrast == "STIR":
        findings = _analyse(study)
        step = findings.step("lumbar MR: fractures")
        assert step is not None and step.status == "skipped" and "series is STIR" in step.reason
