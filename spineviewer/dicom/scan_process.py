"""Reading headers in a separate process, for a viewer whose GUI thread must stay responsive.

A header scan is pure Python (pydicom parsing every file). Run on a thread of the viewer's
process it shares the GIL with the GUI thread, and every Python callback of a paint then
waits its turn: paints stretched past 50 ms while a 500-slice folder was read. Here one
persistent child process (started once, on demand) reads the headers and streams the frames
back in small pickled chunks; the calling thread only unpickles them, groups them into
studies (:func:`~spineviewer.dicom.grouping.group_frames`) and reports progress.

No Qt. The child is a ``spawn`` process (no forked Qt or thread state). When it cannot be
started or dies, :meth:`ScanProcess.scan` falls back to scanning on the calling thread, so
a scan never fails for this reason.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from spineviewer.background import lower_thread_priority
from spineviewer.dicom.errors import DicomLoadError, SkippedFile
from spineviewer.dicom.grouping import group_frames
from spineviewer.dicom.header import Frame, read_instance_frames
from spineviewer.dicom.scan import CancelCheck, ProgressCallback, ScanCancelled, scan
from spineviewer.dicom.sources import iter_sources
from spineviewer.dicom.study_tree import ScanResult

__all__ = ["CHUNK_FILES", "ScanProcess"]

#: Frames go back to the caller after at most this many files (or CHUNK_SECONDS): small
#: chunks, so unpickling one never holds the caller's GIL for long.
CHUNK_FILES = 24
CHUNK_SECONDS = 0.05
#: How often the caller checks for cancellation while it waits for the child.
POLL_SECONDS = 0.05


def _child(conn: Connection) -> None:
    """The child's loop: one ``("scan", number, path)`` request at a time, until
    ``("stop",)`` or the parent goes away (the pipe closes). A ``("cancel", number)`` that
    arrives after its scan ended is ignored. ``("ready",)`` first: its imports are done."""
    lower_thread_priority()  # below the viewer's GUI thread
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request[0] == "stop":
            return
        if request[0] == "scan":
            _scan_into(conn, request[1], request[2])


def _cancel_requested(conn: Connection, number: int) -> bool:
    while conn.poll():
        request = conn.recv()
        if request[0] == "cancel" and request[1] == number:
            return True
    return False


def _scan_into(conn: Connection, number: int, path: str) -> None:
    skipped: list[SkippedFile] = []
    chunk: list[Frame] = []
    count, sent_at, current = 0, time.monotonic(), ""

    def flush() -> None:
        nonlocal chunk, sent_at
        conn.send(("frames", count, current, chunk))
        chunk, sent_at = [], time.monotonic()

    try:
        for ref in iter_sources(path, skipped):
            if _cancel_requested(conn, number):
                conn.send(("cancelled", count))
                return
            count, current = count + 1, str(ref)
            try:
                chunk.extend(read_instance_frames(ref))
            except DicomLoadError as exc:
                skipped.append(SkippedFile.from_error(str(ref), exc))
            if len(chunk) >= CHUNK_FILES or time.monotonic() - sent_at >= CHUNK_SECONDS:
                flush()
        flush()
        conn.send(("done", count, skipped))
    except Exception as exc:  # reported to the caller, which scans on its own thread instead
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


class ScanProcess:
    """One child process that reads headers for whoever calls :meth:`scan` (one scan at a
    time; concurrent callers wait their turn). Started by :meth:`start` or the first call;
    calls made while it is still starting run on the calling thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._requests = 0
        self._ready = False
        self.failures = 0

    def start(self) -> None:
        """Start the child now: it imports pydicom (a second or two); until it is ready,
        scans run on the calling thread."""
        with self._lock:
            self._ensure_started()

    def wait_until_ready(self, timeout_s: float = 60.0) -> bool:
        """Start the child if needed and wait until it has finished importing."""
        with self._lock:
            return self._ready_child(timeout_s) is not None

    def _ready_child(self, wait_s: float = 0.0) -> Connection | None:
        """The child's connection once it has started and finished importing (waiting at
        most ``wait_s`` for that); None while it is still starting (the caller then works
        on its own thread rather than wait a second)."""
        conn = self._ensure_started()
        if conn is None or self._ready:
            return conn
        try:
            if conn.poll(wait_s) and conn.recv() == ("ready",):
                self._ready = True
        except (EOFError, OSError):
            self._close()
            return None
        return conn if self._ready else None

    def _ensure_started(self) -> Connection | None:
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._close()
        if self.failures:
            return None  # once broken, scans stay on the calling thread
        try:
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe()
            process = context.Process(
                target=_child, args=(child,), name="spineviewer-scan", daemon=True
            )
            process.start()
            child.close()
        except (OSError, RuntimeError, ValueError):
            self.failures += 1
            return None
        self._process, self._conn = process, parent
        return parent

    def scan(
        self,
        path: str | os.PathLike[str],
        progress: ProgressCallback | None = None,
        cancelled: CancelCheck | None = None,
    ) -> ScanResult:
        """Like :func:`~spineviewer.dicom.scan.scan`, with the headers read in the child."""
        with self._lock:
            conn = self._ready_child()
            if conn is not None:
                result = self._scan_with(conn, str(path), progress, cancelled)
                if result is not None:
                    return result
                self.failures += 1
                self._close()
        return scan(path, progress, cancelled)

    def _scan_with(
        self,
        conn: Connection,
        path: str,
        progress: ProgressCallback | None,
        cancelled: CancelCheck | None,
    ) -> ScanResult | None:
        """The result, or None when the child failed (the caller then scans itself)."""
        frames: list[Frame] = []
        self._requests += 1
        number = self._requests
        try:
            conn.send(("scan", number, path))
            asked_to_cancel = False
            while True:
                if cancelled is not None and cancelled() and not asked_to_cancel:
                    conn.send(("cancel", number))
                    asked_to_cancel = True
                if not conn.poll(POLL_SECONDS):
                    if not self._process.is_alive():
                        return None
                    continue
                message = conn.recv()
                kind = message[0]
                if kind == "frames":
                    frames.extend(message[3])
                    if progress is not None and message[1]:
                        progress(message[1], message[2])
                elif kind == "done":
                    if asked_to_cancel:  # it finished before it read the request
                        raise ScanCancelled(f"scan cancelled after {message[1]} files")
                    return ScanResult(studies=group_frames(frames), skipped=tuple(message[2]))
                elif kind == "cancelled":
                    raise ScanCancelled(f"scan cancelled after {message[1]} files")
                else:
                    return None
        except (EOFError, OSError, BrokenPipeError):
            return None

    def stop(self) -> None:
        """Stop the child (it also ends by itself when this process exits)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(("stop",))
            self._conn.close()
        if self._process is not None:
            self._process.join(timeout=2)
            if self._process.is_alive():
                self._process.kill()
        self._process, self._conn, self._ready = None, None, False
