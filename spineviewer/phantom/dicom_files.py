"""DICOM Part 10 files for phantom images: the modules every kind shares.

UIDs are derived from the study kind, the seed and a role string, so the same seed gives the
same UIDs (and byte-identical files: nothing depends on the clock).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from spineviewer import __version__
from spineviewer.geometry import Plane

#: Appended to every series description and written to ImageComments.
NOTICE = "SYNTHETIC PHANTOM - NOT FOR CLINICAL USE"
MANUFACTURER = "SpineViewer phantom"
IMPLEMENTATION_UID = "2.25.302845793468103728510574936288917524816"


#: Namespace of the name-based (version 5) UUIDs behind every phantom UID.
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://spineviewer.invalid/phantom")


def make_uid(*parts: object) -> str:
    """A ``2.25.<uuid>`` UID that depends only on ``parts`` (a name-based UUID, RFC 4122 v5).

    (``pydicom.uid.generate_uid(prefix=None, ...)`` ignores its entropy sources and returns
    a random UUID, so it cannot give reproducible UIDs.)
    """
    name = "/".join(str(p) for p in parts)
    return f"2.25.{uuid.uuid5(_UUID_NAMESPACE, name).int}"


def _ds(value: float) -> str:
    """A DS string of at most 16 characters; never ``-0`` (rounding noise has no sign)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    if text == "-0":
        return "0"
    return text if len(text) <= 16 else f"{value:.8g}"


@dataclass(frozen=True)
class StudyInfo:
    """Patient and study identity of one phantom study.

    ``variant`` names options that make another study of the same seed (the same patient): its
    UIDs then differ from those of the default study, which keeps its own.
    """

    kind: str
    seed: int
    study_uid: str
    frame_uid: str
    patient_name: str
    patient_id: str
    date: str
    time: str
    variant: str = ""

    @classmethod
    def create(cls, kind: str, seed: int, variant: str = "") -> StudyInfo:
        """Identity derived from ``kind``, ``seed`` and ``variant`` only."""
        region = {"lumbar-mr": "LUMBAR", "lumbar-ct": "LUMBARCT", "spine-xr": "SPINEXR"}[kind]
        day = dt.date(2024, 1, 1) + dt.timedelta(days=seed % 3650)
        seconds = (seed * 7919) % 36000 + 8 * 3600
        key = (kind, seed, variant) if variant else (kind, seed)
        return cls(
            kind=kind,
            seed=seed,
            variant=variant,
            study_uid=make_uid(*key, "study"),
            frame_uid=make_uid(*key, "frame"),
            patient_name=f"PHANTOM^{region}^{seed:05d}",
            patient_id=f"PH-{region}-{seed:05d}",
            date=day.strftime("%Y%m%d"),
            time=f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}",
        )

    def uid(self, *parts: object) -> str:
        """A UID of something in this study (series, image) named by ``parts``."""
        if self.variant:
            return make_uid(self.kind, self.seed, self.variant, *parts)
        return make_uid(self.kind, self.seed, *parts)


@dataclass(frozen=True)
class SeriesInfo:
    """One series: where its files go and how it is described."""

    uid: str
    number: int
    description: str
    modality: str
    sop_class_uid: str
    folder: str
    role: str
    plane: str

    @classmethod
    def create(
        cls,
        study: StudyInfo,
        number: int,
        role: str,
        description: str,
        modality: str,
        sop_class_uid: str,
        plane: str,
    ) -> SeriesInfo:
        """A series with a deterministic UID; folder ``S<number>_<role>``."""
        return cls(
            uid=study.uid("series", role),
            number=number,
            description=f"{description} {NOTICE}",
            modality=modality,
            sop_class_uid=sop_class_uid,
            folder=f"S{number:02d}_{role}",
            role=role,
            plane=plane,
        )

    def sop_uid(self, study: StudyInfo, index: int) -> str:
        """SOP Instance UID of image ``index`` (0-based)."""
        return study.uid("image", self.role, index)

    def file_name(self, index: int) -> str:
        """Relative path of image ``index`` inside the study folder."""
        return f"{self.folder}/IM{index + 1:05d}.dcm"


def new_dataset(study: StudyInfo, series: SeriesInfo, index: int) -> Dataset:
    """A dataset with the patient, study, series, equipment, frame and SOP common modules."""
    sop_uid = series.sop_uid(study, index)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(series.sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(IMPLEMENTATION_UID)
    meta.ImplementationVersionName = "SPINEVIEWER"
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = series.sop_class_uid
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = study.date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = study.time
    ds.AccessionNumber = f"PH{study.seed:08d}"
    ds.Modality = series.modality
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = "spineviewer.phantom"
    ds.SoftwareVersions = __version__
    ds.InstitutionName = "SpineViewer synthetic data"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = f"{study.kind.upper()} {NOTICE}"
    ds.SeriesDescription = series.description
    ds.PatientName = study.patient_name
    ds.PatientID = study.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "Synthetic phantom: no real patient"
    ds.StudyInstanceUID = study.study_uid
    ds.SeriesInstanceUID = series.uid
    ds.StudyID = f"{study.seed:05d}"
    ds.SeriesNumber = series.number
    ds.InstanceNumber = index + 1
    ds.AcquisitionNumber = 1
    ds.ImageComments = f"{NOTICE}. Generated by spineviewer.phantom, seed {study.seed}."
    ds.BurnedInAnnotation = "NO"
    return ds


def set_plane(ds: Dataset, study: StudyInfo, plane: Plane, thickness: float) -> None:
    """Frame of reference and image plane modules (IPP, IOP, PixelSpacing, SliceThickness)."""
    ds.FrameOfReferenceUID = study.frame_uid
    ds.PositionReferenceIndicator = ""
    ds.ImagePositionPatient = [_ds(float(v)) for v in plane.origin]
    ds.ImageOrientationPatient = [_ds(float(v)) for v in (*plane.row_dir, *plane.col_dir)]
    ds.PixelSpacing = [_ds(s) for s in plane.spacing]
    ds.SliceThickness = _ds(thickness)
    ds.SliceLocation = _ds(float(plane.origin @ plane.normal))
    ds.PatientPosition = "HFS"


def set_pixels(
    ds: Dataset,
    pixels: NDArray[np.uint16],
    window: tuple[float, float],
    photometric: str = "MONOCHROME2",
    bits_stored: int = 16,
) -> None:
    """Image pixel module (unsigned 16-bit) plus VOI window (centre, width)."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = (int(n) for n in pixels.shape)
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.WindowCenter = _ds(window[0])
    ds.WindowWidth = _ds(window[1])
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()


def write(ds: Dataset, study_dir: Path, relative: str) -> None:
    """Write ``ds`` as Part 10 (explicit VR little endian) to ``study_dir / relative``."""
    path = study_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
