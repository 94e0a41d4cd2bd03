"""The PDF report as a DICOM Encapsulated PDF (``report_pdf.dcm``), in the study it reports on,
so a PACS shows it beside the images (PS3.3 A.45.1)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import EncapsulatedPDFStorage, ExplicitVRLittleEndian, generate_uid

from spineviewer import __version__
from spineviewer.dicom import Study
from spineviewer.dicom.anonymise import Anonymiser

__all__ = ["SERIES_NUMBER", "encapsulated_pdf", "write_encapsulated_pdf"]

#: Series number of the report series (high, so it sorts after the acquisitions).
SERIES_NUMBER = 9901
#: The patient and study attributes copied from the study's own images.
STUDY_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
    "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
    "StudyDescription",
)  # fmt: skip
TYPE2 = {"PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
         "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber"}  # fmt: skip


def _study_header(study: Study) -> Dataset:
    frame = study.series[0].stacks[0].frames[0]
    with frame.instance.ref.open() as fh:
        return pydicom.dcmread(fh, stop_before_pixels=True)


def encapsulated_pdf(study: Study, pdf: bytes, title: str = "Spine report") -> Dataset:
    """An Encapsulated PDF instance of ``pdf`` in ``study`` (a new series)."""
    source = _study_header(study)
    now = datetime.now()
    ds = Dataset()
    for keyword in STUDY_KEYWORDS:
        if keyword in source:
            setattr(ds, keyword, source[keyword].value)
        elif keyword in TYPE2:
            setattr(ds, keyword, "")
    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "DOC"
    ds.SeriesNumber = SERIES_NUMBER
    ds.SeriesDescription = "SpineViewer report (PDF)"
    ds.Manufacturer = "SpineViewer"
    ds.SoftwareVersions = __version__
    ds.ConversionType = "WSD"
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = title[:64]
    concept = Dataset()
    concept.CodeValue = "18748-4"
    concept.CodingSchemeDesignator = "LN"
    concept.CodeMeaning = "Diagnostic imaging report"
    ds.ConceptNameCodeSequence = Sequence([concept])
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.SpecificCharacterSet = source.get("SpecificCharacterSet", "ISO_IR 192") or "ISO_IR 192"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


def write_encapsulated_pdf(
    study: Study,
    pdf_path: str | Path,
    out_dir: str | Path,
    anonymiser: Anonymiser | None = None,
    title: str = "Spine report",
) -> Path:
    """``out_dir/report_pdf.dcm`` from the PDF at ``pdf_path`` (atomically), de-identified by
    ``anonymiser`` (the PDF itself must then be the anonymised report)."""
    ds = encapsulated_pdf(study, Path(pdf_path).read_bytes(), title)
    if anonymiser is not None:
        anonymiser.dataset(ds)
    target = Path(out_dir) / "report_pdf.dcm"
    partial = target.with_name(f".{target.name}.partial")
    ds.save_as(partial, enforce_file_format=True)
    partial.replace(target)
    return target
