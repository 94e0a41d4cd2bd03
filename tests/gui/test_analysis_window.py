"""AI > Analyze study in the real window: a background job, the findings as proposals on the
demo study (one undo step, replaced by a re-run, reviewable), the Findings panel with the
"not for clinical use" notice, and the provider setting."""

from __future__ import annotations

from gui_helpers import open_window

from spineviewer.annotations import Status
from spineviewer.gui.analysis_ui import findings_html
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.report_dialog import open_report_dialog


def analyze(qtbot, win: MainWindow) -> None:
    job = win.analysis.analyze_current()
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=120000):
        pass
    qtbot.waitUntil(lambda: not win.busy(), timeout=60000)


def test_analyze_adds_reviewable_proposals_and_shows_findings(
    qtbot, demo_study_dir, tmp_path
) -> None:
    win = open_window(qtbot, demo_study_dir)
    controller = win.annotation.controller
    win.settings.ai_provider = "cpu"
    analyze(qtbot, win)
    findings = win.analysis.last
    assert findings is not None and findings.provider == "cpu"
    doc = controller.document
    assert doc is not None
    proposals = [a for a in doc if a.status == Status.PROPOSED and a.provenance.is_model]
    labels = {a.label for a in proposals}
    assert {"L1", "L5", "S1", "L4-L5"} <= labels
    discs = {a.label: a.state for a in proposals if a.kind.value == "ellipse"}
    assert discs == {d.level: d.state for d in findings.discs}
    assert all(a.provenance.model_id and a.provenance.score is not None for a in proposals)
    # the panel says what ran, and that the models are demos
    text = win.analysis.browser.toPlainText()
    assert "NOT FOR CLINICAL USE" in text and "disc L4-L5" in text
    assert win.analysis.dock.isVisible()
    assert win.analysis.notice.isVisible() and "NOT FOR CLINICAL USE" in win.analysis.notice.text()
    # the findings table has one row per level; a click shows that level's axial slice
    table = win.analysis.table
    levels = [table.item(r, 0).text() for r in range(table.rowCount())]
    row = levels.index("L4-L5")
    assert table.item(row, 1).text() == next(d.state for d in findings.discs if d.level == "L4-L5")
    assert win.analysis.show_level(row)
    shown = win.grid.active.info
    target = next(d for d in findings.discs if d.level == "L4-L5").axial_instances[0]
    assert shown is not None and shown.frame is not None
    assert shown.frame.instance.sop_instance_uid == target
    # a slice of a series no viewport showed replaces the axial view, never the sagittal
    assert win.grid.viewports[0].source.plane_name == "sagittal"
    assert win.grid.active.source.plane_name == "axial"
    # the status bar names the models and the provider, with the notice
    assert "disc-state" in win.analysis.status.text()
    assert "NOT FOR CLINICAL USE" in win.analysis.status.text()
    # layers: hiding vertebrae or the disc badges changes the sagittal view; showing restores it
    sagittal = win.grid.viewports[0]
    assert sagittal.info is not None and sagittal.info.plane is not None

    def grab() -> bytes:
        sagittal.viewport().repaint()
        image = sagittal.viewport().grab().toImage()
        return bytes(image.constBits())

    shown = grab()
    for name in ("Vertebrae", "Disc badges"):
        win.analysis.layer_checks[name].setChecked(False)
        assert grab() != shown, name
        win.analysis.layer_checks[name].setChecked(True)
        assert grab() == shown, name
    win.analysis.layer_sliders["Vertebrae"].setValue(30)
    assert win.annotation.tools.layers["Vertebrae"].opacity == 0.3
    assert grab() != shown
    win.analysis.layer_sliders["Vertebrae"].setValue(100)
    # one undo step removes them all; redo brings them back
    count = len(doc)
    win.annotation.undo_action.trigger()
    assert len(controller.document) == count - len(proposals)
    win.annotation.redo_action.trigger()
    assert len(controller.document) == count
    # rejecting and accepting are undoable steps too
    gone = proposals[1]
    controller.set_status([gone.uid], Status.REJECTED)
    assert controller.find(gone.uid).status == Status.REJECTED
    win.annotation.undo_action.trigger()
    assert controller.find(gone.uid).status == Status.PROPOSED
    win.annotation.redo_action.trigger()
    assert controller.find(gone.uid).status == Status.REJECTED
    win.annotation.undo_action.trigger()
    # accept one, re-run: the accepted one stays, the unreviewed ones are replaced, not doubled
    kept = proposals[0]
    controller.set_status([kept.uid], Status.ACCEPTED)
    win.annotation.undo_action.trigger()
    assert controller.find(kept.uid).status == Status.PROPOSED
    win.annotation.redo_action.trigger()
    assert controller.find(kept.uid).status == Status.ACCEPTED
    analyze(qtbot, win)
    doc = controller.document
    assert kept.uid in {a.uid for a in doc}
    assert len(doc) == (count - len(proposals)) + 1 + len(proposals)  # old unreviewed ones went
    assert sum(a.status == Status.PROPOSED for a in doc) == len(proposals)
    # File > Export report: the preview reflects the review; the export runs in the background
    analysed = win.analysis.analysed()
    assert analysed is not None and analysed.document is controller.document
    dialog = open_report_dialog(win, analysed)
    reviewed = {r.label: r.review for r in dialog.report.vertebrae}
    if kept.label in reviewed:  # the accepted proposal is a vertebra: the report says so
        assert reviewed[kept.label] == "accepted"
    assert "NOT FOR CLINICAL USE" in dialog.preview.toPlainText()
    out = tmp_path / "report"
    dialog.folder.setText(str(out))
    dialog.checks["sr"].setChecked(True)
    job = win.analysis.export_report(dialog)
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60000):
        pass
    assert {p.name for p in out.iterdir()} >= {"report.json", "report.html", "report.pdf",
                                               "report_sr.dcm", "images"}  # fmt: skip
    win.close()


def test_menu_and_provider_setting(qtbot, demo_study_dir) -> None:
    win = MainWindow()
    qtbot.addWidget(win)
    menus = [a.text() for a in win.menuBar().actions()]
    assert "&AI" in menus
    ai_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&AI")
    texts = [a.text() for a in ai_menu.actions()]
    assert "&Analyze study" in texts
    keys = [k.toString() for k in win.analysis.analyze_action.shortcuts()]
    assert keys == ["Ctrl+R", "Ctrl+Shift+A"]
    providers = next(a.menu() for a in ai_menu.actions() if a.text() == "&Run models on")
    cpu = next(a for a in providers.actions() if a.text() == "&CPU")
    cpu.trigger()
    assert win.settings.ai_provider == "cpu"
    assert win.analysis.sessions().choice == "cpu"
    assert win.analysis.analyze_current() is None  # nothing open: a message, no job
    win.close()


def test_findings_html_escapes_and_warns() -> None:
    from spineviewer.ai.findings import Findings, ModelUse, StepResult

    findings = Findings(
        "1.2.3",
        "cpu",
        models=(ModelUse("m<1>", "0.1", "0" * 64, "cpu", True),),
        steps=(StepResult("spine X-ray: radiograph", "skipped", "no radiograph <CR>"),),
    )
    html = findings_html(findings)
    assert "m&lt;1&gt;" in html and "no radiograph &lt;CR&gt;" in html
    assert "NOT FOR CLINICAL USE" in html
