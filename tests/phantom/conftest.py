"""Phantom studies generated once per test session, and helpers to read them back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest

from spineviewer.geometry import Plane
from spineviewer.phantom import StudyGroundTruth, generate, load_ground_truth, study_folder_name

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


def make_study(root: Path, kind: str, seed: int) -> Study:
    """Generate one study under ``root`` and read its ground truth back from disk."""
    generate(kind, root, seed)
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
