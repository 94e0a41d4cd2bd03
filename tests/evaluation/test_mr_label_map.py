"""The MR studies' sagittal label map: on the sagittal series' grid, its bodies at the truth
centres, named in the truth (the session's evaluation studies of conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from .conftest import SEEDS, EvalStudy


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_the_sagittal_label_map_lies_on_the_sagittal_grid(
    eval_studies: dict[str, EvalStudy], name: str
) -> None:
    study = eval_studies[name]
    entry = study.truth["label_map"]
    sagittal = [s for s in study.truth["series"] if s["plane"] == "sagittal"]
    assert entry["series_instance_uid"] == sagittal[0]["series_instance_uid"]
    shared = study.truth["parameters"]["label_map"]["series_instance_uids"]
    assert shared == [s["series_instance_uid"] for s in sagittal]
    datasets = study.datasets(sagittal[0]["role"])
    image = sitk.ReadImage(str(study.path / entry["file"]))
    assert image.GetSize() == (datasets[0].Columns, datasets[0].Rows, len(datasets))
    dr, dc = (float(v) for v in datasets[0].PixelSpacing)
    assert np.allclose(image.GetSpacing()[:2], (dc, dr), atol=1e-5)
    for k, ds in enumerate(datasets):  # the files are written slice by slice, in grid order
        position = image.TransformIndexToPhysicalPoint((0, 0, k))
        assert np.allclose(position, np.array(ds.ImagePositionPatient, float), atol=1e-3)
        row = np.array(ds.ImageOrientationPatient[:3], float)
        assert np.allclose(np.array(image.GetDirection()).reshape(3, 3)[:, 0], row, atol=1e-6)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_sagittal_labels_sit_at_the_truth_centres(
    eval_studies: dict[str, EvalStudy], name: str
) -> None:
    study = eval_studies[name]
    image = sitk.ReadImage(str(study.path / study.truth["label_map"]["file"]))
    labels = sitk.GetArrayFromImage(image)
    values = study.truth["label_map"]["values"]
    assert sorted(values.values()) == list(range(1, len(values) + 1))
    for label in ("L2", "L3", "L4"):
        k, j, i = np.argwhere(labels == values[label]).mean(axis=0)
        centroid = np.array(image.TransformContinuousIndexToPhysicalPoint((i, j, k)))
        assert np.linalg.norm(centroid - study.vertebra(label)["centre_mm"]) < 1.0, label
    for level in ("L3-L4", "L4-L5"):
        assert (labels == values[level]).sum() > 100
