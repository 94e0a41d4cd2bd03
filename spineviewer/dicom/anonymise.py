"""De-identification by the DICOM PS3.15 Basic Application Level Confidentiality Profile
(Annex E), with the Retain Longitudinal Temporal Information with Modified Dates Option.

:class:`Anonymiser` holds one secret key; everything derived from it is consistent, so the
same original UID always becomes the same new UID and every date moves by the same number
of days, across studies and across runs that share the key (a resumed batch):

- UIDs that identify instances, series, studies, frames of reference (the profile's ``U``
  action) become ``2.25.<128-bit HMAC of the original>``: unique, not reversible without the
  key, and the references between datasets stay intact;
- patient name and ID become a dummy (``D``), birth date, sex, accession number, study ID and
  the referring physician are emptied (``Z``: they are type 2), and the other identifying
  attributes of the profile's table are removed (``X``), as are private attributes;
- dates (DA, and the date part of DT) are shifted by a key-derived number of days; times are
  kept (the option keeps intervals meaningful);
- ``PatientIdentityRemoved`` is YES and the de-identification method is recorded as codes
  113100 and 113107 of DCM.

Nothing here writes files except :func:`folder_key`, which keeps the key beside the outputs so a
resumed run maps identically (delete it to break the link to the originals for good).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import date, timedelta
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

__all__ = ["KEY_FILE", "Anonymiser", "folder_key"]

#: The key file :func:`folder_key` keeps in an output folder (hex; readable by its owner only).
KEY_FILE = ".anonymisation-key"

DUMMY_NAME = "ANONYMISED"

#: Attributes whose UIDs are replaced (action U of PS3.15 Table E.1-1, those we can meet).
UID_KEYWORDS = frozenset(
    {
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "MediaStorageSOPInstanceUID",
        "ReferencedSOPInstanceUID",
        "ReferencedSOPInstanceUIDInFile",
        "FrameOfReferenceUID",
        "ReferencedFrameOfReferenceUID",
        "RelatedFrameOfReferenceUID",
        "SynchronizationFrameOfReferenceUID",
        "DimensionOrganizationUID",
        "ConcatenationUID",
        "IrradiationEventUID",
        "TrackingUID",
        "ObservationUID",
        "UID",
        "TargetUID",
        "StorageMediaFileSetUID",
        "ReferencedGeneralPurposeScheduledProcedureStepTransactionUID",
        "TransactionUID",
        "FailedSOPInstanceUIDList",
        "DeviceUID",
        "DeviceObserverUID",
        "CreatorVersionUID",
        "InstanceCreatorUID",
        "FiducialUID",
        "SourceFrameOfReferenceUID",
        "TemplateExtensionCreatorUID",
        "TemplateExtensionOrganizationUID",
        "DigitalSignatureUID",
        "PresentationDisplayCollectionUID",
        "PresentationSequenceCollectionUID",
        "ReferencedObservationUIDTrial",
        "StudyInstanceUIDTrial",
        "SeriesInstanceUIDTrial",
    }
)

#: Replaced by a dummy value (action D).
DUMMY_KEYWORDS = frozenset({"PatientName", "PatientID", "PersonName", "VerifyingObserverName"})

#: Emptied (action Z; type 2 attributes that must stay present).
EMPTY_KEYWORDS = frozenset(
    {
        "PatientBirthDate",
        "PatientSex",
        "AccessionNumber",
        "StudyID",
        "ReferringPhysicianName",
        "ContentCreatorName",
        "FillerOrderNumberImagingServiceRequest",
        "PlacerOrderNumberImagingServiceRequest",
    }
)

#: Removed (action X), the identifying attributes of the profile a spine study may carry.
REMOVE_KEYWORDS = frozenset(
    {
        "IssuerOfPatientID",
        "IssuerOfPatientIDQualifiersSequence",
        "OtherPatientIDs",
        "OtherPatientIDsSequence",
        "OtherPatientNames",
        "PatientBirthName",
        "PatientBirthTime",
        "PatientMotherBirthName",
        "PatientAddress",
        "PatientTelephoneNumbers",
        "PatientTelecomInformation",
        "PatientAge",
        "PatientSize",
        "PatientWeight",
        "PatientInsurancePlanCodeSequence",
        "PatientReligiousPreference",
        "PatientComments",
        "PatientState",
        "PregnancyStatus",
        "EthnicGroup",
        "Occupation",
        "MilitaryRank",
        "BranchOfService",
        "CountryOfResidence",
        "RegionOfResidence",
        "MedicalRecordLocator",
        "MedicalAlerts",
        "Allergies",
        "SmokingStatus",
        "AdditionalPatientHistory",
        "LastMenstrualDate",
        "ResponsiblePerson",
        "ResponsibleOrganization",
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionCodeSequence",
        "InstitutionalDepartmentName",
        "InstitutionalDepartmentTypeCodeSequence",
        "ReferringPhysicianAddress",
        "ReferringPhysicianTelephoneNumbers",
        "ReferringPhysicianIdentificationSequence",
        "PhysiciansOfRecord",
        "PhysiciansOfRecordIdentificationSequence",
        "PerformingPhysicianName",
        "PerformingPhysicianIdentificationSequence",
        "NameOfPhysiciansReadingStudy",
        "PhysiciansReadingStudyIdentificationSequence",
        "OperatorsName",
        "OperatorIdentificationSequence",
        "RequestingPhysician",
        "RequestingService",
        "RequestedProcedureID",
        "ScheduledProcedureStepID",
        "PerformedProcedureStepID",
        "PerformedProcedureStepDescription",
        "RequestAttributesSequence",
        "StudyDescription",
        "SeriesDescription",
        "ProtocolName",
        "AdmittingDiagnosesDescription",
        "AdmissionID",
        "StationName",
        "DeviceSerialNumber",
        "PlateID",
        "DetectorID",
        "GantryID",
        "CassetteID",
        "ImageComments",
        "AcquisitionComments",
        "StudyComments",
        "InterpretationAuthor",
        "ReviewerName",
        "TextComments",
        "DerivationDescription",
        "ContributingEquipmentSequence",
        "OriginalAttributesSequence",
        "ModifiedAttributesSequence",
    }
)

#: DCM codes of the method used (PS3.16 CID 7050).
METHOD_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
)
METHOD_TEXT = "DICOM PS3.15 E.1 Basic Profile; dates shifted (SpineViewer)"


class Anonymiser:
    """De-identifies datasets and values with one secret ``key`` (see the module notes)."""

    def __init__(self, key: bytes, patient_label: str = DUMMY_NAME) -> None:
        if len(key) < 16:
            raise ValueError("an anonymisation key needs at least 16 bytes")
        self._key = key
        self.patient_label = patient_label
        digest = self._digest(b"date-shift")
        #: Days every date moves back: between 1 and 3650, the same for every study.
        self.shift_days = 1 + int.from_bytes(digest[:4], "big") % 3650

    def _digest(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def for_patient(self, patient_id: str) -> Anonymiser:
        """The same key, with the dummy patient ID of ``patient_id`` (``ANON-`` + 10 hex
        digits of its keyed hash): one patient's studies stay linked, nobody else's are."""
        digest = self._digest(b"patient:" + patient_id.strip().encode()).hex()
        return Anonymiser(self._key, f"ANON-{digest[:10].upper()}")

    def uid(self, original: str) -> str:
        """The replacement of ``original`` (``2.25.`` + 128 bits of its keyed hash)."""
        value = int.from_bytes(self._digest(b"uid:" + original.strip().encode())[:16], "big")
        return f"2.25.{value}"

    def date(self, value: str) -> str:
        """A DICOM DA (``YYYYMMDD``) moved back by :attr:`shift_days`; '' when unparseable."""
        text = value.strip()
        try:
            moved = date(int(text[:4]), int(text[4:6]), int(text[6:8])) - timedelta(
                days=self.shift_days
            )
        except ValueError:
            return ""
        return moved.strftime("%Y%m%d")

    def datetime(self, value: str) -> str:
        """A DICOM DT with its date part moved (time and offset kept)."""
        text = value.strip()
        if len(text) < 8:
            return ""
        moved = self.date(text[:8])
        return moved + text[8:] if moved else ""

    def dataset(self, ds: Dataset) -> Dataset:
        """``ds`` de-identified in place (file meta included) and returned."""
        self._clean(ds)
        meta = getattr(ds, "file_meta", None)
        if meta is not None and "MediaStorageSOPInstanceUID" in meta:
            meta.MediaStorageSOPInstanceUID = self.uid(str(meta.MediaStorageSOPInstanceUID))
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = METHOD_TEXT
        codes = []
        for value, meaning in METHOD_CODES:
            item = Dataset()
            item.CodeValue = value
            item.CodingSchemeDesignator = "DCM"
            item.CodeMeaning = meaning
            codes.append(item)
        ds.DeidentificationMethodCodeSequence = Sequence(codes)
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
        return ds

    def _clean(self, ds: Dataset) -> None:
        for elem in list(ds):
            keyword = elem.keyword
            if elem.tag.is_private or keyword in REMOVE_KEYWORDS:
                del ds[elem.tag]
            elif keyword in EMPTY_KEYWORDS:
                elem.value = Sequence() if elem.VR == "SQ" else ""
            elif keyword in DUMMY_KEYWORDS or (elem.VR == "PN" and elem.value):
                elem.value = self.patient_label if keyword == "PatientID" else DUMMY_NAME
            elif elem.VR == "SQ":
                for item in elem.value:
                    self._clean(item)
            elif elem.VR == "UI" and keyword in UID_KEYWORDS and elem.value:
                values = elem.value if elem.VM > 1 else [elem.value]
                mapped = [self.uid(str(v)) for v in values]
                elem.value = mapped if elem.VM > 1 else mapped[0]
            elif elem.VR == "DA" and elem.value:
                values = elem.value if elem.VM > 1 else [elem.value]
                moved = [self.date(str(v)) for v in values]
                elem.value = moved if elem.VM > 1 else moved[0]
            elif elem.VR == "DT" and elem.value:
                elem.value = self.datetime(str(elem.value))


def folder_key(folder: str | Path) -> bytes:
    """The anonymisation key kept in ``folder`` (created with a new random key, readable by its
    owner only, when there is none), so every run writing there maps the same way."""
    path = Path(folder) / KEY_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except ValueError as exc:
        raise ValueError(f"{path}: not an anonymisation key ({exc})") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    partial = path.with_name(f"{KEY_FILE}.{secrets.token_hex(4)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
    try:
        os.link(partial, path)  # atomic, and never over a key another worker wrote first
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())
