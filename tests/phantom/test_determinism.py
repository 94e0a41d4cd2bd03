"""The same seed gives byte-identical files; another seed gives other images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from .conftest import CT_SEED, MR_SEED, Study, make_study


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path, mr_study: Study, ct_study: Study):
    for kind, seed, study in (("lumbar-mr", MR_SEED, mr_study), ("lumbar-ct", CT_SEED, ct_study)):
        again = make_study(tmp_path, kind, seed)
        first, second = _files(study.path), _files(again.path)
        assert first.keys() == second.keys()
        assert len(first) > 20
        assert [k for k in first if first[k] != second[k]] == []
        assert again.truth == study.truth


def test_other_seed_other_images(tmp_path: Path, xr_studies: list[Study], mr_study: Study):
    a, b = xr_studies[0], xr_studies[1]
    assert a.truth.study_instance_uid != b.truth.study_instance_uid
    assert a.truth.vertebrae != b.truth.vertebrae
    pixels = [
        pydicom.dcmread(s.path / s.truth.series[0].images[0].file).pixel_array for s in (a, b)
    ]
    assert not np.array_equal(*pixels)
    other = make_study(tmp_path, "lumbar-mr", MR_SEED + 1)
    assert other.truth.series[0].series_instance_uid != mr_study.truth.series[0].series_instance_uid
    assert other.truth.discs != mr_study.truth.discs
    ours, theirs = mr_study.datasets("sagittal_t2")[0], other.datasets("sagittal_t2")[0]
    assert theirs.PatientName == f"PHANTOM^LUMBAR^{MR_SEED + 1:05d}"
    assert ours.pixel_array.shape != theirs.pixel_array.shape or not np.array_equal(
        ours.pixel_array, theirs.pixel_array
    )
