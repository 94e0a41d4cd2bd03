"""Names in the Studies browser and the Worklist (issue 21, defect 8): person names read as in
a radiology viewer ("Phantom, Lumbar 00001"), dates as 2024-01-02, and PHI-free mode (P)
hides names, patient IDs and study dates there too, not only on the images."""

from __future__ import annotations

import pytest
from gui_helpers import open_window
from PySide6.QtCore import Qt

from spineviewer.gui.rows_model import dicom_date, person_name

#: What would give the patient away (the study description, "LUMBAR-MR SYNTHETIC PHANTOM",
#: names no one).
NAME_PARTS = ("PHANTOM^", "LUMBAR^", "Phantom, ", "Lumbar 00001", "PH-LUMBAR-00001", "2024-01-02")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("PHANTOM^LUMBAR^00001", "Phantom, Lumbar 00001"),
        ("DOE^JANE", "Doe, Jane"),
        ("McDonald^Ann^^Dr^Jr", "McDonald, Dr Ann, Jr"),
        ("SMITH", "Smith"),
        ("^JOHN", "John"),
        ("YAMADA^TARO=山田^太郎", "Yamada, Taro"),
        ("", ""),
    ],
)
def test_person_names_read_family_comma_given(stored: str, shown: str) -> None:
    assert person_name(stored) == shown


def test_dates_read_year_month_day() -> None:
    assert dicom_date("20240102") == "2024-01-02"
    assert dicom_date("2024") == "2024"


def all_texts(win) -> str:
    """Every text (and tooltip) of the Studies browser's patient and study rows and of the
    Worklist."""
    texts = []
    tree = win.browser.tree
    for i in range(tree.topLevelItemCount()):
        patient = tree.topLevelItem(i)
        texts += [patient.text(0), patient.toolTip(0)]
        for j in range(patient.childCount()):
            texts += [patient.child(j).text(0)]
    model = win.annotation.worklist.model
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            index = model.index(r, c)
            texts += [index.data() or "", index.data(Qt.ItemDataRole.ToolTipRole) or ""]
    return "\n".join(texts)


def test_phi_free_mode_hides_names_in_the_browser_and_the_worklist(qtbot, demo_study_dir) -> None:
    win = open_window(qtbot, demo_study_dir)
    worklist = win.annotation.worklist
    qtbot.waitUntil(lambda: worklist.model.rowCount() == 1, timeout=10000)
    patient = win.browser.tree.topLevelItem(0)
    assert patient.text(0) == "Phantom, Lumbar 00001  (PH-LUMBAR-00001)"
    assert worklist.model.index(0, 0).data() == "Phantom, Lumbar 00001"
    assert worklist.model.index(0, 1).data() == "2024-01-02"
    assert patient.child(0).text(0).startswith("2024-01-02 ")
    # P in a viewport, as a reader would press it
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    vp = win.grid.viewports[0]
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_P)
    assert win.settings.phi_free and vp.phi_free
    shown = all_texts(win)
    for part in NAME_PARTS:
        assert part not in shown, part
    assert patient.text(0) == "Patient 1"
    assert worklist.model.index(0, 0).data() == "Patient 1"
    assert patient.child(0).text(0).startswith("LUMBAR-MR")  # the study, without its date
    # the worklist stays PHI-free when it is read again (an edit, a new study)
    worklist.refresh()
    assert worklist.model.index(0, 0).data() == "Patient 1"
    # P again shows them
    qtbot.keyClick(vp, Qt.Key.Key_P)
    assert not win.settings.phi_free
    assert patient.text(0) == "Phantom, Lumbar 00001  (PH-LUMBAR-00001)"
    assert worklist.model.index(0, 0).data() == "Phantom, Lumbar 00001"
    win.close()


def test_a_window_opened_in_phi_free_mode_never_shows_a_name(qtbot, demo_study_dir) -> None:
    from spineviewer.gui.main_window import MainWindow
    from spineviewer.gui.settings import ViewerSettings

    settings = ViewerSettings()
    settings.phi_free = True
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.open_paths([demo_study_dir])
    qtbot.waitUntil(
        lambda: not win.busy() and win.annotation.worklist.model.rowCount() == 1, timeout=60000
    )
    shown = all_texts(win)
    for part in NAME_PARTS:
        assert part not in shown, part
    win.close()
