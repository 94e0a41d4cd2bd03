"""Phantom studies generated once per test session, and helpers to read them back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from spineviewer.geometry import Plane
from spineviewer.phantom import (
    MrOptions,
    StudyGroundTruth,
    generate,
    load_ground_truth,
    study_folder_name,
)

#: Seeds chosen so the fixtures cover what the tests need (see each fixture).
MR_SEED = 7  # discs: normal, bulge (L4-L5) and herniation (L5-S1)
CT_SEED = 11
XR_SEEDS = (0, 1, 2, 3)  # CR MONOCHROME1 with implants, DX, CR with implants, DX without


@dataclass(frozen=True)
class Study:
    """A generated study: its folder and ground truth (as read back from the JSON file)."""

    path: Path
    truth: StudyGroundTruth

    def datasets(self, role: str) -> list[pydicom.Dataset]:
        """All datasets of the series with ``role``, in ground-truth image order."""
        series = self.truth.series_by_role(role)
        return [pydicom.dcmread(self.path / image.file) for image in series.images]


def make_study(root: Path, kind: str, seed: int, mr_options: MrOptions | None = None) -> Study:
    """Generate one study under ``root`` and read its ground truth back from disk."""
    generate(kind, root, seed, mr_options=mr_options)
    path = root / study_folder_name(kind, seed)
    return Study(path, load_ground_truth(path))


def plane_of(ds: pydicom.Dataset) -> Plane:
    """The image plane of a dataset."""
    return Plane.from_dicom(
        ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing, ds.Rows, ds.Columns
    )


def hu(ds: pydicom.Dataset) -> np.ndarray:
    """Modality values (HU for CT)."""
    return ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def marrow_centroid(image: np.ndarray, box: list[int]) -> tuple[float, float]:
    """Row, column of the centroid of the marrow region containing the box centre."""
    x0, y0, x1, y1 = box
    crop = image[y0 : y1 + 1, x0 : x1 + 1].astype(np.float64)
    h, w = crop.shape
    core = crop[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3]
    level = float(np.median(core))
    band = (crop > 0.7 * level) & (crop < 1.3 * level)
    labels = sitk.GetArrayFromImage(
        sitk.ConnectedComponent(sitk.GetImageFromArray(band.astype(np.uint8)))
    )
    mask = labels == labels[h // 2, w // 2]
    assert labels[h // 2, w // 2] > 0 and mask.sum() > 0.4 * h * w
    rows, cols = np.nonzero(mask)
    return y0 + rows.mean(), x0 + cols.mean()


@pytest.fixture(scope="session")
def phantom_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("phantoms")


@pytest.fixture(scope="session")
def mr_study(phantom_root: Path) -> Study:
    return make_study(phantom_root, "lumbar-mr", MR_SEED)


@pytest.fixture(scope="session")
def ct_study(phantom_root: Path) -> Study:
    return make_study(phantom_root, "lumbar-ct", CT_SEED)


@pytest.fixture(scope="session")
def xr_studies(phantom_root: Path) -> list[Study]:
    return [make_study(phantom_root, "spine-xr", seed) for seed in XR_SEEDS]


def _options_study(factory: pytest.TempPathFactory, name: str, options: MrOptions) -> Study:
    return make_study(factory.mktemp(name), "lumbar-mr", MR_SEED, options)


@pytest.fixture(scope="session")
def mr_t10_l5(tmp_path_factory: pytest.TempPathFactory) -> Study:
    """The fixture MR seed with a sagittal field of view from T10 to L5 (no sacral body)."""
    return _options_study(tmp_path_factory, "t10", MrOptions(sagittal_fov="T10-L5"))


@pytest.fixture(scope="session")
def mr_l2_s1(tmp_path_factory: pytest.TempPathFactory) -> Study:
    """The fixture MR seed with a sagittal field of view from L2 to S1."""
    return _options_study(tmp_path_factory, "l2", MrOptions(sagittal_fov="L2-S1"))


@pytest.fixture(scope="session")
def mr_six_lumbar(tmp_path_factory: pytest.TempPathFactory) -> Study:
    """The fixture MR seed with six lumbar vertebrae."""
    return _options_study(tmp_path_factory, "l6", MrOptions(lumbar_vertebrae=6))


@pytest.fixture(scope="session")
def mr_contrasts(tmp_path_factory: pytest.TempPathFactory) -> Study:
    """The fixture MR seed with sagittal T1, T2 and STIR series."""
    options = MrOptions(sagittal_contrasts=("T1", "T2", "STIR"))
    return _options_study(tmp_path_factory, "contrasts", options)
