"""Python's cyclic garbage collector run from the Qt event loop only.

Left automatic, the collector runs whenever allocations cross its threshold, which can be in
the middle of a Qt call: a signal being disconnected under Qt's connection lock, a Python
override being looked up. If that collection frees the last reference to a QObject wrapper,
the QObject's destructor asks for the same lock and the GUI thread deadlocks (seen: pyqtgraph
moving an item between views while a collection freed an earlier window's objects).

:class:`EventLoopCollector` turns automatic collection off and runs it from a timer instead,
between events, when the generation counts pass the usual thresholds: the same amount of
collecting, at a point where no Qt lock is held.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

__all__ = ["INTERVAL_MS", "EventLoopCollector"]

#: How often the counts are looked at (a young-generation pass takes well under 1 ms).
INTERVAL_MS = 500


class EventLoopCollector(QObject):
    """Runs ``gc.collect(generation)`` from the event loop when the counts ask for it."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int | None:
        """Collect the oldest generation whose count is over its threshold; which one, or
        None when none is."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                gc.collect(generation)
                return generation
        return None

    def stop(self) -> None:
        """Back to automatic collection."""
        self.timer.stop()
        gc.enable()
