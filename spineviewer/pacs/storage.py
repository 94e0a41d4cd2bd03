"""Where retrieved instances land: ``<folder>/<series uid>/<sop instance uid>.dcm``, each written
atomically (a partial file renamed), so a folder never holds half an instance."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from spineviewer.pacs.query import RetrieveResult

__all__ = ["InstanceWriter", "retrieve_root"]

#: DIMSE status "out of resources" for a C-STORE we could not write.
STATUS_CANNOT_WRITE = 0xA700


def _safe(uid: str) -> str:
    """A UID as a file name (a malformed one cannot climb out of the folder)."""
    text = "".join(ch for ch in uid.strip() if ch.isdigit() or ch == ".").strip(".")
    return text or "unknown"


class InstanceWriter:
    """Writes instances (from C-STORE events or DICOMweb parts) and counts them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.warnings: list[str] = []
        self._lock = threading.Lock()

    def write(self, series_uid: str, sop_uid: str, data: bytes) -> Path:
        """One encoded DICOM file (preamble, meta and data set) under the study folder."""
        target = self.folder / _safe(series_uid) / f"{_safe(sop_uid)}.dcm"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(data)
        partial.replace(target)
        with self._lock:
            self.count += 1
        return target

    def handle(self, event: Any) -> int:
        """pynetdicom's EVT_C_STORE handler: the instance exactly as received."""
        try:
            ds = event.dataset
            self.write(str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID), event.encoded_dataset())
        except Exception as exc:
            self.warnings.append(f"an instance could not be written: {exc}")
            return STATUS_CANNOT_WRITE
        return 0x0000

    def result(self, study_uid: str, expected: int | None, failed: int = 0) -> RetrieveResult:
        return RetrieveResult(
            study_uid, str(self.folder), self.count, expected, failed, tuple(self.warnings)
        )


def retrieve_root() -> Path:
    """Where retrieves land by default: ``pacs/`` in the workspace (``SPINEVIEWER_WORKSPACE``,
    else the user's data folder), never beside anybody's source files."""
    from spineviewer.annotations.store import RETRIEVED_FOLDER, default_root

    return default_root() / RETRIEVED_FOLDER
