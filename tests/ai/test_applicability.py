"""A model never answers for input it does not accept: T1, STIR, PD, coronal MR, CT and
radiographs of the chest or a hand each get either an analysis by a model that declares it
accepts them, or "skipped: <reason>" (real DICOM files with rewritten headers, real
onnxruntime sessions with the shipped models)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from spineviewer.ai.analysis import analyse_path
from spineviewer.ai.findings import Findings
from spineviewer.ai.mr_series import contrast_of
from spineviewer.ai.registry import find_models
from spineviewer.dicom import scan
from spineviewer.phantom import generate, study_folder_name

MODELS = find_models()


@pytest.fixture(scope="module")
def lumbar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lumbar")
    generate("lumbar-mr", root, 90_011)
    return root / study_folder_name("lumbar-mr", 90_011)


def _rewrite(src: Path, dest: Path, **tags: object) -> Path:
    """A copy of ``src`` whose files have ``tags`` set (None deletes a tag)."""
    shutil.copytree(src, dest)
    for path in dest.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        for keyword, value in tags.items():
            if value is None:
                if keyword in ds:
                    delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        ds.save_as(path)
    return dest


def _analyse(path: Path) -> Findings:
    (findings,) = analyse_path(path, provider="cpu")
    return findings


def _model_accepts(model_id: str, modality: str, view: str, **what: str | None) -> bool:
    entry = next(e for e in MODELS if e.manifest is not None and e.manifest.id == model_id)
    assert entry.manifest is not None
    return entry.manifest.applies_to.matches(modality, view, **what)


def _no_finding_from_models_that_refuse(findings: Findings, contrast: str) -> None:
    """Every MR model that contributed declares it accepts ``contrast``."""
    for use in findings.models:
        entry = next(e for e in MODELS if e.manifest is not None and e.manifest.id == use.id)
        assert entry.manifest is not None
        contrasts = entry.manifest.applies_to.contrast
        assert not contrasts or contrast in contrasts, (use.id, contrast)


@pytest.mark.parametrize(
    ("contrast", "tags"),
    [
        ("T1", {"EchoTime": 12, "RepetitionTime": 550, "SeriesDescription": "SAG T1 TSE"}),
        (
            "STIR",
            {
                "EchoTime": 60,
                "RepetitionTime": 4000,
                "InversionTime": 160,
                "ScanningSequence": ["SE", "IR"],
                "SeriesDescription": "SAG STIR",
            },
        ),
        ("PD", {"EchoTime": 25, "RepetitionTime": 3000, "SeriesDescription": "SAG PD TSE"}),
    ],
)
def test_other_contrasts_are_skipped_with_the_reason(
    lumbar: Path, tmp_path: Path, contrast: str, tags: dict[str, object]
) -> None:
    study = _rewrite(lumbar, tmp_path / contrast, **tags)
    stacks = [contrast_of(s) for s in scan(study).stacks()]
    assert {s.contrast for s in stacks} == {contrast}
    findings = _analyse(study)
    _no_finding_from_models_that_refuse(findings, contrast)
    if not _model_accepts("vertebrae-sagittal", "MR", "sagittal", contrast=contrast):
        step = findings.step("lumbar MR: vertebrae")
        assert step is not None and step.status == "skipped"
        assert contrast in step.reason and "model" in step.reason
        assert findings.vertebrae == () and findings.discs == ()


def test_a_t2_description_with_t1_timing_is_t1(lumbar: Path, tmp_path: Path) -> None:
    study = _rewrite(lumbar, tmp_path / "liar", EchoTime=10, RepetitionTime=500)
    (sagittal,) = [s for s in scan(study).stacks() if s.plane == "sagittal"]
    found = contrast_of(sagittal)
    assert found.contrast == "T1" and "T2" in found.note


def test_no_contrast_in_the_header_is_unknown(lumbar: Path, tmp_path: Path) -> None:
    study = _rewrite(
        lumbar, tmp_path / "bare", EchoTime=None, RepetitionTime=None, SeriesDescription=None
    )
    for stack in scan(study).stacks():
        assert contrast_of(stack).contrast is None
    findings = _analyse(study)
    _no_finding_from_models_that_refuse(findings, "")  # T2-only models did not run


def test_coronal_mr_is_not_analysed_as_sagittal(lumbar: Path, tmp_path: Path) -> None:
    # rows along +x (left), columns along -z: a coronal image
    study = _rewrite(lumbar, tmp_path / "coronal", ImageOrientationPatient=[1, 0, 0, 0, 0, -1])
    planes = {s.plane for s in scan(study).stacks()}
    assert planes == {"coronal"}, planes
    findings = _analyse(study)
    step = findings.step("lumbar MR: series")
    assert step is not None and step.status == "skipped" and "sagittal" in step.reason
    assert findings.vertebrae == () and findings.discs == () and findings.classifications == ()


def test_ct_gets_no_mr_or_radiograph_finding(tmp_path: Path) -> None:
    shutil.copy(get_testdata_file("CT_small.dcm"), tmp_path / "ct.dcm")
    findings = _analyse(tmp_path)
    assert findings.vertebrae == () and findings.discs == () and findings.implants == ()
    assert findings.cobb is None and findings.classifications == ()
    skipped = {s.name: s.reason for s in findings.steps if s.status == "skipped"}
    assert "no MR series" in skipped["lumbar MR: series"]
    assert "no radiograph" in skipped["spine X-ray: radiograph"]


@pytest.mark.parametrize(
    ("name", "body_part"),
    [("RG1_UNCR.dcm", "CHEST"), ("RG3_UNCR.dcm", "EXTREMITY"), ("RG3_UNCR.dcm", None)],
)
def test_radiographs_not_of_the_spine_report_nothing(
    tmp_path: Path, name: str, body_part: str | None
) -> None:
    """A chest or a hand radiograph gets no vertebra, no implant and no Cobb angle: by its
    BodyPartExamined, or, without one, because no spine is seen on it."""
    path = tmp_path / name
    ds = pydicom.dcmread(get_testdata_file(name))
    if body_part is None:
        del ds.BodyPartExamined
    ds.ViewPosition = "AP"
    ds.save_as(path)
    findings = _analyse(tmp_path)
    assert findings.vertebrae == () and findings.implants == () and findings.cobb is None
    reasons = " ".join(s.reason for s in findings.steps if s.name.startswith("spine X-ray"))
    if body_part is not None:
        assert f"of {body_part}, not of the spine" in reasons
    else:
        assert "no spine seen" in reasons


def test_enhanced_mr_is_declined_for_what_it_is(tmp_path: Path) -> None:
    """pydicom's enhanced multi-frame MR of the head carries no geometry at all: declined for
    that reason, not as 'no MR series'."""
    shutil.copy(get_testdata_file("emri_small.dcm"), tmp_path / "emri.dcm")
    findings = _analyse(tmp_path)
    step = findings.step("lumbar MR: series")
    assert step is not None and step.status == "skipped"
    assert "no MR series in the study" not in step.reason, step.reason
    assert "no pixel spacing" in step.reason
    assert findings.vertebrae == () and findings.discs == ()


def test_a_t1_image_named_t2_is_doubted(tmp_path: Path) -> None:
    """The header says T2 (description, TR, TE) but the pixels are T1-weighted: the T2 models
    run (they cannot know), and the image check makes every label and disc uncertain with the
    reason."""
    from spineviewer.ai.findings import UNCERTAIN
    from spineviewer.phantom import MrOptions

    generate("lumbar-mr", tmp_path, 90_051, mr_options=MrOptions(sagittal_contrasts=("T1",)))
    study = tmp_path / study_folder_name("lumbar-mr", 90_051)
    for path in study.glob("*/*.dcm"):
        ds = pydicom.dcmread(path)
        if ds.SeriesDescription.startswith("SAG"):
            ds.SeriesDescription, ds.EchoTime, ds.RepetitionTime = "SAG T2", 100, 4000
            ds.save_as(path)
    findings = _analyse(study)
    assert any("looks T1-weighted" in w for w in findings.warnings)
    assert findings.vertebrae and all(v.review != "confident" for v in findings.vertebrae)
    assert findings.discs and all(d.review != "confident" for d in findings.discs)
    assert findings.labelling[0].status != "confident"
    assert UNCERTAIN in {v.review for v in findings.vertebrae}


def test_a_t2_image_is_not_doubted(lumbar: Path) -> None:
    findings = _analyse(lumbar)
    assert not any("looks T1-weighted" in w for w in findings.warnings)


@pytest.mark.parametrize("body_part", ["L-SPINE", "Lumbar spine", "L SPINE", "SPINE LUMBAR"])
def test_a_spine_radiograph_in_free_text_is_a_spine_radiograph(
    tmp_path: Path, body_part: str
) -> None:
    """BodyPartExamined as modalities write it outside PS3.16: the pipeline read "L-SPINE"
    as "the radiograph is of L-SPINE, not of the spine", and the model refused "L SPINE"
    after the pipeline had accepted it."""
    generate("spine-xr", tmp_path, 94_005)
    study = tmp_path / study_folder_name("spine-xr", 94_005)
    (path,) = study.rglob("*.dcm")
    ds = pydicom.dcmread(path)
    with warnings.catch_warnings():  # pydicom: "Lumbar spine" is no valid CS; modalities differ
        warnings.simplefilter("ignore")
        ds.BodyPartExamined = body_part
    ds.save_as(path)
    findings = _analyse(study)
    skipped = [s for s in findings.steps if s.name.startswith("spine X-ray") and s.status != "done"]
    assert skipped == [] and findings.vertebrae and findings.cobb is not None


def test_a_chest_radiograph_beside_a_spine_radiograph_leaves_the_spine_one(tmp_path: Path) -> None:
    """One study, a chest PA (series 1) and a lumbar AP (series 5): the lumbar one is analysed
    (the first radiograph was taken, and the study skipped as "of CHEST")."""
    generate("spine-xr", tmp_path, 94_005)
    study = tmp_path / study_folder_name("spine-xr", 94_005)
    spine = pydicom.dcmread(next(study.rglob("*.dcm")))
    chest = pydicom.dcmread(get_testdata_file("RG1_UNCR.dcm"))
    chest.StudyInstanceUID, chest.PatientID = spine.StudyInstanceUID, spine.PatientID
    chest.SeriesNumber, chest.ViewPosition = 1, "PA"
    chest.save_as(study / "chest.dcm")
    assert [s.modality for s in scan(study).stacks()] == ["CR", "DX"]  # the chest first
    findings = _analyse(study)
    assert findings.vertebrae and findings.cobb is not None
    assert {v.series_uid for v in findings.vertebrae} == {str(spine.SeriesInstanceUID)}


@pytest.mark.parametrize(("body_part", "analysed"), [("KNEE", False), ("Lumbar spine", True)])
def test_an_mr_of_another_body_part_gets_no_finding(
    lumbar: Path, tmp_path: Path, body_part: str, analysed: bool
) -> None:
    """The MR models are for the lumbar spine (their manifests say LSPINE): a sagittal T2 of
    the knee is skipped with that reason (the MR pipeline never passed the body part, so the
    detector ran on anything sagittal and T2); a lumbar one in free text is analysed."""
    with warnings.catch_warnings():  # pydicom: "Lumbar spine" is no valid CS
        warnings.simplefilter("ignore")
        study = _rewrite(lumbar, tmp_path / "part", BodyPartExamined=body_part)
    findings = _analyse(study)
    step = findings.step("lumbar MR: vertebrae")
    assert step is not None
    if analysed:
        assert step.status == "done" and findings.vertebrae and findings.discs
    else:
        assert step.status == "skipped" and f"series is {body_part}" in step.reason, step
        assert findings.vertebrae == () and findings.discs == () and findings.models == ()
