"""Disc badges: each disc's state and probability beside it on the sagittal slices that pass
through it ("L4-L5 herniation 81% ?"), named as the reader's labels name the disc (after a
shift of the labels, the new name) and with the AI's review suffix. Only paints; the Findings
panel (:mod:`.analysis_ui`) hands in the findings and the labelled bodies."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainter

from spineviewer.ai.findings import NEEDS_REVIEW, UNCERTAIN, DiscFinding, Findings
from spineviewer.annotations.level_marks import BodyMark, nearest_disc, runs_across
from spineviewer.gui.annotate.drawing import METRICS, paint_text
from spineviewer.gui.annotate.review_style import suffix
from spineviewer.gui.viewport import ImageViewport

__all__ = ["BADGE_DISTANCE_MM", "STATE_COLORS", "badge_text", "paint_badges"]

#: A disc badge is drawn on a slice whose plane passes this close to the disc centre...
BADGE_DISTANCE_MM = 6.0
#: ... ending this far (about a disc's half width) to the side of the disc centre.
BADGE_OFFSET_MM = 22.0
STATE_COLORS = {"normal": "#90be6d", "bulge": "#f9c74f", "herniation": "#f94144"}


def badge_text(disc: DiscFinding, marks: Sequence[BodyMark]) -> str:
    """ "L4-L5 herniation 81% ?": the level the reader's labels give the disc (the AI's when
    none is near), its state and probability, and the review suffix."""
    level = nearest_disc(marks, disc.centre_mm) or disc.level
    p = disc.probabilities[disc.state]
    doubt = disc.review if disc.review in (UNCERTAIN, NEEDS_REVIEW) else ""
    return f"{level} {disc.state} {p:.0%}{suffix(doubt)}"


def paint_badges(
    vp: ImageViewport,
    painter: QPainter,
    findings: Findings,
    marks: Sequence[BodyMark],
    opacity: float,
) -> None:
    """The badges of ``findings``' discs on the slice in ``vp`` (none across the column: an
    axial slice has the disc's own proposal)."""
    info = vp.info
    if info is None or info.plane is None or info.frame is None:
        return
    plane = info.plane
    if info.frame.instance.study_uid != findings.study_uid or runs_across(plane, marks):
        return
    painter.setOpacity(opacity)
    spacing = info.pixel_spacing or (1.0, 1.0)
    mm_per_px = max(vp.vb.viewPixelSize()[0] * spacing[1], 1e-6)
    for disc in findings.discs:
        if abs(float(plane.distance(disc.centre_mm))) > BADGE_DISTANCE_MM:
            continue
        row, col = (float(v) for v in plane.to_pixel(disc.centre_mm))
        at = vp.image_to_widget(row, col)
        text = badge_text(disc, marks)
        color = QColor(STATE_COLORS.get(disc.state, "#e6e1c5"))
        painter.setPen(color)
        painter.setBrush(color)
        painter.drawEllipse(at, 3.0, 3.0)
        # right-aligned, ending beside the disc (its half width off the centre), so the text
        # never runs into the vertebra boxes; on the right when there is no room on the left
        width = METRICS.horizontalAdvance(text)
        left = at.x() - BADGE_OFFSET_MM / mm_per_px - 4 - width
        if left < 4:
            left = at.x() + BADGE_OFFSET_MM / mm_per_px + 4
        paint_text(painter, QPointF(left, at.y() - METRICS.height() / 2), [text], color)
    painter.setOpacity(1.0)
