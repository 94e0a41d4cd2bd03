"""Calibrating a series on a known length in the window: the tool's icon, asking the drawn
line's true length, and removing a series' calibration.

The calibrate tool (:data:`~.controller.CALIBRATE_TOOL`) draws a line like the distance tool
but keeps no mark: :class:`CalibrationUi` gets the line, asks for its true length in mm and
has the controller calibrate the series (one undo step, :mod:`spineviewer.annotations.
calibration_edits`). Every length and area on the series then reads ``mm (calibrated)``; the
status bar says the factor (:meth:`~spineviewer.annotations.calibration.Calibration.describe`).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QInputDialog, QWidget

from spineviewer.annotations import Annotation
from spineviewer.annotations.calibration import Calibration
from spineviewer.annotations.measure import Scale, length_mm
from spineviewer.gui.annotate.controller import AnnotationController
from spineviewer.gui.annotate.controller import format_measurement as fmt
from spineviewer.gui.annotate.labelling import ICON_GREY
from spineviewer.gui.annotate.tools import AnnotationTools

#: The longest known length the dialog accepts, mm (a long-cassette radiograph is ~900 mm).
MAX_KNOWN_MM = 5000.0
#: The shortest, mm: any positive length a reader can type with two decimals.
MIN_KNOWN_MM = 0.01

#: Asks for the true length of a line that measures ``measured`` (text); None: cancelled.
LengthAsker = Callable[[QWidget | None, str, float], float | None]


def calibrate_icon() -> QIcon:
    """The tool's icon, drawn like the shipped line icons: a ruler over a sphere."""
    pixmap = QPixmap(48, 48)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(ICON_GREY), 3.0))
    painter.drawEllipse(QPointF(24, 30), 12.0, 12.0)
    painter.drawLine(QPointF(6, 10), QPointF(42, 10))
    for x, tick in ((6, 6), (15, 3), (24, 6), (33, 3), (42, 6)):
        painter.drawLine(QPointF(x, 10 - tick), QPointF(x, 10 + tick))
    painter.end()
    return QIcon(pixmap)


def ask_known_length(parent: QWidget | None, measured: str, default_mm: float) -> float | None:
    """The true length of the drawn line in mm, typed by the reader (positive: the dialog
    accepts nothing else); None when cancelled."""
    value, ok = QInputDialog.getDouble(
        parent,
        "Calibrate on a known length",
        f"The line measures {measured} by the image's spacing.\n"
        "Its true length in mm (a calibration sphere's diameter, a ruler's marks):",
        min(max(default_mm, MIN_KNOWN_MM), MAX_KNOWN_MM),
        MIN_KNOWN_MM,
        MAX_KNOWN_MM,
        2,
    )
    return value if ok and value > 0 else None


class CalibrationUi:
    """The calibrate tool's line, the true-length question and the calibration it makes."""

    def __init__(
        self, controller: AnnotationController, tools: AnnotationTools, parent: QWidget
    ) -> None:
        self.controller = controller
        self.parent = parent
        #: Asks for the true length (a dialog; tests put an answer here).
        self.ask_length: LengthAsker = ask_known_length
        tools.on_calibration_line = self.calibrate_line

    def calibrate_line(self, line: Annotation) -> Calibration | None:
        """Ask for ``line``'s true length and calibrate its series by it (one undo step);
        None when cancelled or refused (the reason in the status bar)."""
        c = self.controller
        own = length_mm(line, Scale(c.spacing_kind(line.image)))  # uncalibrated, as measured
        if not own.value > 0:
            c.message.emit("Not calibrated: the line has no length.")
            return None
        shown = length_mm(line, c.scale_of(line.image))  # the series' calibration, if any
        default = shown.value if shown.unit == "mm" else own.value
        known = self.ask_length(self.parent, fmt(own).removeprefix("Length "), default)
        if known is None:
            c.message.emit("Calibration cancelled.")
            return None
        return c.calibrate(line, known)
