"""The PACS dialogs in the real window against a real Orthanc: the node editor (save, Test
connection, the error of a wrong port), Query/Retrieve (a wildcard search, the series, a C-GET
that opens the study; a partial retrieve is a warning), and sending the analysis back (DICOM SR,
Encapsulated PDF, KOS and GSPS land in the study)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from gui_helpers import open_window
from orthanc_server import AE_TITLE, PASSWORD, USER, free_port
from PySide6.QtCore import Qt

from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.pacs_dialog import STUDY_COLUMNS, QueryDialog
from spineviewer.gui.pacs_nodes import NodeEditor
from spineviewer.gui.pacs_send import SendDialog
from spineviewer.gui.workers import Job
from spineviewer.pacs import (
    DicomWebNode,
    DimseNode,
    LocalAE,
    PacsConfig,
    RetrieveResult,
    StudyMatch,
    load_config,
    retrieve_root,
    save_config,
)

TIMEOUT_MS = 60000


@pytest.fixture(autouse=True)
def pacs_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "pacs.json"
    monkeypatch.setenv("SPINEVIEWER_PACS_CONFIG", str(path))
    return path


def dimse_node(orthanc, port: int | None = None) -> DimseNode:
    return DimseNode("orthanc", AE_TITLE, "127.0.0.1", port or orthanc.dicom_port, timeout_s=10)


def web_node(orthanc) -> DicomWebNode:
    return DicomWebNode("orthanc-web", orthanc.dicomweb_url, "basic", USER, PASSWORD)


def configure(orthanc) -> PacsConfig:
    config = PacsConfig(LocalAE(orthanc.our_ae, orthanc.our_port),
                        (dimse_node(orthanc), web_node(orthanc)))  # fmt: skip
    save_config(config)
    return config


def shown_window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    return win


def wait(qtbot, job: Job | None) -> None:
    assert job is not None
    qtbot.waitUntil(lambda: job.done, timeout=TIMEOUT_MS)


def retype(qtbot, field, text: str) -> None:
    """Replace a line edit's text by typing, as a user does."""
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def test_node_editor_saves_nodes_and_tests_connections(qtbot, orthanc, pacs_config) -> None:
    win = shown_window(qtbot)
    editor = win.open_pacs("nodes")
    assert isinstance(editor, NodeEditor) and editor.isVisible() and not editor.isModal()
    retype(qtbot, editor.ae_title, orthanc.our_ae)
    editor.local_port.setValue(orthanc.our_port)
    # a DIMSE node at a port where nothing listens: Test connection says exactly that
    editor.add_node("dimse")
    form = editor.dimse_form
    assert editor.forms.currentWidget() is form
    retype(qtbot, form.name, "orthanc")
    retype(qtbot, form.ae_title, AE_TITLE)
    retype(qtbot, form.host, "127.0.0.1")
    form.port.setValue(free_port())
    form.timeout.setValue(3)
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    wait(qtbot, editor.job)
    assert editor.test_ok is False
    assert "connection refused" in editor.test_result.text()
    assert "check the port" in editor.test_result.text()
    # the right port: C-ECHO answers
    form.port.setValue(orthanc.dicom_port)
    form.timeout.setValue(10)
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    wait(qtbot, editor.job)
    assert editor.test_ok is True, editor.test_result.text()
    assert "Connection OK" in editor.test_result.text()
    # a DICOMweb node: the credential fields follow the authentication
    editor.add_node("dicomweb")
    web = editor.web_form
    assert editor.forms.currentWidget() is web and web.verify_tls.isChecked()
    retype(qtbot, web.name, "orthanc-web")
    retype(qtbot, web.url, orthanc.dicomweb_url)
    assert not web.username.isVisibleTo(editor) and not web.token.isVisibleTo(editor)
    web.auth.setCurrentText("bearer")
    assert web.token.isVisibleTo(editor) and not web.password.isVisibleTo(editor)
    web.auth.setCurrentText("basic")
    assert web.username.isVisibleTo(editor) and web.password.isVisibleTo(editor)
    assert not web.token.isVisibleTo(editor)
    retype(qtbot, web.username, USER)
    retype(qtbot, web.password, "wrong")
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    wait(qtbot, editor.job)
    assert editor.test_ok is False and "authentication failed" in editor.test_result.text()
    retype(qtbot, web.password, PASSWORD)
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    wait(qtbot, editor.job)
    assert editor.test_ok is True, editor.test_result.text()
    # an invalid AE title is said at once and blocks saving
    editor.node_list.setCurrentRow(0)
    retype(qtbot, form.ae_title, "BAD\\AE")
    assert "AE title" in editor.status.text()
    assert not editor.save() and not pacs_config.exists()
    retype(qtbot, form.ae_title, AE_TITLE)
    assert editor.save()
    assert load_config() == PacsConfig(
        LocalAE(orthanc.our_ae, orthanc.our_port),
        (dimse_node(orthanc), web_node(orthanc)),
    )
    # opened again: what was saved; removing a node
    editor = win.open_pacs("nodes")
    assert isinstance(editor, NodeEditor)
    assert [editor.node_list.item(r).text() for r in range(editor.node_list.count())] == [
        dimse_node(orthanc).label,
        web_node(orthanc).label,
    ]
    editor.remove_node()
    assert editor.save() and [n.name for n in load_config().nodes] == ["orthanc-web"]


