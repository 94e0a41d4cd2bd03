"""The Findings panel's words: one row per finding with its review need, the levels as the
reader's labels name them, and the labelling warning for every way the sacrum can be doubted."""

from __future__ import annotations

from dataclasses import replace

import pytest

from spineviewer.ai.findings import (
    CONFIDENT,
    NEEDS_REVIEW,
    UNCERTAIN,
    CobbFinding,
    DiscFinding,
    Findings,
    ImplantFinding,
    LabellingCheck,
    VertebraFinding,
    numbering,
)
from spineviewer.gui.findings_rows import finding_rows, labelling_warning

V = VertebraFinding("L5", 0.9, "1.2", "1.2.3", (1, 2, 3, 4), (0.0, 0.0, -40.0))
D = DiscFinding("L4-L5", "herniation", {"normal": 0.2, "herniation": 0.8}, (0.0, 0.0, -25.0),
                ("1.2.4", "1.2.5"))  # fmt: skip
FINDINGS = Findings(
    "1.2",
    "cpu",
    vertebrae=(replace(V, review=NEEDS_REVIEW, review_reasons=("no sacrum in view",)),
               replace(V, label="L4", fracture="fractured", fracture_probability=0.7)),
    discs=(replace(D, review=UNCERTAIN),),
    implants=(ImplantFinding("pedicle_screw", 0.8, "1.2.3", (1, 2, 3, 4)),),
    cobb=CobbFinding(12.5, "L1", "L4", 3.0, -9.5, "1.2.9"),
)  # fmt: skip


def test_rows_carry_the_review_need_and_the_image() -> None:
    rows = finding_rows(FINDINGS)
    cells = [r.cells for r in rows]
    assert cells == [
        ("L4-L5", "herniation", "0.80", "2", "uncertain ?"),
        ("L5", "vertebra", "0.90", "", "needs review"),
        ("L4", "fracture", "0.70", "", "confident"),
        ("Pedicle screw", "implant", "0.80", "", "confident"),
        ("L1-L4", "Cobb angle", "12.5°", "", ""),
    ]
    assert [r.sop_instance_uid for r in rows] == ["1.2.4", "1.2.3", "1.2.3", "1.2.3", "1.2.9"]
    assert rows[1].reasons == ("no sacrum in view",) and rows[1].review == NEEDS_REVIEW


def test_levels_follow_the_readers_labels() -> None:
    renamed = {"L4-L5": "L3-L4", "L5": "L4", "L4": "L4"}
    rows = finding_rows(FINDINGS, lambda ai, at: renamed.get(ai))
    assert [r.cells[0] for r in rows[:3]] == ["L3-L4 (AI: L4-L5)", "L4 (AI: L5)", "L4"]
    assert [r.cells[0] for r in finding_rows(FINDINGS, lambda ai, at: None)][:2] == ["L4-L5", "L5"]


@pytest.mark.parametrize(
    ("sacrum", "reasons", "expected"),
    [
        ("not in view", (), "Labels need review: no sacrum in view"),
        ("not in view", ("no sacrum in view: the levels are counted from the bottom body",),
         "Labels need review: no sacrum in view: the levels are counted from the bottom body"),
        ("not recognised", (), "Labels need review: sacrum not recognised"),
        ("at the image edge", (), "Labels need review: the sacrum is at the image edge"),
        ("found", ("possible transitional anatomy: L5 looks sacral",),
         "Labels need review: possible transitional anatomy: L5 looks sacral"),
    ],
)  # fmt: skip
def test_labelling_warning_says_why_and_what_to_do(sacrum, reasons, expected) -> None:
    check = LabellingCheck(
        "1.2", 0.3, NEEDS_REVIEW, sacrum, reasons, ("L3 missing between L2 and L4",)
    )
    text = labelling_warning(replace(FINDINGS, labelling=(check,)))
    first, hint = text.split("\n")
    assert first.startswith(expected)
    assert first.count("sacrum") == expected.count("sacrum")  # said once, not twice
    assert first.endswith("; L3 missing between L2 and L4")
    assert "Shift labels" in hint and "Accept AI labels" in hint
    uncertain = replace(check, status=UNCERTAIN)
    assert labelling_warning(replace(FINDINGS, labelling=(uncertain,))).startswith(
        "Labels are uncertain: "
    )
    confident = replace(check, status="confident")
    assert labelling_warning(replace(FINDINGS, labelling=(confident,))) == ""
    assert labelling_warning(FINDINGS) == ""


def test_a_vertebra_row_says_how_its_column_was_numbered() -> None:
    check = LabellingCheck("1.2", 1.0, CONFIDENT, "found")
    (row, *_) = finding_rows(replace(FINDINGS, discs=(), labelling=(check,)))
    assert row.reasons == ("no sacrum in view", "levels " + numbering(check))
    assert "assuming five lumbar vertebrae" in row.reasons[1]


def test_a_fracture_the_heights_do_not_bear_out_reads_uncertain_with_why() -> None:
    """The fracture model said fractured, the body's heights say intact: the row reads
    "fracture?", uncertain, with both numbers; the summary line says the same."""
    why = (
        "the model says fractured (0.97) but heights A/M/P 24/23.5/24 mm, loss 2% (Genant grade 0)"
    )
    doubted = replace(V, label="L2", fracture=UNCERTAIN, fracture_probability=0.97,
                      fracture_reasons=(why,))  # fmt: skip
    (row,) = finding_rows(Findings("1.2", "cpu", vertebrae=(doubted,)))
    assert row.cells == ("L2", "fracture?", "0.97", "", "uncertain ?")
    assert row.review == UNCERTAIN and why in row.reasons
    summary = Findings("1.2", "cpu", vertebrae=(doubted,)).summary_lines()
    assert f"fracture uncertain: L2 (0.97; {why})" in summary
