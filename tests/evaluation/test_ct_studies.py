"""Lumbar CT studies of the evaluation generator: valid CT files in HU, a label map on the
series' exact grid whose bodies sit at the truth centres, the field of view the case says, and
the same study for the same seed. Small matrices keep the volumes small (every draw but the
pixel grid is the full study's)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from spineviewer.dicom import scan
from spineviewer.evaluation import ct_study
from spineviewer.evaluation.ct_study import ct_study_folder_name, generate_ct_study, plan_ct_study

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
#: 720000: standard, T12 to the sacrum; 720003: no sacrum, from T11.
SEEDS = {"standard": 720000, "no_sacrum": 720003}
MATRIX = 160


@pytest.fixture(scope="module")
def ct_studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("evaluation-ct")
    return {name: generate_ct_study(root, seed, MATRIX) for name, seed in SEEDS.items()}


def _truth(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "ground_truth.json").read_text())


def _datasets(folder: Path) -> list[pydicom.Dataset]:
    """The series' files, lowest slice first."""
    images = _truth(folder)["series"][0]["images"]
    datasets = [pydicom.dcmread(folder / i["file"]) for i in images]
    return sorted(datasets, key=lambda ds: float(ds.ImagePositionPatient[2]))


def _hu(ds: pydicom.Dataset) -> np.ndarray:
    return ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_file_is_a_valid_ct_image_in_hu(ct_studies: dict[str, Path], name: str) -> None:
    folder = ct_studies[name]
    truth = _truth(folder)
    assert truth["kind"] == "lumbar-ct" and truth["series"][0]["modality"] == "CT"
    listed = {i["file"] for i in truth["series"][0]["images"]}
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*.dcm")} == listed
    instances = []
    for ds in _datasets(folder):
        assert ds.file_meta.MediaStorageSOPClassUID == CT_IMAGE_STORAGE == ds.SOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.Modality == "CT" and ds.RescaleType == "HU"
        assert float(ds.RescaleSlope) == 1.0 and float(ds.RescaleIntercept) in (-1024.0, -1000.0)
        assert ds.StudyInstanceUID == truth["study_instance_uid"]
        assert ds.FrameOfReferenceUID == truth["frame_of_reference_uid"]
        assert list(map(float, ds.ImageOrientationPatient)) == [1, 0, 0, 0, 1, 0]
        assert ds.pixel_array.shape == (MATRIX, MATRIX)
        assert ds.pixel_array.max() < 2**ds.BitsStored
        assert 1.0 <= float(ds.SliceThickness) <= 3.0
        assert "NOT FOR CLINICAL USE" in ds.ImageComments
        instances.append(int(ds.InstanceNumber))
    assert instances == sorted(instances, reverse=True)  # instance 1 is the top slice
    result = scan(folder)
    assert len(result.studies) == 1 and len(result.stacks()) == 1
    assert result.stacks()[0].plane == "axial"


def test_tissues_have_their_ct_numbers(ct_studies: dict[str, Path]) -> None:
    folder = ct_studies["standard"]
    truth = _truth(folder)
    datasets = _datasets(folder)
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / "labels.nii.gz")))
    values = truth["label_map"]["values"]
    l3 = next(v for v in truth["vertebrae"] if v["label"] == "L3")["centre_mm"]
    middle = int(np.argmin([abs(float(ds.ImagePositionPatient[2]) - l3[2]) for ds in datasets]))
    hu = np.stack([_hu(ds) for ds in datasets[middle - 2 : middle + 3]])
    near = labels[middle - 2 : middle + 3]
    assert np.median(hu[..., :3, :3]) < -900  # air in the corner of the field
    sigma = truth["parameters"]["noise_sigma_hu"]
    canal = hu[near == values["spinal_canal"]]
    assert -60 < np.median(canal) < 60  # CSF and epidural fat, not bone
    body = hu[near == values["L3"]]
    assert 60 + sigma < np.median(body) < 300  # cancellous bone
    assert np.percentile(body, 99) > 400  # the cortex
    arch = hu[near == values["L3_posterior_elements"]]
    assert np.median(arch) > np.median(body)  # thin bone: mostly cortex


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_the_label_map_lies_on_the_series_grid(ct_studies: dict[str, Path], name: str) -> None:
    folder = ct_studies[name]
    datasets = _datasets(folder)
    image = sitk.ReadImage(str(folder / "labels.nii.gz"))
    assert image.GetSize() == (datasets[0].Columns, datasets[0].Rows, len(datasets))
    first, second = (np.array(ds.ImagePositionPatient, dtype=float) for ds in datasets[:2])
    assert np.allclose(image.GetOrigin(), first, atol=1e-4)
    dr, dc = (float(v) for v in datasets[0].PixelSpacing)
    assert np.allclose(image.GetSpacing(), (dc, dr, np.linalg.norm(second - first)), atol=1e-4)
    assert np.allclose(image.GetDirection(), np.eye(3).ravel(), atol=1e-6)
    for k in (0, len(datasets) - 1):  # every slice's position is the grid's
        position = image.TransformIndexToPhysicalPoint((0, 0, k))
        assert np.allclose(position, np.array(datasets[k].ImagePositionPatient, float), atol=1e-3)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_labelled_bodies_lie_at_their_truth_centres(ct_studies: dict[str, Path], name: str) -> None:
    folder = ct_studies[name]
    truth = _truth(folder)
    image = sitk.ReadImage(str(folder / "labels.nii.gz"))
    labels = sitk.GetArrayFromImage(image)
    details = {e["name"]: e for e in truth["parameters"]["label_map"]["labels"]}
    for vertebra in truth["vertebrae"]:
        if vertebra["label"] not in ("L1", "L2", "L3", "L4"):
            continue
        value = truth["label_map"]["values"][vertebra["label"]]
        k, j, i = np.argwhere(labels == value).mean(axis=0)
        centroid = np.array(image.TransformContinuousIndexToPhysicalPoint((i, j, k)))
        assert np.linalg.norm(centroid - vertebra["centre_mm"]) < 1.0, vertebra["label"]
        assert np.allclose(details[vertebra["label"]]["centroid_mm"], centroid, atol=1e-3)
    structures = {e["structure"] for e in details.values() if e["voxels"] > 0}
    assert structures >= {"vertebral_body", "disc", "posterior_elements", "spinal_canal"}


