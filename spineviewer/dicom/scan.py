"""Header-only scan of a file, folder, zip archive or DICOMDIR into studies."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import numpy as np

from spineviewer.dicom.errors import DicomLoadError, SkippedFile
from spineviewer.dicom.grouping import group_frames
from spineviewer.dicom.header import Frame, read_instance_frames
from spineviewer.dicom.pixels import apply_modality, decode_stored, output_dtype
from spineviewer.dicom.sources import FileRef, iter_sources
from spineviewer.dicom.study_tree import ScanResult

#: ``progress(files_done, current_file)``; return value ignored.
ProgressCallback = Callable[[int, str], None]
#: Returns True when the caller wants the scan to stop early.
CancelCheck = Callable[[], bool]


class ScanCancelled(Exception):
    """The scan was cancelled by its caller."""


def read_frames(
    refs: Iterable[FileRef],
    skipped: list[SkippedFile],
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> list[Frame]:
    """Parse the header of every file; unreadable files go to ``skipped`` with the reason."""
    frames: list[Frame] = []
    for count, ref in enumerate(refs, start=1):
        if cancelled is not None and cancelled():
            raise ScanCancelled(f"scan cancelled after {count - 1} files")
        try:
            frames.extend(read_instance_frames(ref))
        except DicomLoadError as exc:
            skipped.append(SkippedFile.from_error(str(ref), exc))
        if progress is not None:
            progress(count, str(ref))
    return frames


def scan(
    path: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> ScanResult:
    """Find every DICOM image under ``path`` and group it into studies, series and stacks.

    Nothing is decoded and nothing is written. Files that are not DICOM images, or whose
    pixel data cannot be right (truncated, absurd size), are listed in ``skipped``.
    """
    skipped: list[SkippedFile] = []
    frames = read_frames(iter_sources(path, skipped), skipped, progress, cancelled)
    return ScanResult(studies=group_frames(frames), skipped=tuple(skipped))


#: A first image read with ``keep=True``, waiting for the next caller asking for the same path:
#: the splash's preview handed to the window's, so one start-up decodes it once (issue 24).
_kept: dict[str, tuple[Frame, np.ndarray]] = {}


def first_image(
    path: str | os.PathLike[str], keep: bool = False
) -> tuple[Frame, np.ndarray] | None:
    """The first decodable image under ``path``, without scanning the rest.

    A viewer shows this while :func:`scan` runs in the background, so the user sees an image
    at once even for a folder of thousands of files. Returns (frame, modality-LUT values).
    With ``keep`` the answer is also kept for the next call for the same path, which takes it
    instead of reading again (once: the call after that reads the files again).
    """
    key = os.path.abspath(path)
    kept = _kept.pop(key, None)
    if kept is not None:
        return kept
    skipped: list[SkippedFile] = []
    for ref in iter_sources(path, skipped):
        try:
            frames = read_instance_frames(ref)
            frame = frames[len(frames) // 2]
            values = apply_modality(decode_stored(frame), frame, output_dtype([frame]))
        except DicomLoadError:
            continue
        if keep:
            _kept.clear()
            _kept[key] = (frame, values)
        return frame, values
    return None
