"""The AI's review needs in the real window: a needs-review vertebra and an uncertain disc look
different from a confident vertebra (text, line pattern, colour), the Findings panel has a
review column and a visible labelling warning, and the Help legend explains the styles."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import open_window
from PySide6.QtGui import QColor, QImage

from spineviewer.ai.findings import (
    CONFIDENT,
    NEEDS_REVIEW,
    UNCERTAIN,
    DiscFinding,
    Findings,
    LabellingCheck,
    ModelUse,
    VertebraFinding,
)
from spineviewer.annotations import Status
from spineviewer.gui.annotate.drawing import outline_pen
from spineviewer.gui.annotate.review_style import LEGEND, REVIEW_COLOR
from spineviewer.gui.dialogs import ShortcutsDialog
from spineviewer.gui.findings_rows import COLUMNS, labelling_warning
from spineviewer.phantom import load_ground_truth

NO_SACRUM = "no sacrum in view: the levels are counted from the bottom body, taken as L5"
TRANSITIONAL = (
    "possible transitional anatomy: L5 looks sacral (sacralised L5 or lumbarised S1); "
    "the levels may be one off"
)


def hand_made_findings(win, truth):
    """L4 confident, L5 needing review (no sacrum in view), disc L4-L5 uncertain, and a
    labelling check that needs review, on the demo study's real images."""
    study = win.analysis.current_study()
    sagittal = next(s for s in truth.series if s.role == "sagittal_t2")

    def vertebra(label: str, review: str, reasons: tuple[str, ...]) -> VertebraFinding:
        v = truth.vertebra(label)
        view = next(w for w in v.views if w.central and w.box_px is not None)
        x0, y0, x1, y1 = view.box_px
        return VertebraFinding(
            label=label,
            score=0.9,
            series_uid=sagittal.series_instance_uid,
            sop_instance_uid=view.sop_instance_uid,
            box_px=(x0, y0, x1 + 1, y1 + 1),
            centre_mm=tuple(v.centre_mm),
            model_id="vertebra-detector",
            review=review,
            review_reasons=reasons,
        )

    disc_truth = next(d for d in truth.discs if d.level == "L4-L5")
    nearest = min(
        (a for a in truth.axial_levels if a.level == "L4-L5"), key=lambda a: a.distance_mm
    )
    disc = DiscFinding(
        level="L4-L5",
        state="bulge",
        probabilities={"normal": 0.35, "bulge": 0.4, "herniation": 0.25},
        centre_mm=tuple(disc_truth.centre_mm),
        axial_instances=(nearest.sop_instance_uid,),
        model_id="disc-state",
        review=UNCERTAIN,
        review_reasons=("two states almost equally likely",),
    )
    check = LabellingCheck(
        series_uid=sagittal.series_instance_uid,
        confidence=0.2,
        status=NEEDS_REVIEW,
        sacrum="not in view",
        reasons=(NO_SACRUM, TRANSITIONAL),
    )
    findings = Findings(
        study_uid=study.uid,
        provider="cpu",
        models=(
            ModelUse("vertebra-detector", "1.0", "0" * 64, "cpu"),
            ModelUse("disc-state", "1.0", "0" * 64, "cpu"),
        ),
        vertebrae=(
            vertebra("L4", CONFIDENT, ()),
            vertebra("L5", NEEDS_REVIEW, (NO_SACRUM,)),
        ),
        discs=(disc,),
        labelling=(check,),
        warnings=(NO_SACRUM, TRANSITIONAL),
    )
    return study, findings


@pytest.fixture
def shown(qtbot, demo_study_dir):
    truth = load_ground_truth(demo_study_dir)
    win = open_window(qtbot, demo_study_dir)
    study, findings = hand_made_findings(win, truth)
    win.analysis.show_findings(study, findings)
    yield win, findings
    win.close()


def test_findings_panel_has_a_review_column_and_the_labelling_warning(qtbot, shown) -> None:
    win, findings = shown
    ui = win.analysis
    table = ui.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == list(COLUMNS) and "Review" in headers
    review = headers.index("Review")
    cells = {
        (table.item(r, 0).text(), table.item(r, 1).text()): table.item(r, review)
        for r in range(table.rowCount())
    }
    assert cells[("L4", "vertebra")].text() == "confident"
    assert cells[("L5", "vertebra")].text() == "needs review"
    assert cells[("L4-L5", "bulge")].text() == "uncertain ?"
    colours = {cells[k].foreground().color().name() for k in cells}
    assert len(colours) == 3  # each need its own colour, besides its words
    assert NO_SACRUM in cells[("L5", "vertebra")].toolTip()
    # the warning line above the table: visible, in words, with what to do
    warning = ui.labelling_warning
    assert warning.isVisible()
    text = warning.text()
    assert text.startswith("Labels need review: ")
    assert "no sacrum in view" in text and "possible transitional anatomy" in text
    assert "Shift labels" in text
    assert warning.text() == labelling_warning(findings)
    assert warning.geometry().bottom() <= table.geometry().top()  # above the table
    # the findings text lists both too
    summary = ui.browser.toPlainText()
    assert "no sacrum in view" in summary and "possible transitional anatomy" in summary
    # a confident study shows no warning
    from dataclasses import replace

    calm = replace(findings, labelling=(replace(findings.labelling[0], status=CONFIDENT),))
    assert labelling_warning(calm) == ""