def _study_row(dialog: QueryDialog, study_uid: str) -> int:
    for row in range(dialog.studies.rowCount()):
        match = dialog.studies.item(row, 0).data(Qt.ItemDataRole.UserRole)
        if match.study_uid == study_uid:
            return row
    raise AssertionError(f"study {study_uid} not in the results")


def test_query_by_wildcard_name_and_retrieve_by_c_get_opens_the_study(
    qtbot, orthanc, pacs_study
) -> None:
    study_uid, files = pacs_study
    configure(orthanc)
    header = pydicom.dcmread(files[0], stop_before_pixels=True)
    win = shown_window(qtbot)
    dialog = win.open_pacs("query")
    assert isinstance(dialog, QueryDialog) and dialog.isVisible() and not dialog.isModal()
    assert dialog.node_box.currentText() == "orthanc"
    assert [dialog.method.itemText(i) for i in range(dialog.method.count())] == ["C-GET", "C-MOVE"]
    assert dialog.method.currentData() == "get"
    # nobody: no rows
    qtbot.keyClicks(dialog.patient_name, "NOBODY*")
    qtbot.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    wait(qtbot, dialog.search_job)
    assert dialog.studies.rowCount() == 0 and "0 studies" in dialog.status.text()
    # a wildcard name and the study's date range find it, with its image count
    retype(qtbot, dialog.patient_name, str(header.PatientName)[:5] + "*")
    day = str(header.StudyDate)
    dialog.date_from.setDate(dialog.date_from.date().fromString(day, "yyyyMMdd"))
    dialog.date_to.setDate(dialog.date_to.date().fromString(day, "yyyyMMdd"))
    qtbot.keyClick(dialog.patient_name, Qt.Key.Key_Return)
    wait(qtbot, dialog.search_job)
    assert dialog.studies.isSortingEnabled()
    row = _study_row(dialog, study_uid)
    cells = {c: dialog.studies.item(row, i).text() for i, c in enumerate(STUDY_COLUMNS)}
    assert cells["Patient ID"] == str(header.PatientID)
    assert cells["Date"] == f"{day[:4]}-{day[4:6]}-{day[6:]}"
    assert "MR" in cells["Modalities"]
    assert int(cells["Images"]) >= len(files) and int(cells["Series"]) >= 2
    # the one study found is chosen: its series and their image counts come
    qtbot.waitUntil(lambda: dialog.series.rowCount() >= 2, timeout=TIMEOUT_MS)
    wait(qtbot, dialog.series_job)
    counts = {
        dialog.series.item(r, 1).text(): 0 for r in range(dialog.series.rowCount())
    }  # modality -> images
    for r in range(dialog.series.rowCount()):
        counts[dialog.series.item(r, 1).text()] += int(dialog.series.item(r, 3).text())
    assert counts["MR"] == len(files)
    # a date range that ends before it starts is refused before anything is sent
    dialog.date_to.setDate(dialog.date_from.date().addDays(-1))
    assert dialog.search() is None and "ends before it starts" in dialog.status.text()
    dialog.clear_dates()
    # a cancelled retrieve says so and opens nothing
    job = dialog.retrieve_selected()
    assert dialog.cancel_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    wait(qtbot, job)
    assert "cancelled" in dialog.status.text() and not win.results
    # retrieve by C-GET: into the workspace, then open in the viewer
    qtbot.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
    assert dialog.retrieving() and not dialog.retrieve_button.isEnabled()
    wait(qtbot, dialog.retrieve_job)
    result = dialog.last_result
    assert result is not None and result.complete, dialog.status.text()
    assert Path(result.folder) == retrieve_root() / study_uid
    assert result.received >= len(files) and "Retrieved" in dialog.status.text()
    qtbot.waitUntil(
        lambda: not win.busy() and win.grid.viewports[0].source is not None, timeout=TIMEOUT_MS
    )
    opened = [s for r in win.results for s in r.studies]
    assert [s.uid for s in opened] == [study_uid]
    expected = {str(pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID) for p in files}
    assert {s.uid for s in opened[0].series} >= expected
    assert dialog.retrieve_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_dicomweb_search_offers_wado_only(qtbot, orthanc, pacs_study) -> None:
    study_uid, _ = pacs_study
    configure(orthanc)
    win = shown_window(qtbot)
    dialog = win.open_pacs("query")
    assert isinstance(dialog, QueryDialog)
    dialog.node_box.setCurrentText("orthanc-web")
    assert [dialog.method.itemText(i) for i in range(dialog.method.count())] == ["WADO-RS"]
    dialog.modality.setCurrentText("MR")
    wait(qtbot, dialog.search())
    assert _study_row(dialog, study_uid) >= 0


