"""What the writers and readers of DICOM objects made from annotations (KOS, GSPS) share: one
study per object, never written beside the source images, and a file read only when it is
the object it should be."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from spineviewer.annotations.sr import check_destination

__all__ = ["one_study_destination", "read_object"]


def one_study_destination(headers: Iterable[Dataset], path: str | Path, what: str) -> Path:
    """``path`` resolved for an object of one study made from ``headers``; ValueError when
    the headers span several studies or ``path`` is beside the source images."""
    headers = list(headers)
    out = check_destination(path, headers)
    studies = {str(ds.StudyInstanceUID) for ds in headers}
    if len(studies) != 1:
        raise ValueError(f"the images span {len(studies)} studies; write one {what} per study")
    return out


def read_object(path: str | Path, sop_class_uid: str, what: str) -> Dataset:
    """The DICOM object at ``path``; ValueError naming the file when it cannot be read or is
    no ``what`` (its SOP Class is not ``sop_class_uid``)."""
    try:
        ds = pydicom.dcmread(path)
    except (OSError, pydicom.errors.InvalidDicomError) as exc:
        raise ValueError(f"{path}: not a readable DICOM file ({exc})") from exc
    if str(getattr(ds, "SOPClassUID", "")) != sop_class_uid:
        raise ValueError(f"{path}: not a {what}")
    return ds