def test_overlays_differ_by_text_pattern_and_colour(qtbot, shown) -> None:
    win, _ = shown
    controller = win.annotation.controller
    tools = win.annotation.tools
    doc = controller.document
    by_label = {a.label: a for a in doc if a.provenance.is_model}
    l4, l5, disc = by_label["L4"], by_label["L5"], by_label["L4-L5"]
    assert (l4.review, l5.review, disc.review) == (CONFIDENT, NEEDS_REVIEW, UNCERTAIN)
    # text
    assert tools.text_lines(l4, None, "MR", detailed=False)[0] == "L4"
    assert tools.text_lines(l5, None, "MR", detailed=False)[0] == "L5 (review)"
    assert tools.text_lines(disc, None, "MR", detailed=False)[0] == "L4-L5 bulge ?"
    assert f"needs review: {NO_SACRUM}" in tools.text_lines(l5, None, "MR", detailed=True)
    # line pattern and colour: three different dash patterns, amber for the one to review
    colour = QColor("#90be6d")
    pens = {a.label: outline_pen(colour, a, False) for a in (l4, l5, disc)}
    patterns = {label: tuple(p.dashPattern()) for label, p in pens.items()}
    assert len(set(patterns.values())) == 3
    assert pens["L5"].color() == REVIEW_COLOR and pens["L4"].color() == colour
    assert pens["L5"].widthF() > pens["L4"].widthF()
    # accepted: a person decided, the mark is solid and plain
    controller.set_status([l5.uid], Status.ACCEPTED)
    accepted = doc[l5.uid]
    assert outline_pen(colour, accepted, False).dashPattern() == []
    assert tools.text_lines(accepted, None, "MR", detailed=False) == ["L5"]
    controller.undo()
    # drawn: amber pixels on the L5 box's outline and badge, none around the L4 box
    vp = next(v for v in win.grid.viewports if v.info and v.info.frame
              and v.info.frame.instance.sop_instance_uid == l5.image.sop_instance_uid)  # fmt: skip
    vp.viewport().repaint()
    image = vp.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    bits = np.frombuffer(image.constBits(), np.uint8)
    rgb = bits.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    rgb = rgb.reshape(image.height(), image.width(), 3).astype(int).copy()
    amber = np.abs(rgb - np.array([255, 160, 0])).sum(axis=2) < 60

    def amber_on_top_half(a) -> int:
        """Amber pixels on the box's upper half (the lower body's box starts below it)."""
        (r0, c0), (r1, c1) = a.points
        p0, p1 = vp.image_to_widget(r0, c0), vp.image_to_widget(r1, c1)
        x0, x1 = sorted((round(p0.x()), round(p1.x())))
        y0, y1 = sorted((round(p0.y()), round(p1.y())))
        return int(amber[max(y0 - 3, 0) : (y0 + y1) // 2, max(x0 - 3, 0) : x1 + 4].sum())

    assert amber_on_top_half(l5) > 20
    assert amber_on_top_half(l4) == 0


def test_the_help_legend_explains_the_styles(qtbot) -> None:
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    texts = [text.text() for _, text in dialog.legend_rows]
    assert len(texts) == len(LEGEND)
    assert any("L3 (review)" in t and "no sacrum in view" in t for t in texts)
    assert any("L3 ?" in t for t in texts) and any("Dashed" in t for t in texts)
    samples = [sample.pixmap().toImage() for sample, _ in dialog.legend_rows]
    rows = [[s.pixelColor(x, 9).name() for x in range(4, 68)] for s in samples]
    assert len({tuple(r) for r in rows}) == len(LEGEND)  # every style draws differently


def test_table_levels_and_badges_follow_a_shift(qtbot, shown) -> None:
    from spineviewer.gui.disc_badges import badge_text

    win, findings = shown
    [disc] = findings.discs
    assert badge_text(disc, win.analysis._marks()) == "L4-L5 bulge 40% ?"
    table = win.analysis.table
    assert win.annotation.controller.shift_levels(-1)  # up one level: L5 -> L4, ...

    def level_of(finding: str, ai: str) -> str:
        for r in range(table.rowCount()):
            text = table.item(r, 0).text()
            if table.item(r, 1).text() == finding and (text == ai or text.endswith(f"(AI: {ai})")):
                return text
        raise AssertionError(f"no {finding} row for {ai}")

    assert level_of("vertebra", "L5") == "L4 (AI: L5)"
    assert level_of("vertebra", "L4") == "L3 (AI: L4)"
    assert level_of("bulge", "L4-L5") == "L3-L4 (AI: L4-L5)"
    assert badge_text(disc, win.analysis._marks()) == "L3-L4 bulge 40% ?"
    win.annotation.controller.undo()
    assert level_of("vertebra", "L5") == "L5"
    assert badge_text(disc, win.analysis._marks()) == "L4-L5 bulge 40% ?"


def test_the_annotations_panel_lists_the_review_need(qtbot, shown) -> None:
    win, _ = shown
    panel = win.annotation.panel
    controller = win.annotation.controller
    rows = {a.label: panel._cells(a) for a in controller.document if a.provenance.is_model}
    status = rows["L5"][3]
    assert status == "proposed, needs review"
    assert rows["L4-L5"][3] == "proposed, uncertain" and rows["L4"][3] == "proposed"
    l5 = next(a for a in controller.document if a.label == "L5")
    assert panel._colour(l5, 3) == REVIEW_COLOR.name()
    assert f"needs review: {NO_SACRUM}" in panel.describe(l5)
    controller.set_status([l5.uid], Status.ACCEPTED)
    assert panel._cells(controller.document[l5.uid])[3] == "accepted"
