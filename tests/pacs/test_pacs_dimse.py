"""spineviewer.pacs over DIMSE against a real Orthanc: C-ECHO, C-FIND, C-GET and C-MOVE
(pixel-identical to the originals), C-STORE of the analysis SR back into the study, and the
messages of the errors users hit (unknown AE titles, wrong port)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from orthanc_server import AE_TITLE, free_port

from spineviewer.pacs import (
    DimseNode,
    LocalAE,
    PacsError,
    Query,
    echo,
    find_series,
    find_studies,
    retrieve,
    store,
)


@pytest.fixture
def node(orthanc) -> DimseNode:
    return DimseNode("test-pacs", AE_TITLE, "127.0.0.1", orthanc.dicom_port, timeout_s=10)


@pytest.fixture
def local(orthanc) -> LocalAE:
    return LocalAE(orthanc.our_ae, orthanc.our_port)


def _by_sop(files: list[Path]) -> dict[str, pydicom.Dataset]:
    out = {}
    for path in files:
        ds = pydicom.dcmread(path)
        out[str(ds.SOPInstanceUID)] = ds
    return out


def _assert_identical(retrieved: Path, originals: list[Path]) -> None:
    got = _by_sop(sorted(retrieved.rglob("*.dcm")))
    want = _by_sop(originals)
    assert set(want) <= set(got)  # (other tests may have sent reports into the study)
    for uid, ds in want.items():
        assert np.array_equal(got[uid].pixel_array, ds.pixel_array), uid
        assert got[uid].ImagePositionPatient == ds.ImagePositionPatient


def test_echo_and_find_by_name_id_date_and_modality(node, local, pacs_study) -> None:
    study_uid, files = pacs_study
    header = pydicom.dcmread(files[0], stop_before_pixels=True)
    echo(node, local)
    name = str(header.PatientName)
    for query in (
        Query(patient_name=name[:4] + "*"),
        Query(patient_id=str(header.PatientID)),
        Query(date_from=str(header.StudyDate), date_to=str(header.StudyDate)),
        Query(modality="MR", patient_name=name),
    ):
        matches = find_studies(node, query, local)
        assert [m.study_uid for m in matches] == [study_uid], query
    (match,) = find_studies(node, Query(study_uid=study_uid), local)
    assert (match.image_count or 0) >= len(files) and match.patient_name == name
    assert find_studies(node, Query(patient_name="NOBODY*"), local) == []
    series = [s for s in find_series(node, study_uid, local) if s.modality == "MR"]
    assert sum(s.image_count or 0 for s in series) == len(files) and len(series) >= 2


def test_c_get_and_c_move_are_pixel_identical(node, local, pacs_study, tmp_path: Path) -> None:
    study_uid, files = pacs_study
    seen: list[tuple[int, int]] = []
    got = retrieve(node, study_uid, tmp_path / "get", "get", local,
                   progress=lambda done, total, text: seen.append((done, total)))  # fmt: skip
    assert got.complete and got.received == got.expected >= len(files)
    assert seen and seen[-1][1] == got.expected
    _assert_identical(tmp_path / "get" / study_uid, files)
    moved = retrieve(node, study_uid, tmp_path / "move", "move", local)
    assert moved.complete and moved.received == got.received
    _assert_identical(tmp_path / "move" / study_uid, files)
    assert not list(tmp_path.rglob(".*.partial"))


def test_cancelled_retrieve_stops(node, local, pacs_study, tmp_path: Path) -> None:
    from spineviewer.pacs import PacsCancelled

    study_uid, _ = pacs_study
    with pytest.raises(PacsCancelled, match="cancelled"):
        retrieve(node, study_uid, tmp_path, "get", local, cancelled=lambda: True)


def test_sr_of_the_analysis_goes_back_into_the_study(node, local, orthanc, pacs_study, tmp_path):
    from spineviewer.cli import main

    study_uid, files = pacs_study
    folder = tmp_path / "in"
    retrieve(node, study_uid, folder, "get", local)
    assert main(["report", str(folder), "--out", str(tmp_path / "out"), "--format", "sr,epdf",
                 "--provider", "cpu"]) == 0  # fmt: skip
    outputs = sorted((tmp_path / "out" / study_uid).glob("report_*.dcm"))
    assert [p.name for p in outputs] == ["report_pdf.dcm", "report_sr.dcm"]
    sent = store(node, outputs, local)
    assert sent.sent == 2 and not sent.failed
    modalities = {s.modality: s for s in find_series(node, study_uid, local)}
    assert {"SR", "DOC", "MR"} <= set(modalities)
    back = retrieve(node, study_uid, tmp_path / "back", "get", local)
    srs = [pydicom.dcmread(p) for p in (tmp_path / "back").rglob("*.dcm")]
    (sr,) = [ds for ds in srs if ds.Modality == "SR"]
    assert sr.StudyInstanceUID == study_uid
    originals = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in files}
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
    referenced = {r.ReferencedSOPInstanceUID for s in evidence for r in s.ReferencedSOPSequence}
    assert referenced and referenced <= originals
    assert back.complete and back.received >= len(files) + 2
    for instance in orthanc.get(f"/studies/{_orthanc_id(orthanc, study_uid)}/instances"):
        if instance["MainDicomTags"]["SOPInstanceUID"] in {sr.SOPInstanceUID}:
            break
    else:
        pytest.fail("the SR is not in Orthanc's study")
    orthanc_delete(orthanc, [sr.SOPInstanceUID] + [
        str(ds.SOPInstanceUID) for ds in srs if ds.Modality == "DOC"
    ])  # fmt: skip


def _orthanc_id(orthanc, study_uid: str) -> str:
    (found,) = orthanc.post_json("/tools/lookup", study_uid)
    return str(found["ID"])


def orthanc_delete(orthanc, sop_uids: list[str]) -> None:
    """Leave the shared study as it was uploaded (other tests count its images)."""
    for uid in sop_uids:
        for found in orthanc.post_json("/tools/lookup", uid):
            orthanc.delete(found["Path"])


def test_errors_users_hit_have_specific_messages(orthanc, local, pacs_study) -> None:
    wrong_called = DimseNode("pacs", "NOT_ORTHANC", "127.0.0.1", orthanc.dicom_port)
    with pytest.raises(PacsError, match="does not recognise the called AE title 'NOT_ORTHANC'"):
        echo(wrong_called, local)
    stranger = LocalAE("STRANGER", 11999)
    right = DimseNode("pacs", AE_TITLE, "127.0.0.1", orthanc.dicom_port)
    with pytest.raises(PacsError, match="does not accept our AE title 'STRANGER'"):
        find_studies(right, Query(), stranger)
    wrong_port = DimseNode("pacs", AE_TITLE, "127.0.0.1", free_port(), timeout_s=3)
    with pytest.raises(PacsError, match=r"connection refused at .*\(check the port"):
        echo(wrong_port, local)
    with pytest.raises(PacsError, match="AE title has 1 to 16 characters"):
        DimseNode("pacs", "A" * 17, "127.0.0.1", 104)
