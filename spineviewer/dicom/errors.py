"""Problems found while reading DICOM: skipped files, load errors, warnings."""

from __future__ import annotations

from dataclasses import dataclass


class SpineViewerWarning(UserWarning):
    """Base class of warnings the project emits (tests turn them into errors)."""


class DicomLoadError(Exception):
    """A file or frame could not be read; the message names the file and the problem."""


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
