"""Real input events for GUI tests (what qtbot does not offer)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent


def wheel(
    widget,
    steps: int,
    pos: QPoint | None = None,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """Send a real wheel event: ``steps`` notches away from the user (positive) or towards."""
    target = widget.viewport() if hasattr(widget, "viewport") else widget
    p = QPointF(pos if pos is not None else target.rect().center())
    event = QWheelEvent(
        p,
        QPointF(target.mapToGlobal(p.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QCoreApplication.sendEvent(target, event)


def open_window(qtbot, folder):
    """A shown main window with ``folder`` opened and loaded."""
    from spineviewer.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 800)
    win.show()
    qtbot.waitExposed(win)
    win.open_paths([folder])
    qtbot.waitUntil(
        lambda: not win.busy() and win.grid.viewports[0].source is not None, timeout=60000
    )
    return win
