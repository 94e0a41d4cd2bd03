"""A study and its prior in the real window (issue 22's acceptance): the prior phantom (the same
patient a year earlier, another frame of reference, the spine shifted and turned, L4-L5
changed) opened with File > Open prior hangs beside the current; with vertebra labels in both,
scrolling the current's axial to its L4-L5 by real wheel events brings the prior's axial to
the slice nearest the prior's own L4-L5 disc centre; without labels a sync point links them;
the measurements of both dates are listed together.

Run as a script under ``xvfb-run`` it drives the same steps and captures the X screen; the
README's ``docs/screenshots/prior-comparison.png`` is such a run::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/gui/test_prior_comparison.py \\
        --out /tmp/prior --png docs/screenshots/prior-comparison.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from gui_helpers import wheel
from xvfb_script import MISSING, run_on_xvfb

from spineviewer.ai.findings import Findings
from spineviewer.annotations import Kind
from spineviewer.annotations.annotation import Annotation
from spineviewer.dicom import Study
from spineviewer.gui.annotate.controller import image_ref
from spineviewer.gui.main_window import MainWindow
from spineviewer.gui.viewport import ImageViewport
from spineviewer.phantom import StudyGroundTruth, load_ground_truth
from spineviewer.phantom.prior import generate_prior
from spineviewer.reports import build_report
from spineviewer.reports.comparison import with_prior
from spineviewer.viewing.corners import ROLE_KEY
from spineviewer.viewing.source import nearest_slice

SEED = 7
SCREEN = (1600, 1000)
LABELS = ("L1", "L2", "L3", "L4", "L5")
Wait = Callable[[Callable[[], bool]], None]


def study_in(win: MainWindow, vp: ImageViewport) -> Study | None:
    source = vp.source
    stacks = getattr(source, "stacks", None)
    return win.study_of(stacks[0]) if stacks else None


def pane(win: MainWindow, study: Study, plane: str) -> ImageViewport:
    """The visible viewport showing ``study``'s sagittal (normal mostly x) or axial one."""
    axis = {"sagittal": 0, "axial": 2}[plane]
    for vp in win.grid.visible_viewports():
        info = vp.info
        found = study_in(win, vp)
        same = found is not None and found.uid == study.uid
        if same and info is not None and info.plane and abs(info.plane.normal[axis]) > 0.7:
            return vp
    raise AssertionError(f"no {plane} viewport of {study.info.get('StudyDate')}")


def label_column(win: MainWindow, vp: ImageViewport, truth: StudyGroundTruth) -> None:
    """Level marks (the labelling tool's points) on the sagittal slice nearest each body."""
    source = vp.source
    assert source is not None
    for label in LABELS:
        centre = truth.vertebra(label).centre_mm
        found = nearest_slice(source, centre)
        assert found is not None
        info = source.info(found[0])
        ref = image_ref(info)
        assert ref is not None and info.plane is not None
        row, col = info.plane.to_pixel(centre)
        mark = Annotation.create(
            Kind.POINT, ref, [(float(row), float(col))], info.plane, label=label
        )
        assert win.annotation.controller.add(mark, f"Label {label}")


def measure_on(win: MainWindow, vp: ImageViewport, length_px: float) -> None:
    """A distance on the viewport's slice (as the distance tool leaves one)."""
    info = vp.info
    ref = image_ref(info)
    assert ref is not None and info is not None
    r, c = (n / 2 for n in info.plane.shape)  # type: ignore[union-attr]
    line = Annotation.create(Kind.LINE, ref, [(r, c), (r, c + length_px)], info.plane)
    assert win.annotation.controller.add(line, "Distance")


def scroll_to(vp: ImageViewport, target: int) -> None:
    """Real wheel notches on ``vp`` until it shows slice ``target``."""
    step = 1
    for _ in range(400):
        if vp.index == target:
            return
        before = vp.index
        wheel(vp, step)
        if abs(vp.index - target) > abs(before - target):
            step = -step
    raise AssertionError(f"could not scroll to {target} (at {vp.index})")


def open_pair(win: MainWindow, folder: Path, wait: Wait) -> tuple[Study, Study]:
    """Open the current study, then its prior with File > Open prior (the method behind it)."""
    current_dir, prior_dir = generate_prior(folder, SEED)
    win.open_paths([current_dir])
    wait(lambda: not win.busy() and win.grid.viewports[0].source is not None)
    win.prior.open_prior(prior_dir)
    wait(
        lambda: (
            win.prior.pair is not None
            and not win.busy()
            and all(vp.source is not None for vp in win.grid.visible_viewports())
        )
    )
    assert win.prior.pair is not None
    return win.prior.pair


