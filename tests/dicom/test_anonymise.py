"""De-identification by the PS3.15 Basic Profile (spineviewer.dicom.anonymise) on a real CT
header from pydicom's test data."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pydicom
import pytest
from dicom_helpers import sample_path
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from spineviewer.dicom.anonymise import KEY_FILE, Anonymiser, folder_key

KEY = bytes(range(32))


def _ct() -> Dataset:
    ds = pydicom.dcmread(sample_path("CT_small.dcm"))
    ds.PatientBirthDate = "19700101"
    ds.InstitutionName = "General Hospital"
    ds.OperatorsName = "Smith^Jane"
    ds.AcquisitionDateTime = "20040119072731.123+0100"
    ds.add_new(0x00091001, "LO", "private secret")
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    ds.ReferencedImageSequence = Sequence([ref])
    return ds


def test_uids_map_consistently_to_new_2_25_uids() -> None:
    a, b = Anonymiser(KEY), Anonymiser(KEY)
    uid = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    assert a.uid(uid) == b.uid(uid) != Anonymiser(bytes(32)).uid(uid)
    assert a.uid(uid).startswith("2.25.") and UID(a.uid(uid)).is_valid
    assert len(a.uid(uid)) <= 64 and a.uid(uid) != a.uid(uid + "1")


def test_dates_move_back_by_the_same_days_and_times_stay() -> None:
    anon = Anonymiser(KEY)
    assert 1 <= anon.shift_days <= 3650
    first, later = anon.date("20040119"), anon.date("20040129")
    assert first < "20040119" and int(later) - int(first) in (10, 10 + 70, 10 + 8870)
    assert anon.datetime("20040119072731.123+0100").endswith("072731.123+0100")
    assert anon.date("not a date") == ""


def test_dataset_follows_the_basic_profile() -> None:
    original = _ct()
    ds = Anonymiser(KEY).for_patient(str(original.PatientID)).dataset(_ct())
    anon = Anonymiser(KEY)
    assert ds.PatientName == "ANONYMISED" and str(ds.PatientID).startswith("ANON-")
    assert ds.PatientID != original.PatientID
    assert ds.PatientBirthDate == "" and "PatientBirthDate" in ds  # type 2: emptied
    assert "InstitutionName" not in ds and "OperatorsName" not in ds
    assert not [e for e in ds if e.tag.is_private]
    assert ds.StudyInstanceUID == anon.uid(original.StudyInstanceUID)
    assert ds.SOPInstanceUID == anon.uid(original.SOPInstanceUID)
    assert ds.FrameOfReferenceUID == anon.uid(original.FrameOfReferenceUID)
    assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == ds.SOPInstanceUID
    assert ds.ReferencedImageSequence[0].ReferencedSOPClassUID == original.SOPClassUID  # kept
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.StudyDate == anon.date(original.StudyDate) != original.StudyDate
    assert ds.PatientIdentityRemoved == "YES"
    assert [c.CodeValue for c in ds.DeidentificationMethodCodeSequence] == ["113100", "113107"]
    text = ds.to_json()
    for secret in (str(original.PatientName), original.SOPInstanceUID, "private secret"):
        assert secret not in text


def test_one_patient_keeps_one_dummy_id() -> None:
    anon = Anonymiser(KEY)
    assert anon.for_patient("123").patient_label == anon.for_patient("123 ").patient_label
    assert anon.for_patient("123").patient_label != anon.for_patient("124").patient_label


def test_folder_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    key = folder_key(tmp_path / "out")
    assert folder_key(tmp_path / "out") == key and len(key) == 32
    mode = stat.S_IMODE(os.stat(tmp_path / "out" / KEY_FILE).st_mode)
    assert mode & 0o077 == 0
    assert not list((tmp_path / "out").glob("*.partial"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / KEY_FILE).write_text("not hex")
    with pytest.raises(ValueError, match=r"bad.*anonymisation-key.*not an anonymisation key"):
        folder_key(tmp_path / "bad")
    with pytest.raises(ValueError, match="16 bytes"):
        Anonymiser(b"short")
