"""Constants and plain helpers shared by the DICOM tests (fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydicom.data import get_testdata_file

from spineviewer.dicom import FrameCache, ScanResult, StackPixels, Volume

#: Image orientations (IOP) used when writing synthetic slices.
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)

#: UID root for the studies, series and instances the tests write.
UID_ROOT = "1.2.826.0.1.3680043.8.498.4242"
STUDY_UID = f"{UID_ROOT}.1"
SERIES_UID = f"{UID_ROOT}.2"

#: CT_small.dcm has RescaleIntercept -1024; the written marker pixel (0, 0) is read back
#: through that rescale.
CT_SMALL_INTERCEPT = -1024

REAL_CT_DIR = Path("/work/shared/data/real/totalsegmentator-examples/ct_dicom")
REAL_CT_NIFTI = Path("/work/shared/data/real/totalsegmentator-examples/example_ct_sm.nii.gz")


def sample_path(name: str) -> Path:
    """Path of a file from pydicom's (and pydicom-data's) test files."""
    path = get_testdata_file(name)
    assert path is not None, f"pydicom test file {name} is not installed"
    return Path(path)


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (or of ``root`` itself), by relative path."""
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {
        str(p.relative_to(root)) if p != root else p.name: hashlib.sha256(
            p.read_bytes()
        ).hexdigest()
        for p in files
    }


def tree_listing(root: Path) -> list[str]:
    """Every path (files and folders) under ``root``, relative, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def load_all(result: ScanResult) -> list[Volume]:
    """Load the volume of every stack of a scan, each with its own cache."""
    return [StackPixels(stack, FrameCache()).volume() for stack in result.stacks()]
