"""``spineviewer pacs`` and ``spineviewer batch --store`` against a real Orthanc."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from orthanc_server import AE_TITLE, PASSWORD, USER, free_port

from spineviewer.cli import main


@pytest.fixture
def configured(orthanc, tmp_path: Path, monkeypatch, capsys) -> str:
    """A config file with the Orthanc as DIMSE node 'main' and DICOMweb node 'web'."""
    monkeypatch.setenv("SPINEVIEWER_PACS_CONFIG", str(tmp_path / "pacs.json"))
    monkeypatch.setenv("SPINEVIEWER_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.setenv("SPINEVIEWER_PACS_PASSWORD", PASSWORD)
    assert main(["pacs", "nodes", "--set-local", "--calling-aet", orthanc.our_ae,
                 "--local-port", str(orthanc.our_port)]) == 0  # fmt: skip
    assert main(["pacs", "nodes", "--add", "main", "--aet", AE_TITLE, "--host", "127.0.0.1",
                 "--port", str(orthanc.dicom_port)]) == 0  # fmt: skip
    assert main(["pacs", "nodes", "--add", "web", "--url", orthanc.dicomweb_url,
                 "--user", USER]) == 0  # fmt: skip
    capsys.readouterr()
    return "main"


def test_nodes_echo_query_retrieve_store(configured, pacs_study, tmp_path: Path, capsys) -> None:
    study_uid, files = pacs_study
    assert main(["pacs", "nodes", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [n["name"] for n in listed["nodes"]] == ["main", "web"]
    assert "password" not in listed["nodes"][1] and PASSWORD not in json.dumps(listed)
    # in the system keyring, or in the private file only where there is no keyring backend
    kept = listed["nodes"][1]["password_in"]
    assert kept in ("keyring", "file (no keyring backend)")
    assert (PASSWORD in (tmp_path / "pacs.json").read_text()) is (kept != "keyring")

    for node in ("main", "web"):
        assert main(["pacs", "echo", "--node", node]) == 0
        assert "answers" in capsys.readouterr().out
        name = str(pydicom.dcmread(files[0], stop_before_pixels=True).PatientName)
        assert main(["pacs", "query", "--node", node, "--patient-name", name[:6] + "*",
                     "--series", "--json"]) == 0  # fmt: skip
        (study,) = json.loads(capsys.readouterr().out)
        assert study["study_uid"] == study_uid and study["image_count"] >= len(files)
        assert sum(s["image_count"] for s in study["series"] if s["modality"] == "MR") == len(files)

    assert main(["pacs", "retrieve", study_uid, "--node", "main"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder == tmp_path / "workspace" / "pacs" / study_uid
    assert len([p for p in folder.rglob("*.dcm")]) >= len(files)
    assert main(["pacs", "retrieve", study_uid, "--node", "web", "--out",
                 str(tmp_path / "wado")]) == 0  # fmt: skip
    capsys.readouterr()

    out = tmp_path / "batch"
    assert main(["batch", str(folder), "--out", str(out), "--format", "json,sr",
                 "--provider", "cpu", "--store", "main"]) == 0  # fmt: skip
    capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    assert summary[0]["status"] == "done" and "stored 1 to main" in summary[0]["findings"]
    sr = pydicom.dcmread(out / study_uid / "report_sr.dcm")
    assert main(["pacs", "query", "--node", "main", "--study-uid", study_uid, "--series",
                 "--json"]) == 0  # fmt: skip
    (study,) = json.loads(capsys.readouterr().out)
    assert "SR" in {s["modality"] for s in study["series"]}
    # and by hand: the same SR sent again over STOW-RS is accepted (same instance)
    assert main(["pacs", "store", str(out / study_uid / "report_sr.dcm"), "--node", "web"]) == 0
    assert "1 instances sent" in capsys.readouterr().out
    return_to_uploaded(configured, sr)


def return_to_uploaded(_: str, sr: pydicom.Dataset) -> None:
    """Remove the SR again so other tests see the study as uploaded."""
    from spineviewer.pacs import load_config

    node = load_config().node("web")
    import requests

    found = requests.post(
        node.url.replace("/dicom-web", "/tools/lookup"),
        data=str(sr.SOPInstanceUID),
        auth=(USER, PASSWORD),
        timeout=30,
    ).json()
    for item in found:
        requests.delete(
            node.url.replace("/dicom-web", item["Path"]), auth=(USER, PASSWORD), timeout=30
        )


def test_cli_errors_are_one_clear_line(configured, orthanc, tmp_path: Path, capsys) -> None:
    assert main(["pacs", "echo", "--node", "nowhere"]) == 1
    assert "no PACS node named 'nowhere' (known: main, web)" in capsys.readouterr().err
    assert main(["pacs", "echo", "--aet", AE_TITLE, "--host", "127.0.0.1",
                 "--port", str(free_port())]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "connection refused" in err and "check the port" in err
    assert main(["pacs", "echo", "--url", orthanc.dicomweb_url, "--user", USER,
                 "--password", "wrong"]) == 1  # fmt: skip
    assert "authentication failed" in capsys.readouterr().err
    assert main(["pacs", "query"]) == 1
    assert "name a node" in capsys.readouterr().err
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--store", "main"]) == 2
    assert "add sr or epdf to --format" in capsys.readouterr().err
