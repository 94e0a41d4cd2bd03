"""Key images as a DICOM Key Object Selection document (KOS, TID 2010), written with highdicom,
and the key images of a KOS read back (one written here or by another system).

A KOS names images of one study under a coded title (CID 7010, by default DCM 113000
"Of Interest") and is what a PACS shows as the study's key images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from spineviewer.annotations.annotation import ImageRef
from spineviewer.annotations.dicom_objects import one_study_destination, read_object
from spineviewer.annotations.frames import FrameKey
from spineviewer.annotations.sr_terms import MANUFACTURER, SOFTWARE_VERSION

__all__ = ["OF_INTEREST", "KeyImage", "KeyImages", "export_kos", "read_kos"]

#: DCM 113000 "Of Interest": the document title of the key images a reader picked.
OF_INTEREST: Code = codes.DCM.OfInterest
KOS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"


@dataclass(frozen=True)
class KeyImage:
    """One referenced image (frame numbers empty: the whole image)."""

    series_uid: str
    sop_class_uid: str
    sop_instance_uid: str
    frames: tuple[int, ...] = ()


@dataclass(frozen=True)
class KeyImages:
    """What a KOS says: its title, description and the images it selects."""

    study_uid: str
    title: str
    title_code: str
    description: str
    images: tuple[KeyImage, ...]

    def refs(self, images: dict[FrameKey, ImageRef]) -> list[ImageRef]:
        """The selected frames among ``images`` (see :func:`~.frames.image_refs`)."""
        out = []
        for key in self.images:
            for (uid, frame), ref in images.items():
                if uid == key.sop_instance_uid and (not key.frames or frame in key.frames):
                    out.append(ref)
        return out


def export_kos(
    headers: Sequence[Dataset],
    path: str | Path,
    *,
    title: Code = OF_INTEREST,
    description: str = "Key images selected in SpineViewer",
    series_number: int = 9003,
    institution_name: str | None = None,
) -> Path:
    """Write a KOS selecting the images of ``headers`` (one study; headers without pixel data
    are enough) at ``path``. ValueError for no image, several studies, or a path beside the
    source images."""
    if not headers:
        raise ValueError("no key image to select")
    out = one_study_destination(headers, path, "KOS")
    content = hd.ko.KeyObjectSelection(
        document_title=title, referenced_objects=list(headers), description=description
    )
    document = hd.ko.KeyObjectSelectionDocument(
        evidence=list(headers),
        content=content,
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        institution_name=institution_name,
    )
    document.SeriesDescription = "SpineViewer key images"
    document.SoftwareVersions = SOFTWARE_VERSION
    out.parent.mkdir(parents=True, exist_ok=True)
    document.save_as(out, enforce_file_format=True)
    return out


def _text(item: Dataset) -> str:
    return str(getattr(item, "TextValue", "") or "")


def read_kos(path: str | Path) -> KeyImages:
    """The key images of the KOS at ``path``; ValueError names the file when it is no KOS."""
    ds = read_object(path, KOS_SOP_CLASS, "Key Object Selection document")
    names = getattr(ds, "ConceptNameCodeSequence", None) or [Dataset()]
    title = names[0]
    images: list[KeyImage] = []
    description = ""
    for item in getattr(ds, "ContentSequence", []):
        kind = str(getattr(item, "ValueType", ""))
        if kind == "TEXT":
            description = _text(item)
        elif kind in ("IMAGE", "COMPOSITE"):
            for ref in getattr(item, "ReferencedSOPSequence", []):
                frames = getattr(ref, "ReferencedFrameNumber", None)
                numbers = (
                    ()
                    if frames is None
                    else tuple(int(f) for f in (frames if isinstance(frames, list) else [frames]))
                )
                images.append(KeyImage("", str(ref.ReferencedSOPClassUID),
                                       str(ref.ReferencedSOPInstanceUID), numbers))  # fmt: skip
    series = {
        str(sop.ReferencedSOPInstanceUID): str(item.SeriesInstanceUID)
        for study in getattr(ds, "CurrentRequestedProcedureEvidenceSequence", [])
        for item in getattr(study, "ReferencedSeriesSequence", [])
        for sop in getattr(item, "ReferencedSOPSequence", [])
    }
    images = [
        KeyImage(series.get(k.sop_instance_uid, ""), k.sop_class_uid, k.sop_instance_uid, k.frames)
        for k in images
    ]
    return KeyImages(
        study_uid=str(getattr(ds, "StudyInstanceUID", "")),
        title=str(getattr(title, "CodeMeaning", "")),
        title_code=str(getattr(title, "CodeValue", "")),
        description=description,
        images=tuple(images),
    )
