"""The header every synthetic CT file of the benches starts from (one place for both the load
bench and the peer bench)."""

from __future__ import annotations

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def ct_dataset(study: str, series: str, frame: str, patient: tuple[str, str]) -> Dataset:
    """A CT image's file meta, SOP, study / series / frame UIDs, modality and patient
    (name, ID); the caller adds geometry and pixels."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
    ds.Modality, (ds.PatientName, ds.PatientID) = "CT", patient
    return ds
