"""dicom3tools ``dciodvfy`` finds no errors in phantom files of any kind."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import Study

DCIODVFY = shutil.which("dciodvfy")
pytestmark = [
    pytest.mark.tools,
    pytest.mark.skipif(
        DCIODVFY is None, reason="dciodvfy (Debian package dicom3tools) not on PATH"
    ),
]


def _check(path: Path) -> list[str]:
    result = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=60)
    lines = (result.stdout + result.stderr).splitlines()
    assert lines, f"dciodvfy said nothing about {path}"
    assert not lines[0].startswith("Abort"), lines
    return [line for line in lines if line.startswith("Error")]


def _sample(study: Study) -> list[Path]:
    files = []
    for series in study.truth.series:
        picks = {0, len(series.images) // 2, len(series.images) - 1}
        files += [study.path / series.images[i].file for i in sorted(picks)]
    return files


def test_no_errors(mr_study: Study, ct_study: Study, xr_studies: list[Study]):
    checked = 0
    for study in (mr_study, ct_study, *xr_studies):
        for path in _sample(study):
            assert _check(path) == [], path
            checked += 1
    assert checked >= 9 + 3 + len(xr_studies)


def test_no_errors_with_mr_options(mr_contrasts: Study, mr_l2_s1: Study):
    """Sagittal T1 and STIR (ScanningSequence SE\\IR, InversionTime), a cut field of view."""
    checked = 0
    for study in (mr_contrasts, mr_l2_s1):
        for path in _sample(study):
            assert _check(path) == [], path
            checked += 1
    assert checked == 3 * 5 + 3 * 3
