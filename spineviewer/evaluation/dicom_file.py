"""Writing the evaluation studies as DICOM MR Image Storage files (pydicom); the attributes a CT
image shares with them (:mod:`spineviewer.evaluation.ct_dicom`) come from the same code.

Explicit VR little endian, 16-bit unsigned (12 bits stored), MONOCHROME2. Geometry is exact:
ImagePositionPatient of each slice, ImageOrientationPatient, PixelSpacing (between rows,
between columns; non-square where the case says so), SliceThickness and SpacingBetweenSlices
of the stack, one FrameOfReferenceUID for the whole study. Timing (TR, TE, TI) and the maker's
words come from the protocol. Every UID is a hash of the seed and what it names, so the same
seed always writes the same UIDs. Each file says it is synthetic (ImageComments,
StudyDescription, the patient's name and the de-identification attributes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataset import FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, MRImageStorage

from spineviewer import __version__
from spineviewer.evaluation.protocol import SeriesPlan
from spineviewer.evaluation.render import StackGeometry

__all__ = ["NOTICE", "StudyIds", "common_dataset", "save", "uid", "write_image"]

NOTICE = "SYNTHETIC EVALUATION PHANTOM - NOT FOR CLINICAL USE"
GENERATOR = "spineviewer.evaluation"


def uid(seed: int, *parts: object) -> str:
    """A UID derived from the seed and ``parts``: ``2.25.`` and the first 128 bits of their
    SHA-256 as a decimal integer (the same every run, at most 44 characters)."""
    text = "\x1f".join([GENERATOR, str(seed), *map(str, parts)])
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


@dataclass(frozen=True)
class StudyIds:
    seed: int
    study_uid: str
    frame_of_reference_uid: str
    patient_id: str
    manufacturer: str
    field_t: float
    modality: str = "MR"
    #: The middle word of the patient's name and the accession number's letters.
    patient_word: str = "LUMBAR"
    accession_prefix: str = "EV"

    @classmethod
    def for_seed(cls, seed: int, manufacturer: str, field_t: float) -> StudyIds:
        """The identifiers of a lumbar MR study."""
        return cls(
            seed,
            uid(seed, "study"),
            uid(seed, "frame of reference"),
            f"EV-LUMBAR-{seed:06d}",
            manufacturer,
            field_t,
        )

    @classmethod
    def for_ct(cls, seed: int, manufacturer: str) -> StudyIds:
        """The identifiers of a lumbar CT study: other UIDs and IDs than the MR study of the
        same seed (another patient)."""
        return cls(
            seed,
            uid(seed, "lumbar-ct", "study"),
            uid(seed, "lumbar-ct", "frame of reference"),
            f"EV-LUMBARCT-{seed:06d}",
            manufacturer,
            0.0,
            "CT",
            "LUMBARCT",
            "EC",
        )


def _ds(values: list[float]) -> list[str]:
    return [f"{v:.6f}".rstrip("0").rstrip(".") if v != 0 else "0" for v in values]


def common_dataset(
    ids: StudyIds,
    sop_class: str,
    sop_uid: str,
    description: str,
    series_number: int,
    series_uid: str,
    instance_number: int,
    geometry: StackGeometry,
    slice_index: int,
    pixels: NDArray[np.uint16],
) -> pydicom.Dataset:
    """The attributes an MR and a CT image share: identifiers, patient and study, geometry and
    the image pixel module (16 bits allocated, 12 stored, unsigned, MONOCHROME2)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationVersionName = "SPINEVIEWER"
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    date = "20250301"
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = date
    ds.StudyTime = "090000"
    ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = f"09{series_number:02d}00"
    ds.AccessionNumber = f"{ids.accession_prefix}{ids.seed:08d}"
    ds.Modality = ids.modality
    ds.Manufacturer = ids.manufacturer
    ds.ManufacturerModelName = "synthetic"
    ds.InstitutionName = "SpineViewer evaluation generator"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = f"LSPINE {ids.modality} {NOTICE}"
    ds.SeriesDescription = description
    ds.PatientName = f"EVALUATION^{ids.patient_word}^{ids.seed:06d}"
    ds.PatientID = ids.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "Synthetic phantom: no real patient"
    ds.BodyPartExamined = "LSPINE"
    ds.SliceThickness = _ds([geometry.thickness])[0]
    ds.SpacingBetweenSlices = _ds([geometry.step])[0]
    ds.SoftwareVersions = __version__
    ds.ProtocolName = description
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = ids.study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = f"{ids.seed:06d}"
    ds.SeriesNumber = str(series_number)
    ds.AcquisitionNumber = "1"
    ds.InstanceNumber = str(instance_number)
    position = geometry.position(slice_index)
    ds.ImagePositionPatient = _ds([float(v) for v in position])
    ds.ImageOrientationPatient = _ds([*map(float, geometry.row_dir), *map(float, geometry.col_dir)])
    ds.FrameOfReferenceUID = ids.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = _ds([float(position @ geometry.normal)])[0]
    ds.ImageComments = f"{NOTICE} ({GENERATOR}, seed {ids.seed})"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = (int(v) for v in pixels.shape)
    ds.PixelSpacing = _ds([float(v) for v in geometry.spacing])
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.BurnedInAnnotation = "NO"
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()
    return ds


def save(ds: pydicom.Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def write_image(
    path: Path,
    ids: StudyIds,
    series: SeriesPlan,
    series_number: int,
    series_uid: str,
    sop_uid: str,
    instance_number: int,
    geometry: StackGeometry,
    slice_index: int,
    pixels: NDArray[np.uint16],
) -> None:
    """Write one slice (``slice_index`` of ``geometry``) of ``series``."""
    ds = common_dataset(
        ids,
        MRImageStorage,
        sop_uid,
        series.description,
        series_number,
        series_uid,
        instance_number,
        geometry,
        slice_index,
        pixels,
    )
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
    ds.ScanningSequence = series.scanning_sequence.split("\\")
    ds.SequenceVariant = series.sequence_variant.split("\\")
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = series.sequence_name
    seq = series.sequence
    ds.RepetitionTime = _ds([round(seq.tr, 1)])[0]
    ds.EchoTime = _ds([round(seq.te, 1)])[0]
    if seq.ti is not None:
        ds.InversionTime = _ds([round(seq.ti, 1)])[0]
    ds.NumberOfAverages = "1"
    ds.ImagingFrequency = f"{42.577478 * ids.field_t:.6f}"
    ds.ImagedNucleus = "1H"
    ds.EchoNumbers = "1"
    ds.MagneticFieldStrength = _ds([ids.field_t])[0]
    ds.EchoTrainLength = (
        "15" if series.contrast == "T2" else ("3" if series.contrast == "T1" else "13")
    )
    ds.FlipAngle = "150"
    low, high = (float(v) for v in np.percentile(pixels, [1.0, 99.5]))
    ds.WindowCenter = _ds([round((low + high) / 2, 1)])[0]
    ds.WindowWidth = _ds([round(max(high - low, 1.0), 1)])[0]
    save(ds, path)
