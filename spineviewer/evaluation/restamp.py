"""A study's DICOM files written again under new UIDs (the invariance variants, the fracture
studies): every image of a ground truth's series is read, its Study, Series and SOP Instance
and Frame of Reference UIDs replaced, adjusted by the caller and written under another folder.
The source files are only read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom

__all__ = ["UID_KEYWORDS", "restamp_images"]

#: The UIDs a copy of a study gets anew.
UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


def restamp_images(
    source: Path,
    target: Path,
    truth: dict[str, Any],
    new_uid: Callable[[str], str],
    adjust: Callable[[pydicom.Dataset], None] = lambda ds: None,
) -> None:
    """Write every image ``truth`` lists from ``source`` to the same relative path under
    ``target``, its UIDs replaced by ``new_uid(old)`` and then ``adjust`` applied."""
    for series in truth["series"]:
        for image in series["images"]:
            ds = pydicom.dcmread(source / image["file"])
            for keyword in UID_KEYWORDS:
                setattr(ds, keyword, new_uid(str(getattr(ds, keyword))))
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            adjust(ds)
            path = target / image["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(path, enforce_file_format=True)
