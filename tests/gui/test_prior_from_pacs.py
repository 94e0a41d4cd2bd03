"""File > Open prior from PACS against a real Orthanc (issue 22, item 1: "PACS query by
patient"): the current study is opened from disc, both it and its prior (a real pair of
:func:`spineviewer.phantom.prior.generate_prior`) are on the PACS; the dialog lists the
patient's other studies with their dates (not the current itself), and the one retrieved by
C-GET opens as the prior, beside the current, with "Prior" and its date in the corners;
the current's results sent back to the PACS with the prior's report carry both dates' lengths
in the SR."""

from __future__ import annotations

import io
import urllib.request
from base64 import b64encode
from pathlib import Path

import pydicom
import pytest
from gui_helpers import open_window
from orthanc_server import AE_TITLE, PASSWORD, USER
from PySide6.QtCore import Qt

from spineviewer.ai.findings import Findings
from spineviewer.annotations import Kind
from spineviewer.annotations.annotation import Annotation
from spineviewer.gui.annotate.controller import image_ref
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.pacs_dialog import STUDY_COLUMNS, QueryDialog
from spineviewer.gui.pacs_send import SendDialog
from spineviewer.pacs import DimseNode, LocalAE, PacsConfig, retrieve_root, save_config
from spineviewer.phantom.prior import generate_prior
from spineviewer.reports.sr_text import report_text
from spineviewer.viewing.corners import ROLE_KEY

TIMEOUT_MS = 60000
SEED = 11


@pytest.fixture(autouse=True)
def pacs_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "pacs.json"
    monkeypatch.setenv("SPINEVIEWER_PACS_CONFIG", str(path))
    return path


def _uid(folder: Path) -> str:
    first = next(folder.rglob("*.dcm"))
    return str(pydicom.dcmread(first, stop_before_pixels=True).StudyInstanceUID)


def _delete_study(orthanc, study_uid: str) -> None:
    for study in orthanc.get("/studies"):
        if orthanc.get(f"/studies/{study}")["MainDicomTags"]["StudyInstanceUID"] == study_uid:
            orthanc.delete(f"/studies/{study}")


def test_open_prior_from_pacs_lists_the_patients_studies_and_opens_one_as_prior(
    qtbot, orthanc, tmp_path: Path
) -> None:
    current_dir, prior_dir = generate_prior(tmp_path / "pair", SEED)
    current_uid, prior_uid = _uid(current_dir), _uid(prior_dir)
    header = pydicom.dcmread(next(prior_dir.rglob("*.dcm")), stop_before_pixels=True)
    day = str(header.StudyDate)
    orthanc.upload(sorted(current_dir.rglob("*.dcm")) + sorted(prior_dir.rglob("*.dcm")))
    try:
        node = DimseNode("orthanc", AE_TITLE, "127.0.0.1", orthanc.dicom_port, timeout_s=10)
        save_config(PacsConfig(LocalAE(orthanc.our_ae, orthanc.our_port), (node,)))
        win = open_window(qtbot, current_dir)
        dialog = win.prior.open_prior_from_pacs()
        assert isinstance(dialog, QueryDialog) and dialog.isVisible()
        assert dialog.windowTitle() == "Open prior from PACS"
        assert dialog.patient_id.text() == str(header.PatientID)
        assert dialog.retrieve_button.text() == "Retrieve and open as prior"
        qtbot.waitUntil(lambda: dialog.search_job is not None and dialog.search_job.done,
                        timeout=TIMEOUT_MS)  # fmt: skip
        rows = {
            dialog.studies.item(r, 0).data(Qt.ItemDataRole.UserRole).study_uid: r
            for r in range(dialog.studies.rowCount())
        }
        assert prior_uid in rows and current_uid not in rows
        date = dialog.studies.item(rows[prior_uid], STUDY_COLUMNS.index("Date")).text()
        assert date == f"{day[:4]}-{day[4:6]}-{day[6:]}"
        assert "other study of this patient" in dialog.status.text()
        dialog.studies.selectRow(rows[prior_uid])
        job = dialog.retrieve_selected()
        assert job is not None
        qtbot.waitUntil(lambda: job.done, timeout=TIMEOUT_MS)
        assert dialog.last_result is not None and dialog.last_result.complete
        # into the workspace's pacs/ folder, and annotated there like any study (_send_with_prior)
        assert Path(dialog.last_result.folder) == retrieve_root() / prior_uid
        qtbot.waitUntil(
            lambda: (
                win.prior.pair is not None
                and not win.busy()
                and all(vp.source is not None for vp in win.grid.visible_viewports())
            ),
            timeout=TIMEOUT_MS,
        )
        assert win.prior.pair is not None
        assert [s.uid for s in win.prior.pair] == [current_uid, prior_uid]
        visible = win.grid.visible_viewports()
        qtbot.waitUntil(lambda: all(ROLE_KEY in vp.study for vp in visible), timeout=TIMEOUT_MS)
        corners = {vp.corner_text().top_left[2] for vp in visible}  # type: ignore[union-attr]
        assert f"Prior {date}" in corners
        # a length on each date, sent with the prior's report: the SR on the PACS says both
        sent_sr = _send_with_prior(qtbot, win, orthanc, current_uid)
        previous = report_text(sent_sr)["previous"]
        [length] = [t for t in previous if t.startswith("line 1:")]
        assert f"on {date} (prior; +" in length and length.count(" mm") == 3  # both, change
        # an ordinary Query/Retrieve afterwards is no prior search
        assert win.open_pacs("query") is dialog and dialog.prior_for is None
        assert dialog.retrieve_button.text() == "Retrieve and open"
    finally:  # leave the shared PACS as it was
        for uid in (current_uid, prior_uid):
            _delete_study(orthanc, uid)


