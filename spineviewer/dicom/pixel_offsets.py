"""Where a DICOM file's pixel data lies, read from the bytes right after a header-only parse
(``pydicom.dcmread(..., stop_before_pixels=True)`` leaves the file there): whether the file
has pixels at all, the offset and length of native little-endian pixels (read straight into
arrays), and where encapsulated fragments start. Also whether a file without the Part 10
preamble still starts like a data set."""

from __future__ import annotations

import struct
from typing import BinaryIO

from pydicom.dataset import Dataset

__all__ = [
    "NATIVE_LITTLE_ENDIAN",
    "NOT_ENCAPSULATED",
    "PIXEL_ELEMENTS",
    "encapsulated_offset",
    "headerless_dicom",
    "locate_pixel_data",
    "pixel_data_follows",
]

#: Uncompressed little-endian syntaxes whose pixel bytes we read straight into arrays.
NATIVE_LITTLE_ENDIAN = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"})
#: Syntaxes other than the native little-endian ones whose pixel data is not encapsulated.
NOT_ENCAPSULATED = frozenset({"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"})
#: Elements (7FE0,xxxx) of Pixel Data, Float Pixel Data and Double Float Pixel Data.
PIXEL_ELEMENTS = frozenset({0x0010, 0x0008, 0x0009})


def headerless_dicom(fh: BinaryIO) -> bool:
    """True for a file without the Part 10 preamble that still starts like a DICOM data set.

    Old files often lack the preamble; we read them when they begin with a group 0008 tag.
    """
    start = fh.tell()
    head = fh.read(132)
    fh.seek(start)
    if len(head) >= 132 and head[128:132] == b"DICM":
        return False
    return len(head) >= 8 and head[:2] == b"\x08\x00" and head[3:4] == b"\x00"


def pixel_data_follows(fh: BinaryIO, ds: Dataset) -> bool:
    """False when a header-only read stopped elsewhere than at a pixel data element (at the
    end of the file, or at a later element): the file has no pixels. True when it did, and when
    that cannot be told (a deflated data set is read from an inflated copy)."""
    syntax = str(getattr(ds.file_meta, "TransferSyntaxUID", "")) if ds.file_meta else ""
    if syntax == "1.2.840.10008.1.2.1.99":
        return True
    start = fh.tell()
    head = fh.read(4)
    fh.seek(start)
    if len(head) < 4:
        return False
    return any(
        group == 0x7FE0 and element in PIXEL_ELEMENTS
        for group, element in (struct.unpack("<HH", head), struct.unpack(">HH", head))
    )


def encapsulated_offset(fh: BinaryIO, ds: Dataset) -> int | None:
    """Where the items of encapsulated Pixel Data start, right after a header-only read of a
    file in an encapsulated (explicit VR little endian) syntax; None otherwise."""
    syntax = str(getattr(ds.file_meta, "TransferSyntaxUID", "")) if ds.file_meta else ""
    if syntax in NATIVE_LITTLE_ENDIAN or syntax in NOT_ENCAPSULATED:
        return None
    start = fh.tell()
    head = fh.read(12)
    fh.seek(start)
    if len(head) < 12:
        return None
    tag, length = struct.unpack("<HH", head[:4]), struct.unpack("<I", head[8:12])[0]
    return start + 12 if tag == (0x7FE0, 0x0010) and length == 0xFFFFFFFF else None


def locate_pixel_data(fh: BinaryIO, ds: Dataset) -> tuple[int | None, int | None]:
    """Offset and length of the Pixel Data value right after a header-only read."""
    syntax = str(getattr(ds.file_meta, "TransferSyntaxUID", "")) if ds.file_meta else ""
    if syntax not in NATIVE_LITTLE_ENDIAN:
        return None, None
    start = fh.tell()
    head = fh.read(12)
    if len(head) < 8 or struct.unpack("<HH", head[:4]) != (0x7FE0, 0x0010):
        return None, None
    if syntax == "1.2.840.10008.1.2":  # implicit VR: tag, 4-byte length
        length = struct.unpack("<I", head[4:8])[0]
        value_offset = start + 8
    elif head[4:6] in (b"OB", b"OW", b"UN", b"OD", b"OF", b"OL", b"OV"):
        length = struct.unpack("<I", head[8:12])[0]
        value_offset = start + 12
    else:
        return None, None
    if length == 0xFFFFFFFF:  # encapsulated data in a native syntax: let pydicom decide
        return None, None
    return value_offset, length
