"""The Findings panel shows a disc's measured posterior margin, and why a disc the measurement
contradicts is uncertain (:mod:`spineviewer.ai.pipelines.disc_check`), as it shows a
vertebra's heights and fracture reasons."""

from __future__ import annotations

from spineviewer.ai.disc_contour import DiscContour, SliceExtension
from spineviewer.ai.findings import CONFIDENT, UNCERTAIN, DiscFinding, Findings
from spineviewer.ai.pipelines.disc_check import checked
from spineviewer.gui.findings_rows import finding_rows

DISC = DiscFinding(
    "L4-L5", "herniation", {"normal": 0.1, "bulge": 0.1, "herniation": 0.8}, (0, 0, -25.0), ("1.2",)
)


def _row_of(extension: float) -> tuple[str, tuple[str, ...]]:
    contour = DiscContour(extension, 4.0, 24.0, (SliceExtension(0.0, extension),))
    disc = checked(DISC, contour)
    (row,) = finding_rows(Findings("1.2", "cpu", discs=(disc,)))
    return row.review, row.reasons


def test_a_contradicted_disc_says_why_once():
    review, reasons = _row_of(0.2)
    assert review == UNCERTAIN
    assert len(reasons) == 1
    assert reasons[0].startswith("the model says herniation (0.80) but no disc tissue")


def test_an_agreeing_disc_shows_its_measurement():
    review, reasons = _row_of(4.5)
    assert review == CONFIDENT
    assert reasons == ("its posterior margin reaches 4.5 mm beyond the line of the bodies' "
                       "posterior corners, over 4 of 24 mm measured left-right",)  # fmt: skip
