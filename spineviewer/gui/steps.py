"""Work on the GUI thread in steps, one per event-loop turn, so input and paint run between
them (opening a study: the annotation workspace, the hanging layout, then each viewport).

The turns are a zero-interval timer's, not ``QTimer.singleShot(0)``'s: Qt 6 posts those as
events, and events posted while posted events are delivered go out in the same pass, so a
chain of them ran back to back and starved timers and paints (a 5 ms timer waited 50 ms).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class StepQueue(QObject):
    """Steps run in order, one per turn; a failing step does not stop the ones after it.
    ``on_empty`` runs after the last step."""

    def __init__(self, on_empty: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._steps: list[Callable[[], None]] = []
        self._on_empty = on_empty
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_next)

    def __len__(self) -> int:
        return len(self._steps)

    def defer(self, step: Callable[[], None]) -> None:
        """Run ``step`` on a later turn, after the steps already waiting."""
        self._steps.append(step)
        if not self._timer.isActive():
            self._timer.start()

    def _run_next(self) -> None:
        try:
            if self._steps:
                self._steps.pop(0)()
        finally:
            if self._steps:
                self._timer.start()
            else:
                self._on_empty()
