"""Disc badges: each disc's state and probability beside it on the sagittal slices that pass
through it ("L4-L5 herniation 81% ?"), named as the reader's labels name the disc (after a
shift of the labels, the new name) and with the AI's review suffix. Only paints; the Findings
panel (:mod:`.analysis_ui`) hands in the findings and the labelled bodies.

The state is told three ways, never by colour alone: the word, the colour (the theme's
colour-blind safe state scheme) and the marker's shape (a circle for normal, a diamond for a
bulge, a triangle for a herniation). The text joins the viewport's label board, so it goes
left of the disc where that is free and never over another label.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF

from spineviewer.ai.findings import NEEDS_REVIEW, UNCERTAIN, DiscFinding, Findings
from spineviewer.annotations.level_marks import BodyMark, nearest_disc, runs_across
from spineviewer.gui import theme
from spineviewer.gui.annotate.drawing import SHADOW, Label, board_for
from spineviewer.gui.annotate.review_style import suffix
from spineviewer.gui.viewport import ImageViewport
from spineviewer.viewing.label_layout import Rect

__all__ = ["BADGE_DISTANCE_MM", "MARKERS", "STATE_COLORS", "badge_text", "paint_badges"]

#: A disc badge is drawn on a slice whose plane passes this close to the disc centre...
BADGE_DISTANCE_MM = 6.0
#: ... ending this far (about a disc's half width) to the side of the disc centre.
BADGE_OFFSET_MM = 22.0
#: The state colours (one scheme with the disc annotations: :data:`theme.STATE_COLORS`).
STATE_COLORS = theme.STATE_COLORS
#: The marker's shape by state: the state shows without its colour too.
MARKERS = {"normal": "circle", "bulge": "diamond", "herniation": "triangle"}
#: Half the marker's size, px.
MARKER_PX = 4.5


def badge_text(disc: DiscFinding, marks: Sequence[BodyMark]) -> str:
    """ "L4-L5 herniation 81% ?": the level the reader's labels give the disc (the AI's when
    none is near), its state and probability, and the review suffix."""
    level = nearest_disc(marks, disc.centre_mm) or disc.level
    p = disc.probabilities[disc.state]
    doubt = disc.review if disc.review in (UNCERTAIN, NEEDS_REVIEW) else ""
    return f"{level} {disc.state} {p:.0%}{suffix(doubt)}"


def paint_marker(painter: QPainter, at: QPointF, state: str, color: QColor) -> None:
    """The state's marker at ``at``: a circle, diamond or triangle, dark-edged."""
    r = MARKER_PX
    painter.setPen(QPen(SHADOW, 1.0))
    painter.setBrush(QBrush(color))
    shape = MARKERS.get(state, "circle")
    x, y = at.x(), at.y()
    if shape == "diamond":
        points = [(x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)]
        painter.drawPolygon(QPolygonF([QPointF(*p) for p in points]))
    elif shape == "triangle":
        points = [(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)]
        painter.drawPolygon(QPolygonF([QPointF(*p) for p in points]))
    else:
        painter.drawEllipse(at, r, r)


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
    board = board_for(vp)
    for disc in findings.discs:
        if abs(float(plane.distance(disc.centre_mm))) > BADGE_DISTANCE_MM:
            continue
        row, col = (float(v) for v in plane.to_pixel(disc.centre_mm))
        at = vp.image_to_widget(row, col)
        color = QColor(STATE_COLORS.get(disc.state, theme.OVERLAY_TEXT_COLOR))
        paint_marker(painter, at, disc.state, color)
        # beside the disc (its half width off the centre), left first, so the text never runs
        # into the vertebra boxes and their labels on the right
        half = BADGE_OFFSET_MM / mm_per_px
        anchor = Rect(at.x() - half, at.y() - MARKER_PX, 2 * half, 2 * MARKER_PX)
        label = Label(
            (badge_text(disc, marks),), color, anchor, opacity=opacity, rank=1, side="left"
        )
        board.add(vp, label)
    painter.setOpacity(1.0)
