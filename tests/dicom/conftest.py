"""Shared fixtures for the DICOM tests: real files from pydicom's test data, writers of
modified copies, checksums of source trees and a scan-then-load helper."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_helpers import AXIAL, SERIES_UID, STUDY_UID, UID_ROOT, load_all, sample_path, tree_digest

from spineviewer.dicom import ScanResult, Volume, scan


@pytest.fixture(scope="session")
def ct_small_bytes() -> bytes:
    return sample_path("CT_small.dcm").read_bytes()


SliceWriter = Callable[..., Path]


@pytest.fixture
def write_ct_slice(ct_small_bytes: bytes) -> SliceWriter:
    """Write a modified copy of pydicom's CT_small.dcm (a real CT image).

    ``marker`` is stored in pixel (0, 0) so a test can tell which file a loaded slice came
    from; ``size=(rows, cols)`` replaces the pixel data; ``remove`` deletes attributes;
    other keyword arguments set attributes by keyword.
    """

    def write(
        path: Path,
        *,
        position: Sequence[float] | None = (0.0, 0.0, 0.0),
        orientation: Sequence[float] | None = AXIAL,
        instance_number: int | None = 1,
        sop_uid: str | None = None,
        marker: int | None = None,
        size: tuple[int, int] | None = None,
        remove: Sequence[str] = (),
        **tags: object,
    ) -> Path:
        ds = pydicom.dcmread(io.BytesIO(ct_small_bytes))
        ds.StudyInstanceUID = STUDY_UID
        ds.SeriesInstanceUID = SERIES_UID
        uid = (
            sop_uid or f"{UID_ROOT}.3.{int(hashlib.sha1(str(path).encode()).hexdigest()[:12], 16)}"
        )
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        for keyword, value in (
            ("ImagePositionPatient", position),
            ("ImageOrientationPatient", orientation),
            ("InstanceNumber", instance_number),
        ):
            if value is None:
                if keyword in ds:
                    delattr(ds, keyword)
            else:
                setattr(ds, keyword, list(value) if isinstance(value, Sequence) else value)
        pixels = ds.pixel_array.copy()
        if size is not None:
            pixels = np.resize(pixels, size).astype(pixels.dtype)
            ds.Rows, ds.Columns = size
        if marker is not None:
            pixels[0, 0] = marker
        ds.PixelData = pixels.tobytes()
        for keyword, value in tags.items():
            setattr(ds, keyword, value)
        for keyword in remove:
            if keyword in ds:
                delattr(ds, keyword)
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        return path

    return write


@pytest.fixture
def axial_series(tmp_path: Path, write_ct_slice: SliceWriter) -> Callable[..., list[Path]]:
    """Write ``n`` axial CT slices at z = z0 + k*step into a folder; marker of slice k is k."""

    def make(
        folder: str = "series",
        n: int = 4,
        step: float = 2.0,
        z0: float = 0.0,
        **tags: object,
    ) -> list[Path]:
        return [
            write_ct_slice(
                tmp_path / folder / f"slice{k:02d}.dcm",
                position=(-50.0, -60.0, z0 + k * step),
                instance_number=k + 1,
                marker=k,
                **tags,
            )
            for k in range(n)
        ]

    return make


@pytest.fixture
def scan_and_load_unchanged() -> Callable[[Path, Path | None], tuple[ScanResult, list[Volume]]]:
    """Scan ``path`` and load every stack; assert no file under ``watch`` changed."""

    def run(path: Path, watch: Path | None = None) -> tuple[ScanResult, list[Volume]]:
        watched = watch or (path if path.is_dir() else path.parent)
        before = tree_digest(watched)
        result = scan(path)
        volumes = load_all(result)
        assert tree_digest(watched) == before, "a source file was modified by scan/load"
        return result, volumes

    return run


@pytest.fixture(scope="session")
def dicomdir_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only copy of pydicom's dicomdirtests DICOMDIR and the files it names."""
    source = sample_path("MR_small.dcm").parent / "dicomdirtests"
    target = tmp_path_factory.mktemp("dicomdir")
    shutil.copy2(source / "DICOMDIR", target / "DICOMDIR")
    for patient in ("77654033", "98892001", "98892003"):
        shutil.copytree(source / patient, target / patient)
    return target