def test_the_field_of_view_follows_the_case(ct_studies: dict[str, Path]) -> None:
    standard, no_sacrum = (_truth(ct_studies[n]) for n in ("standard", "no_sacrum"))
    voxels = {
        key: {e["name"]: e["voxels"] for e in t["parameters"]["label_map"]["labels"]}
        for key, t in (("standard", standard), ("no_sacrum", no_sacrum))
    }
    in_view = {
        key: {v["label"] for v in t["vertebrae"] if v["in_sagittal_fov"]}
        for key, t in (("standard", standard), ("no_sacrum", no_sacrum))
    }
    assert {"T12", "L1", "L5", "S1"} <= in_view["standard"] and voxels["standard"]["sacrum"] > 0
    assert {"T11", "L5"} <= in_view["no_sacrum"] and "S1" not in in_view["no_sacrum"]
    assert voxels["no_sacrum"]["S1"] == 0
    assert no_sacrum["parameters"]["case_kind"] == "no-sacrum"
    assert no_sacrum["parameters"]["fov_levels"] == "T11-L5"


def test_a_seed_gives_the_same_study_and_another_seed_another(tmp_path: Path) -> None:
    a = generate_ct_study(tmp_path / "a", 720002, 48)
    b = generate_ct_study(tmp_path / "b", 720002, 48)
    c = generate_ct_study(tmp_path / "c", 720001, 48)
    assert (a / "ground_truth.json").read_text() == (b / "ground_truth.json").read_text()
    pa, pb = (np.stack([ds.pixel_array for ds in _datasets(f)]) for f in (a, b))
    assert np.array_equal(pa, pb)
    la, lb = (sitk.GetArrayFromImage(sitk.ReadImage(str(f / "labels.nii.gz"))) for f in (a, b))
    assert np.array_equal(la, lb)
    assert _truth(c)["study_instance_uid"] != _truth(a)["study_instance_uid"]
    assert _truth(c)["parameters"]["slices"] != _truth(a)["parameters"]["slices"] or not (
        np.array_equal(pa[:5], np.stack([ds.pixel_array for ds in _datasets(c)])[:5])
    )


def test_the_ct_study_is_another_patient_than_the_mr_study_of_its_seed() -> None:
    from spineviewer.evaluation.dicom_file import StudyIds
    from spineviewer.evaluation.study import plan_study

    ct, mr = plan_ct_study(720004), plan_study(720004)
    assert ct.anatomy.age != mr.anatomy.age
    ids = (StudyIds.for_ct(720004, "SIEMENS"), StudyIds.for_seed(720004, "SIEMENS", 1.5))
    assert ids[0].study_uid != ids[1].study_uid and ids[0].patient_id != ids[1].patient_id


def test_the_command_line_writes_ct_studies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spineviewer.cli import evaluation as cli
    from spineviewer.cli import main
    from spineviewer.evaluation import study_kinds

    assert cli.STUDY_KINDS == study_kinds.STUDY_KINDS
    small = functools.partial(generate_ct_study, matrix=32)
    monkeypatch.setattr(ct_study, "generate_ct_study", small)
    command = ["evaluation", "generate", str(tmp_path), "--kind", "lumbar-ct", "--seed", "720006"]
    assert main(command) == 0
    folder = tmp_path / ct_study_folder_name(720006)
    assert _truth(folder)["kind"] == "lumbar-ct" and (folder / "labels.nii.gz").is_file()
    with pytest.raises(ValueError, match="unknown study kind"):
        study_kinds.generate(tmp_path, 1, kind="lumbar-xr")
