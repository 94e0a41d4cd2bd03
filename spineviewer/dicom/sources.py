"""Where DICOM files come from: plain files, folders (recursive), zip archives, DICOMDIR.

A :class:`FileRef` names one readable file, either on disk or as a member of a zip archive
(read in place, never extracted). Nothing here writes to the source.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

from spineviewer.dicom.errors import (
    MALFORMED_DICOM,
    DicomLoadError,
    SkippedFile,
    one_line,
    printable,
)

#: Files that are never DICOM images, skipped silently (not reported as problems).
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: Largest zip member read into memory, bytes.
MAX_ZIP_MEMBER_BYTES = 2 * 1024**3
#: Members above ZIP_RATIO_FROM_BYTES that expand more than this many times are refused as zip
#: bombs (DICOM images deflate a few times over; zeros deflate about 1000 times).
MAX_ZIP_RATIO = 100
ZIP_RATIO_FROM_BYTES = 64 * 1024**2
#: Chunk in which a zip member is inflated (its declared size is never trusted for memory).
_ZIP_CHUNK = 1024**2
_READ_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: What zipfile raises for a damaged, encrypted or unsupported archive or member.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    RuntimeError,  # encrypted; NotImplementedError (unknown compression) is one too
    zlib.error,
)


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
                return io.BytesIO(_read_member(archive, archive.getinfo(self.member)))
        except ZIP_ERRORS as exc:
            raise DicomLoadError(f"{printable(str(self))}: cannot open: {one_line(exc)}") from exc

    def size(self) -> int:
        """Size in bytes."""
        if self.member is None:
            return self.path.stat().st_size
        with zipfile.ZipFile(self.path) as archive:
            return archive.getinfo(self.member).file_size


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, inflated chunk by chunk and never past its checked declared size."""
    reason = refused_member_reason(info)
    if reason is not None:
        raise ValueError(f"member refused: {reason}")
    out = bytearray()
    with archive.open(info) as member:
        while chunk := member.read(_ZIP_CHUNK):  # zipfile stops at the declared size
            out += chunk
    if len(out) != info.file_size:
        raise zipfile.BadZipFile(f"member is {len(out)} bytes, its header says {info.file_size}")
    return bytes(out)


def refused_member_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a member is not read (unsafe name, link, compression, size, ratio), or ``None``."""
    unsafe = unsafe_member_reason(info.filename)
    if unsafe is not None:
        return unsafe
    if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):  # made on Unix
        return "symbolic link"
    if info.compress_type not in _READ_METHODS:
        # bzip2 and lzma inflate a whole block at once, so memory cannot be bounded
        return f"compression method {info.compress_type} is not read (only stored and deflate)"
    if info.file_size > MAX_ZIP_MEMBER_BYTES:
        return f"member of {info.file_size / 1024**3:.1f} GiB is too large"
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > ZIP_RATIO_FROM_BYTES and ratio > MAX_ZIP_RATIO:
        return (
            f"expands {ratio:.0f} times ({info.compress_size} bytes to "
            f"{info.file_size / 1024**2:.0f} MiB): a zip bomb?"
        )
    return None


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
    except ZIP_ERRORS as exc:
        skipped.append(SkippedFile(str(path), f"unreadable zip archive: {one_line(exc)}"))
        return
    with archive:
        infos = archive.infolist()
        last = {info.filename: info for info in infos}  # what reading a name gives
        for info in infos:
            if info.is_dir():
                continue
            ref = FileRef(path, info.filename)
            reason = refused_member_reason(info)
            if reason is None and last[info.filename] is not info:
                reason = "duplicate name (a later member has the same name)"
            if reason is not None:
                skipped.append(SkippedFile(str(ref), f"zip member refused: {reason}"))
                continue
            name = posixpath.basename(info.filename)
            if name in IGNORED_NAMES or name.upper() == "DICOMDIR":  # an index, not an image
                continue
            yield ref


def dicomdir_references(dicomdir: Path, skipped: list[SkippedFile]) -> list[Path]:
    """Files a DICOMDIR names that exist; missing ones are added to ``skipped``, and so are
    references that would leave the DICOMDIR's folder."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            file_ids = _referenced_file_ids(pydicom.dcmread(dicomdir))
    except (InvalidDicomError, *MALFORMED_DICOM) as exc:
        skipped.append(SkippedFile(str(dicomdir), f"unreadable DICOMDIR: {one_line(exc)}"))
        return []
    root = dicomdir.parent
    found: list[Path] = []
    for parts in file_ids:
        problem = _file_id_problem(parts)
        if problem is not None:
            shown = "\\".join(parts)
            skipped.append(SkippedFile(str(dicomdir), f"ReferencedFileID {shown!r} {problem}"))
            continue
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


def _referenced_file_ids(ds: pydicom.Dataset) -> list[list[str]]:
    """The ReferencedFileID of every directory record that has one, as path components."""
    records = ds.get("DirectoryRecordSequence")
    ids = []
    for record in records if isinstance(records, Sequence) else []:
        file_id = record.get("ReferencedFileID")
        if file_id is None or file_id == "":
            continue
        parts = list(file_id) if isinstance(file_id, MultiValue | list) else [file_id]
        ids.append([p if isinstance(p, str) else repr(p) for p in parts])
    return ids


def _file_id_problem(parts: list[str]) -> str | None:
    """Why a file ID cannot name a file below the DICOMDIR, or ``None``."""
    for part in parts:
        if part in ("", ".", "..") or any(c in part for c in "/\\:\0"):
            return "does not name a file inside the DICOMDIR's folder"
    return None


def _resolve_case_insensitive(root: Path, parts: list[str]) -> Path | None:
    """Resolve a DICOMDIR file ID; media often store upper-case IDs on case-sensitive disks."""
    current = root
    try:
        for part in parts:
            exact = current / part
            if exact.exists():
                current = exact
                continue
            matches = [p for p in current.iterdir() if p.name.upper() == part.upper()]
            if not matches:
                return None
            current = matches[0]
        return current if current.is_file() else None
    except (OSError, ValueError):  # unreadable folder, or a name the file system refuses
        return None


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
    if not root.is_dir():
        if _special_file(root, skipped):
            return
        yield from _iter_file(root, skipped, explicit=True)
        return

    def unreadable(error: OSError) -> None:
        reason = f"folder cannot be read ({error.strerror or error}): its files were not loaded"
        skipped.append(SkippedFile(str(error.filename or root), reason, dicom=False))

    seen: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames.sort()
        for filename in sorted(filenames):
            file_path = Path(dirpath) / filename
            if filename in IGNORED_NAMES or file_path in seen:
                continue
            seen.add(file_path)
            if _special_file(file_path, skipped):
                continue
            yield from _iter_file(file_path, skipped, explicit=False)


def _special_file(path: Path, skipped: list[SkippedFile]) -> bool:
    """True (and ``path`` recorded as skipped) unless it is, or links to, a regular file: a
    FIFO would block the scan forever, a link to /dev/zero would be read without end."""
    try:
        mode = path.stat().st_mode  # follows symbolic links: the link's target decides
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror or exc})"
        skipped.append(SkippedFile(str(path), reason, dicom=False))
        return True
    if stat.S_ISREG(mode):
        return False
    kind = (
        "a FIFO" if stat.S_ISFIFO(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )  # fmt: skip
    skipped.append(SkippedFile(str(path), f"{kind}, not a file: not read", dicom=False))
    return True


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