def test_unreachable_node_and_partial_retrieve_are_said(
    qtbot, orthanc, demo_study_dir, monkeypatch
) -> None:
    save_config(PacsConfig(nodes=(dimse_node(orthanc, free_port()),)))
    win = shown_window(qtbot)
    dialog = win.open_pacs("query")
    assert isinstance(dialog, QueryDialog)
    wait(qtbot, dialog.search())
    assert "connection refused" in dialog.status.text()
    assert dialog.studies.rowCount() == 0
    # a retrieve that brought fewer instances than the PACS announced: a warning, not success
    files = sorted(demo_study_dir.rglob("*.dcm"))
    uid = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    match = StudyMatch(uid, "P", "ID", "", "20240102", "", "", "", "MR", 3, len(files) + 5)
    partial = RetrieveResult(uid, str(demo_study_dir), len(files), len(files) + 5)
    for name, value in (("find_studies", [match]), ("find_series", []), ("retrieve", partial)):
        monkeypatch.setattr(f"spineviewer.gui.pacs_dialog.{name}", lambda *a, v=value, **k: v)
    wait(qtbot, dialog.search())
    assert dialog.selected_study() == match
    wait(qtbot, dialog.retrieve_selected())
    assert "PARTIAL" in dialog.status.text()
    notice = win._notice
    assert notice is not None and notice.isVisible() and not notice.isModal()
    assert partial.summary() in notice.text()
    qtbot.waitUntil(
        lambda: not win.busy() and win.grid.viewports[0].source is not None, timeout=TIMEOUT_MS
    )
    assert [s.uid for r in win.results for s in r.studies] == [uid]


def _orthanc_series(orthanc, study_uid: str) -> list[dict]:
    for study in orthanc.get("/studies"):
        tags = orthanc.get(f"/studies/{study}")["MainDicomTags"]
        if tags["StudyInstanceUID"] == study_uid:
            return list(orthanc.get(f"/studies/{study}/series"))
    return []


def _orthanc_instances(orthanc, series_id: str) -> list[dict]:
    return list(orthanc.get(f"/series/{series_id}/instances"))