def scroll_current_to_l4_l5(
    win: MainWindow, pair: tuple[Study, Study], truths: list[StudyGroundTruth], wait: Wait
) -> dict[str, int]:
    """Label both columns, scroll the current's axial to L4-L5: the indices shown and wanted."""
    current, prior = pair
    label_column(win, pane(win, current, "sagittal"), truths[0])
    label_column(win, pane(win, prior, "sagittal"), truths[1])
    wait(lambda: win.prior.linked_by == "level")
    here, there = pane(win, current, "axial"), pane(win, prior, "axial")
    assert here.source is not None and there.source is not None
    shown = nearest_slice(here.source, truths[0].disc("L4-L5").centre_mm)
    want = nearest_slice(there.source, truths[1].disc("L4-L5").centre_mm)
    naive = nearest_slice(there.source, truths[0].disc("L4-L5").centre_mm)
    assert shown is not None and want is not None and naive is not None
    here.setFocus()
    scroll_to(here, shown[0])
    wait(lambda: there.index == want[0])
    return {"current": here.index, "prior": there.index, "want": want[0], "naive": naive[0]}


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def _waiter(qtbot) -> Wait:
    return lambda condition: qtbot.waitUntil(condition, timeout=60000)


def test_prior_hangs_beside_current_and_scrolls_by_level(qtbot, window, tmp_path) -> None:
    win, wait = window, _waiter(qtbot)
    current, prior = open_pair(win, tmp_path / "studies", wait)
    truths = [load_ground_truth(Path(p)) for p in sorted((tmp_path / "studies").glob("*/*"))]
    truths.sort(key=lambda t: t.study_instance_uid != current.uid)
    assert prior.info["PatientID"] == current.info["PatientID"]
    # 2x2: the same series side by side, the current on the left, each with its own date
    visible = win.grid.visible_viewports()
    assert len(visible) == 4
    studies = [study_in(win, vp) for vp in visible]
    assert [s.uid if s else None for s in studies] == [current.uid, prior.uid] * 2
    wait(lambda: all(ROLE_KEY in vp.study for vp in visible))  # marked once linked
    dates = [vp.corner_text().top_left[2] for vp in visible]  # type: ignore[union-attr]
    assert dates == ["Current 2024-01-08", "Prior 2023-01-08"] * 2
    for vp in visible:  # PHI-free: the date goes, the role stays
        vp.phi_free = True
    hidden = [vp.corner_text().top_left for vp in visible]  # type: ignore[union-attr]
    assert hidden == [("PHI hidden", "Current"), ("PHI hidden", "Prior")] * 2
    for vp in visible:
        vp.phi_free = False
    assert win.prior.linked_by == ""  # no labels yet: not linked, and the status says how
    assert "Sync here" in win.prior.link_text()
    result = scroll_current_to_l4_l5(win, (current, prior), truths, wait)
    assert result["prior"] == result["want"] != result["naive"]
    # the measurements of both dates, listed together, the later first
    measure_on(win, pane(win, current, "axial"), 40.0)
    measure_on(win, pane(win, prior, "axial"), 30.0)
    table = win.prior.table
    wait(lambda: table.rowCount() == 2)
    rows = [[table.item(r, c).text() for c in range(4)] for r in range(2)]
    assert [r[:2] for r in rows] == [["2024-01-08", "current"], ["2023-01-08", "prior"]]
    assert all(r[3].startswith("Length ") and r[3].endswith(" mm") for r in rows)
    assert win.prior.dock.isVisible()
    # the report of the current lists the prior's measurement beside its own, with both dates
    session = win.annotation.controller.sessions[current.uid]
    now = build_report(current, Findings(current.uid, ""), session.document)
    compared = with_prior(now, win.prior.prior_report(current)).comparison
    assert compared is not None and win.prior.prior_report(prior) is None
    assert (compared.current_date, compared.prior_date) == ("2024-01-08", "2023-01-08")
    [length] = [r for r in compared.rows if r.what == "measurement"]
    assert length.current.endswith(" mm") and length.prior.endswith(" mm")
    assert length.change.startswith("+")  # 40 px today, 30 px a year ago


def test_without_labels_a_sync_point_links_the_studies(qtbot, window, tmp_path) -> None:
    win, wait = window, _waiter(qtbot)
    current, prior = open_pair(win, tmp_path / "studies", wait)
    truths = [load_ground_truth(Path(p)) for p in sorted((tmp_path / "studies").glob("*/*"))]
    truths.sort(key=lambda t: t.study_instance_uid != current.uid)
    here, there = pane(win, current, "axial"), pane(win, prior, "axial")
    assert here.source is not None and there.source is not None
    # the reader puts both on L3-L4 and pairs them
    for vp, truth in ((here, truths[0]), (there, truths[1])):
        found = nearest_slice(vp.source, truth.disc("L3-L4").centre_mm)  # type: ignore[arg-type]
        assert found is not None
        vp.set_index(found[0])
    qtbot.wait(50)
    win.grid.set_active(here)
    assert win.prior.linked_by == ""
    assert win.prior.sync_here()
    assert win.prior.linked_by == "sync point"
    shown = nearest_slice(here.source, truths[0].disc("L4-L5").centre_mm)
    assert shown is not None
    here.setFocus()
    scroll_to(here, shown[0])
    level = {a.sop_instance_uid: a.level for a in truths[1].axial_levels}
    qtbot.waitUntil(lambda: level[_sop(there)] == "L4-L5", timeout=5000)


