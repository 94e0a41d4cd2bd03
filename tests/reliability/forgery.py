"""Forged DICOM for the reliability suite: one element of one real file made missing, zero,
negative, NaN, huge, of the wrong VR, unparsable or of the wrong length.

:data:`FORGERIES` maps ``(keyword, kind)`` to an edit of the file at a path (in place: the tests
call it on their own copy). A pair that has no meaning (a NaN in a binary US element, a missing
element the phantom does not have) is not in the table. Values are written as raw bytes with
pydicom's :class:`RawDataElement`, past its checks, as a broken archive would deliver them; the
declared length of a huge Pixel Data element is patched in the bytes afterwards.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag
from pydicom.uid import generate_uid

KINDS = (
    "missing",
    "zero",
    "negative",
    "nan",
    "huge",
    "wrong-vr",
    "unparsable",
    "wrong-length",
)

#: The elements the display and the geometry need, by how their value is written.
US_ELEMENTS = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
)
#: DS elements and the number of values each has.
DS_ELEMENTS = {
    "PixelSpacing": 2,
    "ImagePositionPatient": 3,
    "ImageOrientationPatient": 6,
    "SliceThickness": 1,
    "RescaleSlope": 1,
    "RescaleIntercept": 1,
    "WindowCenter": 1,
    "WindowWidth": 1,
}
#: Elements the phantom's MR files do not have: "missing" is the intact file for them.
ABSENT = {"RescaleSlope", "RescaleIntercept", "NumberOfFrames"}

Edit = Callable[[Path], None]


def _put(path: Path, keyword: str, value: bytes, vr: str | None = None) -> None:
    """``keyword`` holds ``value`` byte for byte, with ``vr`` (default: the dictionary's)."""
    ds = pydicom.dcmread(path)
    number = tag_for_keyword(keyword)
    assert number is not None, keyword
    tag = Tag(number)
    vr = vr or dictionary_VR(tag)
    ds._dict[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True)  # type: ignore[attr-defined]
    ds.save_as(path)


def _text(values: list[str]) -> bytes:
    raw = "\\".join(values).encode("latin-1")
    return raw + b" " * (len(raw) % 2)


def _remove(path: Path, keyword: str) -> None:
    ds = pydicom.dcmread(path)
    delattr(ds, keyword)
    ds.save_as(path)


def _us(keyword: str) -> dict[str, Edit]:
    return {
        "missing": lambda p: _remove(p, keyword),
        "zero": lambda p: _put(p, keyword, struct.pack("<H", 0)),
        "negative": lambda p: _put(p, keyword, struct.pack("<h", -32768)),  # as US: 32768
        "huge": lambda p: _put(p, keyword, struct.pack("<H", 65535)),
        "wrong-vr": lambda p: _put(p, keyword, struct.pack("<d", 16.5), "FD"),
        "unparsable": lambda p: _put(p, keyword, b"16abc\x00", "LO"),
        "wrong-length": lambda p: _put(p, keyword, b"\x10\x00\x01"),  # 3 bytes
    }


def _ds(keyword: str, count: int) -> dict[str, Edit]:
    wrong_count = count + 1 if count < 2 else count - 1
    edits: dict[str, Edit] = {
        "zero": lambda p: _put(p, keyword, _text(["0"] * count)),
        "negative": lambda p: _put(p, keyword, _text(["-0.75"] * count)),
        "nan": lambda p: _put(p, keyword, _text(["NaN"] * count)),
        "huge": lambda p: _put(p, keyword, _text(["1e308"] * count)),
        "wrong-vr": lambda p: _put(p, keyword, struct.pack(f"<{count}d", *[0.5] * count), "FD"),
        "unparsable": lambda p: _put(p, keyword, _text(["abc"] * count)),
        "wrong-length": lambda p: _put(p, keyword, _text(["1.5"] * wrong_count)),
    }
    if keyword not in ABSENT:
        edits["missing"] = lambda p: _remove(p, keyword)
    return edits


def _number_of_frames() -> dict[str, Edit]:
    key = "NumberOfFrames"
    return {
        "zero": lambda p: _put(p, key, _text(["0"])),
        "negative": lambda p: _put(p, key, _text(["-1"])),
        "nan": lambda p: _put(p, key, _text(["NaN"])),
        "huge": lambda p: _put(p, key, _text(["2147483647"])),
        "wrong-vr": lambda p: _put(p, key, struct.pack("<H", 2), "US"),
        "unparsable": lambda p: _put(p, key, _text(["abc"])),
        "wrong-length": lambda p: _put(p, key, _text(["1", "2"])),
    }


def _photometric() -> dict[str, Edit]:
    key = "PhotometricInterpretation"
    return {
        "missing": lambda p: _remove(p, key),
        "zero": lambda p: _put(p, key, b""),
        "nan": lambda p: _put(p, key, _text(["NaN"])),
        "huge": lambda p: _put(p, key, _text(["MONOCHROME2" * 200])),
        "wrong-vr": lambda p: _put(p, key, struct.pack("<H", 2), "US"),
        "unparsable": lambda p: _put(p, key, b"\x00\x01\xfe\xff"),
        "wrong-length": lambda p: _put(p, key, _text(["MONOCHROME2", "MONOCHROME1"])),
    }


def _pixel_data_length(path: Path, length: int) -> None:
    """Declare ``length`` bytes of Pixel Data (OW, explicit VR little endian) in the file."""
    data = bytearray(path.read_bytes())
    at = data.rfind(b"\xe0\x7f\x10\x00OW\x00\x00")
    assert at > 0, f"no native Pixel Data in {path}"
    data[at + 8 : at + 12] = struct.pack("<I", length)
    path.write_bytes(bytes(data))


def _half_pixels(path: Path) -> None:
    ds = pydicom.dcmread(path)
    data = ds.PixelData
    _put(path, "PixelData", data[: len(data) // 2], "OW")


def _pixel_data() -> dict[str, Edit]:
    key = "PixelData"
    return {
        "missing": lambda p: _remove(p, key),
        "zero": lambda p: _put(p, key, b"", "OW"),
        "huge": lambda p: _pixel_data_length(p, 0xFFFFFFF0),  # far past the end of the file
        "wrong-vr": lambda p: _put(p, key, pydicom.dcmread(p).PixelData, "SQ"),
        "unparsable": lambda p: _put(p, key, b"\xfe\xff\x00\xe0" * 4, "OW"),
        "wrong-length": _half_pixels,
    }


def _table() -> dict[tuple[str, str], Edit]:
    table: dict[tuple[str, str], Edit] = {}
    groups: dict[str, dict[str, Edit]] = {k: _us(k) for k in US_ELEMENTS}
    groups |= {k: _ds(k, n) for k, n in DS_ELEMENTS.items()}
    groups |= {
        "NumberOfFrames": _number_of_frames(),
        "PhotometricInterpretation": _photometric(),
        "PixelData": _pixel_data(),
    }
    for keyword, edits in groups.items():
        for kind in KINDS:
            if kind in edits:
                table[(keyword, kind)] = edits[kind]
    return table


FORGERIES: dict[tuple[str, str], Edit] = _table()
ELEMENTS: tuple[str, ...] = tuple(dict.fromkeys(k for k, _ in FORGERIES))


def representative() -> list[tuple[str, str]]:
    """The CI subset: every element once, each with the kind tried least so far (the same
    cases on every run; every kind comes up at least twice)."""
    tried = dict.fromkeys(KINDS, 0)
    chosen = []
    for i, keyword in enumerate(ELEMENTS):
        kinds = [
            k
            for k in KINDS[i % len(KINDS) :] + KINDS[: i % len(KINDS)]
            if (keyword, k) in FORGERIES
        ]
        kind = min(kinds, key=lambda k: tried[k])
        tried[kind] += 1
        chosen.append((keyword, kind))
    return chosen


def forge(path: Path, keyword: str, kind: str) -> None:
    """Apply the forgery ``(keyword, kind)`` to the file at ``path``."""
    FORGERIES[(keyword, kind)](path)


UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")


def as_new_study(source: Path, target: Path, number: int) -> None:
    """``source`` (one series) as another study: every UID replaced."""
    target.mkdir(parents=True)
    for path in sorted(source.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword in UID_KEYWORDS:
            setattr(ds, keyword, generate_uid(entropy_srcs=[str(ds[keyword].value), str(number)]))
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(target / path.name, enforce_file_format=True)
