"""Problems found while reading DICOM: skipped files, load errors, warnings."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from pydicom.errors import BytesLengthException


class SpineViewerWarning(UserWarning):
    """Base class of warnings the project emits (tests turn them into errors)."""


class DicomLoadError(Exception):
    """A file or frame could not be read; the message names the file and the problem."""

    #: The file's StudyInstanceUID when its header could be read ("" otherwise): a refused
    #: file can still be counted against its study.
    study_uid: str = ""


class NotDicomError(DicomLoadError):
    """The file is not DICOM at all (a README, a thumbnail beside the images)."""


#: What pydicom raises, while parsing or when a value is first read, for a malformed file.
MALFORMED_DICOM = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    NotImplementedError,
    OverflowError,
    RecursionError,
    struct.error,
    zlib.error,
    BytesLengthException,
)

#: Longest text of a foreign exception quoted in a reason.
MAX_QUOTED = 240


def printable(text: str) -> str:
    """``text`` with line breaks and other control characters written as escapes (a file or
    zip member name quoted in a message may hold them)."""
    return "".join(repr(c)[1:-1] if not c.isprintable() and c != " " else c for c in text)


def printable_lines(text: str) -> str:
    """``text`` for a terminal: its line breaks kept, every other control character (an
    escape sequence in a SeriesDescription or PatientName) written as an escape."""
    return "\n".join(printable(line) for line in text.split("\n"))


def one_line(exc: BaseException) -> str:
    """A library's exception as a short one-line reason (its type when it has no text)."""
    text = " ".join(str(exc).split())
    if len(text) > MAX_QUOTED:
        text = text[: MAX_QUOTED - 3] + "..."
    return text or type(exc).__name__


@dataclass(frozen=True)
class SkippedFile:
    """A file that was not loaded, and why (shown to the user as is)."""

    path: str
    reason: str
    #: The study the file belongs to, when its header told ("" otherwise).
    study_uid: str = ""
    #: False for a file that is not DICOM at all (nothing of a study was lost with it).
    dicom: bool = True

    @classmethod
    def from_error(cls, path: str, exc: DicomLoadError) -> SkippedFile:
        """The skipped file ``path``, refused with ``exc``."""
        return cls(path, str(exc), exc.study_uid, not isinstance(exc, NotDicomError))

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"

    def to_json(self) -> dict[str, str]:
        """Plain-data form for ``spineviewer info --json``."""
        return {"path": self.path, "reason": self.reason}
