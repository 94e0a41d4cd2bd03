"""Background jobs of the viewer, as plain functions run by :class:`~spineviewer.gui.workers.Job`.

No Qt here beyond the job's two callables: scanning paths, decoding every slice of the shown
series ahead of the user (prefetch), and loading a volume for MPR.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from spineviewer.dicom import ScanResult, Stack, StackPixels, Study, Volume
from spineviewer.dicom.grouping import group_frames
from spineviewer.dicom.scan import first_image
from spineviewer.dicom.scan_process import ScanProcess
from spineviewer.gui.workers import Cancelled, Progress, Work
from spineviewer.viewing.source import SliceSource

#: The viewer's header reader: a child process, so the GUI thread never competes with
#: pydicom's parsing for the GIL (:mod:`spineviewer.dicom.scan_process`).
SCANNER = ScanProcess()


def scan_paths(paths: Sequence[str | Path]) -> Work:
    """A job function that scans each path in turn and returns ``list[ScanResult]``."""

    def work(progress: Progress, cancelled: Cancelled) -> list[ScanResult]:
        results = []
        for number, path in enumerate(paths, start=1):
            prefix = f"{number}/{len(paths)} " if len(paths) > 1 else ""

            def on_file(done: int, current: str, prefix: str = prefix) -> None:
                progress(0, 0, f"Reading {prefix}headers: {done} files ({Path(current).name})")

            result = SCANNER.scan(path, on_file, cancelled)
            for stack in result.stacks():
                # Work out every slice's plane here, not on the GUI thread when it is shown.
                with contextlib.suppress(ValueError):
                    stack.plane_of(0)
            results.append(result)
        return results

    return work


def first_image_study(path: str | Path) -> Work:
    """A job function returning a one-image :class:`Study` of the first readable image under
    ``path`` (a preview while the whole folder is scanned), or None."""

    def work(progress: Progress, cancelled: Cancelled) -> Study | None:
        found = first_image(path)  # on this thread: the child may be busy with the scan
        if found is None or cancelled():
            return None
        studies = group_frames([found[0]])
        if not studies:
            return None
        # into the shared cache: showing it costs the GUI thread no decoding
        StackPixels(studies[0].series[0].stacks[0]).remember(0, found[1])
        return studies[0]

    return work


def prefetch(sources: Sequence[SliceSource]) -> Work:
    """A job function decoding every slice of ``sources`` into the shared cache."""

    def work(progress: Progress, cancelled: Cancelled) -> int:
        total = sum(len(s) for s in sources)
        done = 0
        for source in sources:
            for index in range(len(source)):
                if cancelled():
                    return done
                # A slice that cannot be decoded is reported by the viewport that shows it.
                with contextlib.suppress(Exception):
                    source.values(index)
                done += 1
                progress(done, total, f"Decoding {source.name}")
        return done

    return work


def load_volume(stack: Stack) -> Work:
    """A job function returning the stack's :class:`Volume` (for MPR)."""

    def work(progress: Progress, cancelled: Cancelled) -> Volume:
        def on_slice(done: int, total: int) -> None:
            progress(done, total, f"Loading volume {stack.name}")

        return StackPixels(stack).volume(on_slice, cancelled)

    return work
