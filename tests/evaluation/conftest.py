"""Evaluation studies generated once per test session (a few seconds each).

Seeds (their cases are fixed by :func:`spineviewer.evaluation.case_for`):
- 700001: standard anatomy, field L1-S1 with the sacrum, sagittal T2 and T1, angled axials;
- 700007: no sacrum in view (field T10-L5), sagittal T2 and T1, angled axials;
- 700002: non-square pixels, field L2-S1, a continuous axial stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from spineviewer.evaluation import generate_study
from spineviewer.geometry import Plane

SEEDS = {"t1": 700001, "no_sacrum": 700007, "non_square": 700002}


@dataclass(frozen=True)
class EvalStudy:
    path: Path
    truth: dict[str, Any]

    def series(self, role: str) -> dict[str, Any]:
        return next(s for s in self.truth["series"] if s["role"] == role)

    def datasets(self, role: str) -> list[pydicom.Dataset]:
        return [pydicom.dcmread(self.path / i["file"]) for i in self.series(role)["images"]]

    def vertebra(self, label: str) -> dict[str, Any]:
        return next(v for v in self.truth["vertebrae"] if v["label"] == label)


def plane_of(ds: pydicom.Dataset) -> Plane:
    return Plane.from_dicom(
        ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing, ds.Rows, ds.Columns
    )


def mean_near(datasets: list[pydicom.Dataset], point: Any, rows: int = 1, cols: int = 1) -> float:
    """Mean pixel value of a (2 rows + 1) x (2 cols + 1) box around ``point`` on the slice
    nearest to it."""
    point = np.asarray(point, dtype=np.float64)
    ds = min(datasets, key=lambda d: abs(float(plane_of(d).distance(point))))
    row, col = (round(float(v)) for v in plane_of(ds).to_pixel(point))
    pixels = ds.pixel_array.astype(np.float64)
    return float(pixels[row - rows : row + rows + 1, col - cols : col + cols + 1].mean())


@pytest.fixture(scope="session")
def eval_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evaluation")
    for seed in SEEDS.values():
        generate_study(root, seed)
    return root


@pytest.fixture(scope="session")
def eval_studies(eval_root: Path) -> dict[str, EvalStudy]:
    out = {}
    for name, seed in SEEDS.items():
        path = eval_root / f"eval-lumbar-mr-{seed:06d}"
        out[name] = EvalStudy(path, json.loads((path / "ground_truth.json").read_text()))
    return out
