"""Modality LUT and VOI LUT Sequence items, checked and read while their file is parsed.

A LUT item keeps only what the pixel pipeline needs: LUTDescriptor (entries, first mapped
value, bits) and LUTData as plain US values. Reading LUTData now matters: its VR is ambiguous
(US or OW), and an item taken out of its file can no longer tell its byte order, so pydicom
cannot apply it later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from spineviewer.dicom.errors import DicomLoadError

_DESCRIPTOR = 0x00283002
_DATA = 0x00283006
_TYPE = 0x00283004
_EXPLANATION = 0x00283003


def checked_lut(item: Dataset, keyword: str, little_endian: bool) -> Dataset:
    """A clean copy of one LUT item; DicomLoadError says what is wrong with it.

    ``keyword`` (``ModalityLUTSequence``...) prefixes the messages; ``little_endian`` is the
    byte order of the file, for LUTData stored as OW.
    """
    descriptor = _ints(item.get("LUTDescriptor"), f"{keyword} LUTDescriptor")
    if len(descriptor) != 3:
        raise DicomLoadError(f"{keyword} LUTDescriptor has {len(descriptor)} values, not 3")
    entries, first, bits = descriptor
    entries = entries or 65536  # 0 means 2**16 entries (PS3.3 C.11.1.1)
    if bits not in (8, 16):
        raise DicomLoadError(f"{keyword} LUTDescriptor: {bits}-bit entries (expected 8 or 16)")
    raw = item.get("LUTData")
    if isinstance(raw, bytes | bytearray):
        raw = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<u2" if little_endian else ">u2")
    data = _ints(raw, f"{keyword} LUTData")
    if len(data) < entries:
        raise DicomLoadError(
            f"{keyword} LUTData has {len(data)} values for {entries} LUTDescriptor entries"
        )
    if any(not 0 <= v < 1 << bits for v in data[:entries]):  # also refuses SS negatives
        raise DicomLoadError(f"{keyword} LUTData values do not fit in {bits} bits")
    clean = Dataset()
    clean.add_new(_DESCRIPTOR, "SS" if first < 0 else "US", [entries % 65536, first, bits])
    clean.add_new(_DATA, "US", list(data[:entries]))
    for tag, vr in ((_TYPE, "LO"), (_EXPLANATION, "LO")):
        value = item.get(tag)
        if value is not None and isinstance(value.value, str):
            clean.add_new(tag, vr, value.value)
    return clean


def _ints(value: Any, what: str) -> list[int]:
    """16-bit integers, US or SS (one value, a list, or an array), else DicomLoadError."""
    if value is None:
        raise DicomLoadError(f"{what} is missing")
    values: Iterable[Any] = value if _is_many(value) else [value]
    try:
        numbers = [int(v) for v in values]
    except (TypeError, ValueError, OverflowError):
        raise DicomLoadError(f"{what} is not a list of numbers") from None
    if any(not -0x8000 <= n <= 0xFFFF for n in numbers):
        raise DicomLoadError(f"{what} has values outside the 16-bit range")
    return numbers


def _is_many(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray) or (
        hasattr(value, "__iter__") and not isinstance(value, str | bytes | bytearray)
    )
