"""Long work off the GUI thread: a job runs a plain function in a QThread and reports back.

The function gets two callables, ``progress(done, total, text)`` and ``cancelled() -> bool``;
it has no Qt in it. Results, errors and progress come back to the GUI thread as queued
signals, so a slot never runs on the worker thread.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from spineviewer.background import lower_thread_priority

Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]
Work = Callable[[Progress, Cancelled], Any]

#: Progress signals closer together than this are dropped (the bar cannot show them anyway).
PROGRESS_INTERVAL_S = 0.05


class _Runner(QThread):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def run(self) -> None:
        lower_thread_priority()  # the GUI thread first (Linux; elsewhere the start priority)
        self._job._execute()


class Job(QObject):
    """One background task with progress and cancel.

    Signals (all delivered on the GUI thread): ``progress(done, total, text)``,
    ``succeeded(result)``, ``failed(message)``, ``cancelled()``, and ``finished()`` after any
    of the three.
    """

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self._work = work
        self._cancel = threading.Event()
        self._last_progress = 0.0
        self._thread = _Runner(self)
        self._thread.finished.connect(self._on_thread_finished)
        self.done = False

    def start(self) -> Job:
        """Start the work on its own thread, below the GUI thread's priority; returns self."""
        self._thread.start(QThread.Priority.LowPriority)
        return self

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until the thread ends (tests and shutdown only)."""
        return self._thread.wait(timeout_ms)

    def _report(self, done: int, total: int, text: str) -> None:
        now = time.monotonic()
        final = 0 < total <= done  # the last report always goes through
        if not final and now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self.progress.emit(done, total, text)

    def _execute(self) -> None:
        try:
            result = self._work(self._report, self._cancel.is_set)
        except Exception as exc:  # every failure goes back as a message, never a crash
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                self.failed.emit(f"{self.title}: {detail}")
            return
        if self._cancel.is_set():
            self.cancelled.emit()
        else:
            self.succeeded.emit(result)

    def _on_thread_finished(self) -> None:
        self.done = True
        self.finished.emit()
