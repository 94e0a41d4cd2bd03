"""How an annotation shows its review state and a model's doubt: line pattern, colour, text.

Two things are drawn at once and kept apart:

- the review state, decided by a person: an AI proposal is dashed until accepted; accepted,
  edited and human marks are solid; rejected ones dotted and dim;
- the model's doubt about a proposal it has not had reviewed yet
  (:attr:`~spineviewer.annotations.Annotation.pending_review`): *uncertain* proposals have a
  dash-dot line and "?" after their label ("L3 ?"); proposals that *need review* (no sacrum in
  view, possible transitional anatomy, a missed body) a long-dash-dot-dot line, the amber
  warning colour, a "!" badge and "(review)" after the label ("L3 (review)").

So a confident proposal (dashed, "L3"), an uncertain one (dash-dot, "L3 ?") and one needing
review (dash-dot-dot, amber, "!", "L3 (review)") differ by text, line and colour, and all
three differ from an accepted mark (solid). :data:`LEGEND` lists them for Help > Shortcuts.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPolygonF

from spineviewer.annotations.annotation import NEEDS_REVIEW, UNCERTAIN, Status

__all__ = [
    "LEGEND",
    "REVIEW_COLOR",
    "REVIEW_TEXT",
    "LegendEntry",
    "paint_badge",
    "review_pen",
    "suffix",
]

#: The warning colour of marks that need review (no vertebra label uses it).
REVIEW_COLOR = QColor("#ffa000")
#: Dash patterns (in pen widths) of proposals by review need.
PATTERNS: dict[str, list[float]] = {
    "": [4.0, 3.0],
    UNCERTAIN: [4.0, 3.0, 1.0, 3.0],
    NEEDS_REVIEW: [9.0, 3.0, 1.5, 3.0, 1.5, 3.0],
}
#: What a person reads after the label.
SUFFIXES = {"": "", UNCERTAIN: " ?", NEEDS_REVIEW: " (review)"}
#: The review need in words (panels, tables).
REVIEW_TEXT = {"": "confident", "confident": "confident", UNCERTAIN: "uncertain ?",
               NEEDS_REVIEW: "needs review"}  # fmt: skip
BADGE_PX = 12.0


def suffix(pending: str) -> str:
    """ " ?" for an uncertain proposal, " (review)" for one that needs review, else ""."""
    return SUFFIXES.get(pending, "")


def review_pen(color: QColor, status: Status, pending: str, selected: bool = False) -> QPen:
    """The outline pen of an annotation in review state ``status`` with the pending review
    need ``pending`` (:attr:`~spineviewer.annotations.Annotation.pending_review`)."""
    if pending == NEEDS_REVIEW:
        color = REVIEW_COLOR
    width = 2.0 if selected or pending == NEEDS_REVIEW else 1.5
    pen = QPen(color, width)
    pen.setCosmetic(True)
    if status == Status.PROPOSED:
        pen.setDashPattern(PATTERNS.get(pending, PATTERNS[""]))
    elif status == Status.REJECTED:
        pen.setStyle(Qt.PenStyle.DotLine)
    return pen


def paint_badge(painter: QPainter, at: QPointF) -> float:
    """The amber "!" triangle of a mark that needs review, its left corner at ``at``'s
    height-centre; returns its width (the text goes after it)."""
    s = BADGE_PX
    x, y = at.x(), at.y()
    triangle = QPolygonF([QPointF(x, y + s), QPointF(x + s / 2, y), QPointF(x + s, y + s)])
    painter.setPen(QPen(QColor(0, 0, 0, 200), 1.0))
    painter.setBrush(QBrush(REVIEW_COLOR))
    painter.drawPolygon(triangle)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    font = QFont("DejaVu Sans", 7)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#000000"))
    painter.drawText(QPointF(x + s / 2 - 1.5, y + s - 1.5), "!")
    return s + 3.0


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: how a mark looks, and what it means."""

    status: Status
    pending: str
    looks: str
    meaning: str


LEGEND: tuple[LegendEntry, ...] = (
    LegendEntry(Status.ACCEPTED, "", "Solid line, \"L3\"",
                "Your marks, and AI proposals accepted or edited"),
    LegendEntry(Status.PROPOSED, "", "Dashed line, \"L3\", \"proposed 93%\"",
                "AI proposal, confident, waiting for Accept / Reject"),
    LegendEntry(Status.PROPOSED, UNCERTAIN, "Dash-dot line, \"L3 ?\"",
                "AI proposal the model is unsure of"),
    LegendEntry(Status.PROPOSED, NEEDS_REVIEW, "Amber dash-dot-dot line, \"!\", \"L3 (review)\"",
                "AI proposal to confirm: e.g. no sacrum in view or possible transitional "
                "anatomy (the level names may be one off: Annotate > Shift labels)"),
    LegendEntry(Status.REJECTED, "", "Dotted, dim", "Rejected (kept, not exported)"),
)  # fmt: skip
