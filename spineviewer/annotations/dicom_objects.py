"""What the writers and readers of DICOM objects made from annotations (SR, SEG, KOS, GSPS)
share: one study per object, never written beside the source images, the source headers
the annotations refer to, and a file read only when it is the object it should be."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset

from spineviewer.annotations.annotation import Annotation

__all__ = [
    "check_destination",
    "first_int",
    "headers_for",
    "is_multiframe",
    "one_study_destination",
    "read_object",
]


def check_destination(path: str | Path, headers: Iterable[Dataset]) -> Path:
    """``path`` resolved; ValueError when it is a source file or in a source file's folder."""
    target = Path(path).resolve()
    for ds in headers:
        name = getattr(ds, "filename", None)
        if isinstance(name, str) and name:
            source = Path(name).resolve()
            if target in (source, source.parent) or target.parent == source.parent:
                raise ValueError(
                    f"refusing to write {target}: exports never go into or beside the source "
                    f"images ({source.parent})"
                )
    return target


def first_int(value: Any, default: int = 1) -> int:
    """The first number of a DICOM value that may be a single number, a list or empty."""
    if value is None or value == "":
        return default
    if isinstance(value, Sequence) and not isinstance(value, str):
        return int(value[0]) if len(value) else default
    return int(value)


def headers_for(
    annotations: Sequence[Annotation], source_datasets: Mapping[str, Dataset]
) -> dict[str, Dataset]:
    """The source headers the annotations refer to; KeyError names a missing one."""
    out: dict[str, Dataset] = {}
    for a in annotations:
        uid = a.image.sop_instance_uid
        if uid not in source_datasets:
            raise KeyError(f"no source header for SOP Instance UID {uid} (annotation {a.uid})")
        out[uid] = source_datasets[uid]
    return out


def is_multiframe(ds: Dataset) -> bool:
    """True when the image holds several frames (frame numbers must be referenced)."""
    return int(getattr(ds, "NumberOfFrames", 1) or 1) > 1


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
