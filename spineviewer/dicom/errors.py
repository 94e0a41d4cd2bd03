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

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"

    def to_json(self) -> dict[str, str]:
        """Plain-data form for ``spineviewer info --json``."""
        return {"path": self.path, "reason": self.reason}
