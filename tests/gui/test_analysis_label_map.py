"""AI > Analyze study on a lumbar CT phantom in the real window (offscreen): the shipped
segmentation model's label map is shown in the label-map layer by itself, on the CT series, and
the report of the analysed study (File > Export report's dialog) has its per-label volumes."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import open_window

from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.report_dialog import open_report_dialog
from spineviewer.phantom import generate, study_folder_name

SEED = 9502
MODEL = "spine-ct-segmentation"


@pytest.fixture(scope="module")
def ct_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("analysed-ct")
    generate("lumbar-ct", root, SEED)
    return root / study_folder_name("lumbar-ct", SEED)


def test_the_analysis_shows_its_label_map_and_reports_its_volumes(qtbot, ct_folder: Path):
    win: MainWindow = open_window(qtbot, ct_folder)
    win.settings.ai_provider = "cpu"
    assert win.label_maps.label_map is None
    job = win.analysis.analyze_current()
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=120000):
        pass
    qtbot.waitUntil(lambda: not win.busy(), timeout=60000)
    findings = win.analysis.last
    assert findings is not None and [m.model_id for m in findings.label_maps] == [MODEL]
    study = win.analysis.current_study()
    assert study is not None
    [ct] = [s for s in study.series if s.modality == "CT"]
    shown = win.label_maps.label_map
    assert shown is not None and shown.series_uid == ct.uid and shown.model_id == MODEL
    assert shown.labels is findings.label_maps[0].labels  # the analysis' map, not a copy
    assert win.label_maps.close_action.isEnabled()
    # the layer draws it on the active viewport's slice through the vertebrae
    vp = win.grid.viewports[0]
    assert win.label_maps.overlay.labels_on(vp) is not None
    # the report of the analysed study has the model's per-label volumes
    analysed = win.analysis.analysed()
    assert analysed is not None
    dialog = open_report_dialog(win, analysed)
    qtbot.addWidget(dialog)
    volumes = dialog.report.label_volumes
    assert volumes and {v.source.split()[0] for v in volumes} == {MODEL}
    assert {"L1", "L2"} <= {v.label for v in volumes}
    # the window's own label_volumes (the shown map) agree with the report's
    assert {v.label: v.voxels for v in win.label_maps.label_volumes()} == {
        v.label: v.voxels for v in volumes
    }
    # a demonstration model's map: its volumes say so, on screen and in the report
    assert shown.not_for_clinical_use
    assert all(v.not_for_clinical_use for v in (*volumes, *win.label_maps.label_volumes()))
