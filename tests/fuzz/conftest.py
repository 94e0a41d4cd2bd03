"""Fuzz test setup: registers the ``deep`` hypothesis profile (see fuzz_support.py) early
enough for ``pytest tests/fuzz --hypothesis-profile=deep``; shared fixtures."""

from __future__ import annotations

from pathlib import Path

import fuzz_support  # noqa: F401  (registers the profile)
import pydicom
import pytest
from dicom_mutants import write_intact
from pydicom.fileset import FileSet


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """A DICOMDIR naming two CT slices, and ``outside.dcm`` beside the media folder (a file a
    DICOMDIR must not reach)."""
    folder = tmp_path / "media"
    fileset = FileSet()
    for path in write_intact(tmp_path):
        fileset.add(pydicom.dcmread(path))
    fileset.write(folder)
    (tmp_path / "intact0.dcm").rename(tmp_path / "outside.dcm")
    (tmp_path / "intact1.dcm").unlink()
    return folder
