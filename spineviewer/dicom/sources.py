"""Where DICOM files come from: plain files, folders (recursive), zip archives, DICOMDIR.

A :class:`FileRef` names one readable file, either on disk or as a member of a zip archive
(read in place, never extracted). Nothing here writes to the source.
"""

from __future__ import annotations

import io
import os
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pydicom
from pydicom.errors import InvalidDicomError

from spineviewer.dicom.errors import DicomLoadError, SkippedFile

#: Files that are never DICOM images, skipped silently (not reported as problems).
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: Largest zip member read into memory, bytes.
MAX_ZIP_MEMBER_BYTES = 2 * 1024**3


@dataclass(frozen=True, order=True)
class FileRef:
    """One file: a path on disk, or a member ``member`` of the zip archive at ``path``."""

    path: Path
    member: str | None = None

    def __str__(self) -> str:
        return f"{self.path}!{self.member}" if self.member is not None else str(self.path)

    @property
    def name(self) -> str:
        """Base name of the file (of the member inside a zip)."""
        return posixpath.basename(self.member) if self.member is not None else self.path.name

    def open(self) -> BinaryIO:
        """Open for binary reading (a zip member is read into memory).

        Raises
        ------
        DicomLoadError
            When the file (or archive) is gone or unreadable; the message names it.
        """
        try:
            if self.member is None:
                return open(self.path, "rb")
            with zipfile.ZipFile(self.path) as archive:
                return io.BytesIO(archive.read(self.member))
        except (OSError, zipfile.BadZipFile, KeyError) as exc:
            raise DicomLoadError(f"{self}: cannot open: {exc}") from exc

    def size(self) -> int:
        """Size in bytes."""
        if self.member is None:
            return self.path.stat().st_size
        with zipfile.ZipFile(self.path) as archive:
            return archive.getinfo(self.member).file_size


def unsafe_member_reason(name: str) -> str | None:
    """Why a zip member name would escape the extraction folder, or ``None`` when it is safe."""
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        return "absolute path escapes the archive"
    parts = [p for p in normalised.split("/") if p not in ("", ".")]
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else 1
        if depth < 0:
            return "path escapes the archive ('..')"
    return None


def _iter_zip(path: Path, skipped: list[SkippedFile]) -> Iterator[FileRef]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        skipped.append(SkippedFile(str(path), f"unreadable zip archive: {exc}"))
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            ref = FileRef(path, info.filename)
            reason = unsafe_member_reason(info.filename)
            if reason is None and info.file_size > MAX_ZIP_MEMBER_BYTES:
                reason = f"member of {info.file_size / 1024**3:.1f} GiB is too large"
            if reason is not None:
                skipped.append(SkippedFile(str(ref), f"zip member refused: {reason}"))
                continue
            if posixpath.basename(info.filename) in IGNORED_NAMES:
                continue
            yield ref


def dicomdir_references(dicomdir: Path, skipped: list[SkippedFile]) -> list[Path]:
    """Files a DICOMDIR names that exist; missing ones are added to ``skipped``."""
    try:
        ds = pydicom.dcmread(dicomdir)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        skipped.append(SkippedFile(str(dicomdir), f"unreadable DICOMDIR: {exc}"))
        return []
    root = dicomdir.parent
    found: list[Path] = []
    for record in ds.get("DirectoryRecordSequence", []):
        file_id = record.get("ReferencedFileID")
        if file_id is None:
            continue
        parts = [file_id] if isinstance(file_id, str) else list(file_id)
        candidate = _resolve_case_insensitive(root, parts)
        if candidate is None:
            skipped.append(
                SkippedFile(
                    str(root.joinpath(*parts)),
                    f"named in DICOMDIR {dicomdir} but the file is missing",
                )
            )
        else:
            found.append(candidate)
    return found


def _resolve_case_insensitive(root: Path, parts: list[str]) -> Path | None:
    """Resolve a DICOMDIR file ID; media often store upper-case IDs on case-sensitive disks."""
    current = root
    for part in parts:
        exact = current / part
        if exact.exists():
            current = exact
            continue
        try:
            matches = [p for p in current.iterdir() if p.name.upper() == part.upper()]
        except OSError:
            return None
        if not matches:
            return None
        current = matches[0]
    return current if current.is_file() else None


def iter_sources(path: str | os.PathLike[str], skipped: list[SkippedFile]) -> Iterator[FileRef]:
    """Every candidate file under ``path`` (file, folder, zip archive or DICOMDIR).

    Folders are walked recursively in sorted order; zip archives found inside folders are
    read in place. DICOMDIR files are not images: a DICOMDIR given directly yields only the
    files it names; one found in a folder is checked for missing references. Problems are
    appended to ``skipped``.
    """
    root = Path(path)
    if not root.exists():
        skipped.append(SkippedFile(str(root), "no such file or folder"))
        return
    if root.is_file():
        yield from _iter_file(root, skipped, explicit=True)
        return
    seen: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            file_path = Path(dirpath) / filename
            if filename in IGNORED_NAMES or file_path in seen:
                continue
            seen.add(file_path)
            yield from _iter_file(file_path, skipped, explicit=False)


def _iter_file(path: Path, skipped: list[SkippedFile], explicit: bool) -> Iterator[FileRef]:
    if path.name.upper() == "DICOMDIR":
        references = dicomdir_references(path, skipped)
        if explicit:
            yield from (FileRef(p) for p in references)
        return
    if not _looks_like_dicom(path) and zipfile.is_zipfile(path):
        yield from _iter_zip(path, skipped)
        return
    yield FileRef(path)


def _looks_like_dicom(path: Path) -> bool:
    """True when the file has the Part 10 preamble marker 'DICM' at offset 128."""
    try:
        with open(path, "rb") as fh:
            fh.seek(128)
            return fh.read(4) == b"DICM"
    except OSError:
        return False
