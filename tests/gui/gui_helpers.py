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


def shown_viewport(qtbot, study, series: int = 0, name: str = ""):
    """A shown 600 x 600 viewport with ``study``'s series ``series`` in it."""
    from spineviewer.gui.viewport import ImageViewport
    from spineviewer.viewing.source import StackListSource

    vp = ImageViewport(name=name) if name else ImageViewport()
    qtbot.addWidget(vp)
    vp.resize(600, 600)
    vp.show()
    qtbot.waitExposed(vp)
    vp.set_source(StackListSource.from_stacks(study.series[series].stacks), study.info)
    return vp


def open_analysed(qtbot, folder):
    """:func:`open_window` with the study analysed by the real models on the CPU."""
    win = open_window(qtbot, folder)
    win.settings.ai_provider = "cpu"
    job = win.analysis.analyze_current()
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=120000):
        pass
    qtbot.waitUntil(lambda: not win.busy(), timeout=60000)
    return win


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