def _measure(win: MainWindow, role: str, length_px: float) -> None:
    """A reader's distance across the middle of the first visible viewport of the study that
    is ``role`` (Current, Prior)."""
    vp = next(v for v in win.grid.visible_viewports() if v.study.get(ROLE_KEY) == role)
    info = vp.info
    ref = image_ref(info)
    assert ref is not None and info is not None and info.plane is not None
    r, c = (n / 2 for n in info.plane.shape)
    line = Annotation.create(Kind.LINE, ref, [(r, c - length_px / 2), (r, c + length_px / 2)],
                             info.plane)  # fmt: skip
    assert win.annotation.controller.add(line, "Distance")


def _download(orthanc, path: str) -> bytes:
    """A file from Orthanc's REST API (independent of the code under test)."""
    request = urllib.request.Request(orthanc.url + path)
    token = b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def _send_with_prior(qtbot, win: MainWindow, orthanc, current_uid: str) -> pydicom.Dataset:
    """Measure both studies, send the current's results with the prior's report; the SR as
    the PACS keeps it."""
    assert win.prior.pair is not None
    current = win.prior.pair[0]
    _measure(win, "Current", 60.0)
    _measure(win, "Prior", 40.0)
    before = set(orthanc.get("/instances"))
    dialog = SendDialog(win)
    document = win.annotation.controller.sessions[current.uid].document
    dialog.prepare(current, Findings(current.uid, ""), document, win.prior.prior_report(current))
    dialog.checks["epdf"].setChecked(False)
    job = dialog.send()
    assert job is not None
    qtbot.waitUntil(lambda: job.done, timeout=TIMEOUT_MS)
    assert dialog.store_result is not None and not dialog.store_result.failed
    for instance in set(orthanc.get("/instances")) - before:
        ds = pydicom.dcmread(io.BytesIO(_download(orthanc, f"/instances/{instance}/file")))
        if ds.Modality == "SR" and ds.StudyInstanceUID == current_uid:
            return ds
    raise AssertionError("no SR of the current study arrived")


def test_open_prior_from_pacs_needs_an_open_study(qtbot, orthanc) -> None:
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.prior.open_prior_from_pacs() is None
    assert "Open the current study first" in win.statusBar().currentMessage()


def test_a_study_retrieved_into_the_workspace_can_be_annotated(tmp_path: Path) -> None:
    """Retrieves land in the workspace's ``pacs/`` folder: images the viewer fetched, which
    may be annotated; any other images inside the workspace are still refused."""
    from spineviewer.annotations import Workspace, WorkspaceError
    from spineviewer.phantom import generate

    folder = retrieve_root() / "study"
    generate("lumbar-mr", folder, 2)
    with Workspace() as workspace:
        assert folder.is_relative_to(workspace.root)
        workspace.check_sources([str(folder)])
        stray = workspace.root / "elsewhere"
        generate("lumbar-mr", stray, 2)
        with pytest.raises(WorkspaceError, match="inside the annotation workspace"):
            workspace.check_sources([str(stray)])
