"""spineviewer.pacs over DICOMweb against a real Orthanc (its DICOMweb plugin, HTTP basic
auth): QIDO-RS, WADO-RS pixel-identical to the originals, STOW-RS of the SR, the message for a
wrong password, and the node configuration file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pydicom
import pytest
from orthanc_server import PASSWORD, USER

from spineviewer.pacs import (
    DicomWebNode,
    DimseNode,
    LocalAE,
    PacsConfig,
    PacsError,
    Query,
    RetrieveResult,
    echo,
    find_series,
    find_studies,
    load_config,
    retrieve,
    save_config,
    store,
)


@pytest.fixture
def web(orthanc) -> DicomWebNode:
    return DicomWebNode("web", orthanc.dicomweb_url, "basic", USER, PASSWORD, timeout_s=20)


def test_qido_wado_and_stow(web, orthanc, pacs_study, tmp_path: Path) -> None:
    study_uid, files = pacs_study
    header = pydicom.dcmread(files[0], stop_before_pixels=True)
    echo(web)
    (match,) = find_studies(web, Query(patient_name=str(header.PatientName)[:5] + "*"))
    assert match.study_uid == study_uid and (match.image_count or 0) >= len(files)
    assert [m.study_uid for m in find_studies(web, Query(patient_id=str(header.PatientID)))] == [
        study_uid
    ]
    series = [s for s in find_series(web, study_uid) if s.modality == "MR"]
    assert sum(s.image_count or 0 for s in series) == len(files)

    got = retrieve(web, study_uid, tmp_path / "wado")
    assert got.complete and got.received >= len(files)
    retrieved = {}
    for path in (tmp_path / "wado" / study_uid).rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        retrieved[str(ds.SOPInstanceUID)] = ds
    for path in files:
        original = pydicom.dcmread(path)
        copy = retrieved[str(original.SOPInstanceUID)]
        assert np.array_equal(copy.pixel_array, original.pixel_array)

    from spineviewer.cli import main

    assert main(["report", str(tmp_path / "wado"), "--out", str(tmp_path / "out"),
                 "--format", "sr", "--provider", "cpu"]) == 0  # fmt: skip
    sr_path = tmp_path / "out" / study_uid / "report_sr.dcm"
    result = store(web, [sr_path])
    assert result.sent == 1 and not result.failed
    sr_uid = str(pydicom.dcmread(sr_path).SOPInstanceUID)
    assert any(s.modality == "SR" for s in find_series(web, study_uid))
    for found in orthanc.post_json("/tools/lookup", sr_uid):  # leave the study as uploaded
        orthanc.delete(found["Path"])


def test_wrong_password_and_unreachable_server(web, orthanc) -> None:
    wrong = DicomWebNode("web", web.url, "basic", USER, "not-the-password")
    with pytest.raises(
        PacsError, match=r"authentication failed .*HTTP 401.*user name and password"
    ):
        echo(wrong)
    anonymous = DicomWebNode("web", web.url)
    with pytest.raises(PacsError, match="the server wants credentials"):
        find_studies(anonymous, Query())
    from orthanc_server import free_port

    nobody = DicomWebNode("web", f"http://127.0.0.1:{free_port()}/dicom-web", timeout_s=3)
    with pytest.raises(PacsError, match="cannot connect"):
        echo(nobody)


def test_partial_retrieve_is_never_called_complete() -> None:
    whole = RetrieveResult("1.2.3", "/tmp/x", received=10, expected=10)
    short = RetrieveResult("1.2.3", "/tmp/x", received=7, expected=10)
    failed = RetrieveResult("1.2.3", "/tmp/x", received=10, expected=10, failed=1)
    assert whole.complete and not whole.summary().startswith("PARTIAL")
    assert not short.complete and short.summary().startswith("PARTIAL retrieve: 7 of 10")
    assert not failed.complete and "1 failed" in failed.summary()


def test_config_round_trip_is_private(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SPINEVIEWER_PACS_CONFIG", str(tmp_path / "pacs.json"))
    assert load_config() == PacsConfig()
    config = (
        PacsConfig(LocalAE("READER1", 11112))
        .with_node(DimseNode("main", "PACS", "pacs.example.org", 104))
        .with_node(DicomWebNode("web", "https://pacs.example.org/dicom-web/", "bearer", token="t"))
    )
    save_config(config)
    assert stat.S_IMODE(os.stat(tmp_path / "pacs.json").st_mode) & 0o077 == 0
    loaded = load_config()
    assert loaded == config and loaded.node("web").url == "https://pacs.example.org/dicom-web"
    with pytest.raises(PacsError, match=r"no PACS node named 'other' \(known: main, web"):
        loaded.node("other")
    (tmp_path / "pacs.json").write_text("{not json")
    with pytest.raises(PacsError, match=r"pacs\.json: cannot read the PACS configuration"):
        load_config()
    with pytest.raises(PacsError, match="auth must be one of none, basic, bearer"):
        DicomWebNode("w", "https://x", "kerberos")


def test_a_study_changing_during_retrieval_is_reported_partial(web, orthanc, pacs_study, tmp_path):
    """An instance deleted on the PACS while WADO-RS runs: fewer arrive than QIDO-RS counted,
    and the result says PARTIAL (the file is uploaded again afterwards)."""
    study_uid, files = pacs_study
    victim = files[-1]
    victim_uid = str(pydicom.dcmread(victim, stop_before_pixels=True).SOPInstanceUID)
    deleted: list[str] = []

    def delete_one(done: int, total: int, text: str) -> None:
        if not deleted:
            for found in orthanc.post_json("/tools/lookup", victim_uid):
                orthanc.delete(found["Path"])
                deleted.append(victim_uid)

    try:
        result = retrieve(web, study_uid, tmp_path, progress=delete_one)
    finally:
        orthanc.upload([victim])
    assert deleted
    if result.received < (result.expected or 0):  # the deleted one had not been sent yet
        assert not result.complete and result.summary().startswith("PARTIAL")
    else:  # it had already arrived: complete, and honestly so
        assert result.complete and (tmp_path / study_uid).rglob(f"{victim_uid}.dcm")
