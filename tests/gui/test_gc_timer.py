"""The viewer's garbage collection runs from the event loop, never by itself inside a Qt call."""

from __future__ import annotations

import gc

from spineviewer.gui.gc_timer import EventLoopCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_collector_turns_automatic_collection_off_and_collects_from_its_timer(qtbot) -> None:
    gc.enable()
    collector = EventLoopCollector(interval_ms=20)
    try:
        assert not gc.isenabled()
        for _ in range(collector.thresholds[0] * 2):
            _Cycle()  # cyclic garbage: only a collection frees it
        assert gc.get_count()[0] > collector.thresholds[0]
        qtbot.waitUntil(lambda: gc.get_count()[0] < collector.thresholds[0], timeout=2000)
        assert collector.check() is None  # nothing over its threshold now
    finally:
        collector.stop()
    assert gc.isenabled()
    gc.disable()  # as the GUI tests' fixture keeps it during a test