def test_send_results_lands_sr_pdf_kos_and_gsps_in_the_study(
    qtbot, orthanc, pacs_study, demo_study_dir
) -> None:
    study_uid, _ = pacs_study
    configure(orthanc)
    win = open_window(qtbot, demo_study_dir)
    assert win.open_pacs("send") is None  # nothing analysed yet: a message, no dialog
    assert "Analyze the study first" in win.statusBar().currentMessage()
    win.settings.ai_provider = "cpu"
    job = win.analysis.analyze_current()
    wait(qtbot, job)
    qtbot.waitUntil(lambda: not win.busy(), timeout=TIMEOUT_MS)
    before = {s["ID"] for s in _orthanc_series(orthanc, study_uid)}
    dialog = win.open_pacs("send")
    assert isinstance(dialog, SendDialog) and dialog.isVisible() and not dialog.isModal()
    assert dialog.node_box.currentText() == "orthanc"
    assert list(dialog.checks) == ["sr", "epdf", "kos", "gsps"]
    assert all(check.isChecked() for check in dialog.checks.values())
    try:
        # nothing accepted yet: the SR, the PDF and the key images go; no presentation state
        wait(qtbot, dialog.send())
        result = dialog.store_result
        assert result is not None and result.sent == 3 and not result.failed
        assert dialog.left_out and "GSPS" in dialog.left_out[0]
        assert "Not sent: GSPS" in dialog.status.text()
        new = [s for s in _orthanc_series(orthanc, study_uid) if s["ID"] not in before]
        assert sorted(s["MainDicomTags"]["Modality"] for s in new) == ["DOC", "KO", "SR"]
        # the reader accepts the proposals: all four land in the study, by the Send button
        assert win.annotation.controller.accept_all()
        dialog.prepare(*_analysed(win))
        sent_before = {s["ID"] for s in _orthanc_series(orthanc, study_uid)}
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
        assert dialog.sending()
        wait(qtbot, dialog.job)
        result = dialog.store_result
        assert result is not None and result.sent == 4 and not result.failed, dialog.status.text()
        assert dialog.status.text() == result.summary("orthanc") and not dialog.left_out
        new = [s for s in _orthanc_series(orthanc, study_uid) if s["ID"] not in sent_before]
        modalities = {s["MainDicomTags"]["Modality"]: s["ID"] for s in new}
        assert sorted(modalities) == ["DOC", "KO", "PR", "SR"]
        [state] = _orthanc_instances(orthanc, modalities["PR"])
        tags = orthanc.get(f"/instances/{state['ID']}/simplified-tags")
        assert tags["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.11.1"  # Grayscale Softcopy PS
        assert tags["StudyInstanceUID"] == study_uid
        [key] = _orthanc_instances(orthanc, modalities["KO"])
        tags = orthanc.get(f"/instances/{key['ID']}/simplified-tags")
        assert tags["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.88.59"  # Key Object Selection
        # STOW-RS to the DICOMweb node: the SR, KOS and GSPS without the PDF
        dialog.node_box.setCurrentText("orthanc-web")
        dialog.checks["epdf"].setChecked(False)
        wait(qtbot, dialog.send())
        assert dialog.store_result is not None and dialog.store_result.sent == 3
        assert "3 instances sent to orthanc-web" in dialog.status.text()
    finally:  # leave the shared study as it was uploaded
        for series in _orthanc_series(orthanc, study_uid):
            if series["ID"] not in before:
                orthanc.delete(f"/series/{series['ID']}")


def _analysed(win: MainWindow) -> tuple:
    analysed = win.analysis.analysed()
    assert analysed is not None
    return analysed.study, analysed.findings, analysed.document


def test_the_dicomweb_form_keeps_a_nodes_ca_bundle(qtbot) -> None:
    """Editing a node in the viewer keeps the CA bundle set on the command line (it used to
    be dropped, so the node fell back to the environment's certificates)."""
    from spineviewer.gui.pacs_nodes import _DicomWebForm

    form = _DicomWebForm()
    qtbot.addWidget(form)
    node = DicomWebNode("site", "https://pacs.example/dicom-web", ca_bundle="/etc/site-ca.pem")
    form.load(node)
    assert form.node().ca_bundle == "/etc/site-ca.pem"
    retype(qtbot, form.ca_bundle, "/etc/other.pem")
    assert form.node().ca_bundle == "/etc/other.pem"