def test_compare_with_prior_from_two_open_studies_newest_right(qtbot, window, tmp_path) -> None:
    win, wait = window, _waiter(qtbot)
    current_dir, prior_dir = generate_prior(tmp_path / "studies", SEED)
    win.open_paths([prior_dir, current_dir])  # both opened as studies, the prior hung
    wait(lambda: not win.busy() and win.grid.viewports[0].source is not None)
    win.prior.update_actions()
    assert win.prior.compare_action.isEnabled()
    assert not win.prior.sync_here_action.isEnabled()
    win.prior.newest_right_action.trigger()  # the setting, kept in QSettings
    assert win.settings.qsettings.value("prior/newest_right") in (True, "true")
    win.prior.compare_action.trigger()
    wait(lambda: win.prior.pair is not None and not win.busy())
    current, prior = win.prior.pair  # type: ignore[misc]
    assert current.info["StudyDate"] > prior.info["StudyDate"]
    shown = [study_in(win, vp) for vp in win.grid.visible_viewports()]
    assert [s.uid if s else None for s in shown] == [prior.uid, current.uid] * 2


def _sop(vp: ImageViewport) -> str:
    info = vp.info
    assert info is not None and info.frame is not None
    return info.frame.instance.sop_instance_uid


# -- on a real X server ------------------------------------------------------------------------


def drive(out: Path, png: Path) -> None:
    """The acceptance steps in a window filling the X screen, then the screen captured."""
    from real_display_probe import capture, screen_rect, wait_until

    from spineviewer.gui.app import application

    application()
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryDirectory() as marks:
        # a scratch workspace: the run's marks are not saved into the user's, and a second
        # run does not find the first one's (the phantom's UIDs are the seed's)
        os.environ["SPINEVIEWER_WORKSPACE"] = marks
        win = MainWindow()
        win.setGeometry(0, 0, *SCREEN)
        win.show()
        pair = open_pair(win, Path(scratch), wait_until)
        truths = [load_ground_truth(Path(p)) for p in sorted(Path(scratch).glob("*/*"))]
        truths.sort(key=lambda t: t.study_instance_uid != pair[0].uid)
        result = scroll_current_to_l4_l5(win, pair, truths, wait_until)
        for study, truth in zip(pair, truths, strict=True):  # both on their mid-sagittal
            vp = pane(win, study, "sagittal")
            assert vp.source is not None
            found = nearest_slice(vp.source, truth.vertebra("L3").centre_mm)
            assert found is not None
            vp.set_index(found[0])
        measure_on(win, pane(win, pair[0], "axial"), 40.0)
        measure_on(win, pane(win, pair[1], "axial"), 30.0)
        wait_until(lambda: win.prior.table.rowCount() == 2)
        png.parent.mkdir(parents=True, exist_ok=True)
        capture(png)
        panes = [screen_rect(vp) for vp in win.grid.visible_viewports()]
        result["rows"] = win.prior.table.rowCount()
        (out / "prior.json").write_text(json.dumps({**result, "panes": panes}, indent=2))
        win.close()


@pytest.mark.real_display
def test_prior_comparison_on_the_x_server(tmp_path: Path) -> None:
    if MISSING:
        pytest.skip(f"real-display tests need {', '.join(MISSING)} (Xvfb and ImageMagick)")
    png = tmp_path / "prior-comparison.png"
    run_on_xvfb(__file__, tmp_path, SCREEN, ["--out", str(tmp_path), "--png", str(png)])
    record = json.loads((tmp_path / "prior.json").read_text())
    assert record["prior"] == record["want"] != record["naive"]
    assert record["rows"] == 2
    from test_about_real_display import pixels  # the X screen's PNG as an array

    screen = pixels(png)
    assert screen.shape[:2] == (SCREEN[1], SCREEN[0])
    for x, y, w, h in record["panes"]:  # four panes, each showing an image (not black)
        assert w > 200 and h > 150
        middle = screen[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
        assert float(middle.mean()) > 15.0 and float(middle.std()) > 10.0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--png", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    drive(args.out, args.png or args.out / "prior-comparison.png")
    sys.exit(0)


def test_export_report_of_a_compared_study_lists_the_prior(qtbot, window, tmp_path) -> None:
    """File > Export report's dialog shows the comparison (the window gives the analysis
    the prior's report)."""
    from spineviewer.ai.findings import Findings
    from spineviewer.gui.report_dialog import ReportDialog

    win, wait = window, _waiter(qtbot)
    current, prior = open_pair(win, tmp_path / "studies", wait)
    measure_on(win, pane(win, current, "axial"), 40.0)
    measure_on(win, pane(win, prior, "axial"), 30.0)
    report = win.analysis.prior_report(current)
    assert report is not None and win.analysis.prior_report(prior) is None
    document = win.annotation.controller.sessions[current.uid].document
    dialog = ReportDialog(None, current, Findings(current.uid, ""), document, tmp_path,
                          prior=report)  # fmt: skip
    qtbot.addWidget(dialog)
    assert dialog.report.comparison is not None
    assert "Comparison with the prior study" in dialog.preview.toPlainText()
    [length] = [r for r in dialog.report.comparison.rows if r.what == "measurement"]
    assert length.change.startswith("+")
