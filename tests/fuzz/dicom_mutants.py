"""Hypothesis strategies that turn real DICOM files (pydicom's test data) into broken ones, at
the byte level: one structural change aimed at a real element (its length, VR, tag, the pixel
data size, an injected or garbled sequence), then up to two blind byte edits (flip, insert,
delete, truncate). Data-set level edits are in dicom_dataset_mutants.py. Each case is a
``Mutant``.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pydicom.filebase
from dicom_helpers import AXIAL, SERIES_UID, STUDY_UID, UID_ROOT, sample_path
from hypothesis import strategies as st
from pydicom import config
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence

#: Real files of every kind the viewer reads: native LE (explicit, implicit), big endian,
#: deflated, RLE, JPEG, JPEG 2000, multi-frame, enhanced (functional groups), colour, 1-bit,
#: 32-bit, and a non-image with nested private sequences.
SOURCES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_RLE.dcm",
    "MR_small_jp2klossless.dcm",
    "emri_small.dcm",
    "liver_1frame.dcm",
    "SC_rgb.dcm",
    "SC_rgb_jpeg_dcmtk.dcm",
    "SC_ybr_full_422_uncompressed.dcm",
    "image_dfl.dcm",
    "rtdose.dcm",
    "nested_priv_SQ.dcm",
)
_LONG_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
ALL_VRS = [
    "AE",
    "AS",
    "AT",
    "CS",
    "DA",
    "DS",
    "DT",
    "FL",
    "FD",
    "IS",
    "LO",
    "LT",
    "OB",
    "OD",
    "OF",
    "OL",
    "OV",
    "OW",
    "PN",
    "SH",
    "SL",
    "SQ",
    "SS",
    "ST",
    "SV",
    "TM",
    "UC",
    "UI",
    "UL",
    "UN",
    "UR",
    "US",
    "UT",
    "UV",
]
PIXEL_DATA = 0x7FE00010


class Mutant:
    """A broken file: what it came from, its bytes, and the edits (shown when a case fails)."""

    __slots__ = ("data", "edits", "source")

    def __init__(self, source: str, data: bytes, edits: tuple[str, ...]) -> None:
        self.source = source
        self.data = data
        self.edits = edits

    def __repr__(self) -> str:
        return f"Mutant({self.source!r}, {len(self.data)} bytes, edits={list(self.edits)})"


@dataclass(frozen=True)
class Element:
    """Where one top-level element of a file sits (offsets into the file)."""

    tag: int
    start: int
    vr_at: int | None
    length_at: int
    length_size: int
    value_at: int
    length: int
    little: bool


def write_intact(folder: Path) -> list[Path]:
    """Two CT slices of one series, with UIDs no mutant carries (pydicom's CT_small.dcm)."""
    paths = []
    for k in range(2):
        ds = pydicom.dcmread(sample_path("CT_small.dcm"))
        ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY_UID, SERIES_UID
        ds.SOPInstanceUID = f"{UID_ROOT}.77.{k}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
        ds.ImageOrientationPatient = list(AXIAL)
        path = folder / f"intact{k}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


@functools.cache
def source_bytes(name: str) -> bytes:
    return sample_path(name).read_bytes()


@functools.lru_cache(maxsize=64)
def layout(data: bytes) -> tuple[Element, ...]:
    """The file meta and top-level data set elements whose offsets pydicom reports."""
    ds = pydicom.dcmread(io.BytesIO(data), defer_size=None)
    deflated = str(ds.file_meta.get("TransferSyntaxUID", "")) == "1.2.840.10008.1.2.1.99"
    raws = list(ds.file_meta._dict.values()) + ([] if deflated else list(ds._dict.values()))
    found = []
    for raw in raws:
        if not isinstance(raw, RawDataElement) or raw.value_tell is None:
            continue
        tell, little = raw.value_tell, raw.is_little_endian
        if raw.is_implicit_VR:
            found.append(Element(raw.tag, tell - 8, None, tell - 4, 4, tell, raw.length, little))
        elif raw.VR in _LONG_VRS:
            found.append(
                Element(raw.tag, tell - 12, tell - 8, tell - 4, 4, tell, raw.length, little)
            )
        else:
            found.append(
                Element(raw.tag, tell - 8, tell - 4, tell - 2, 2, tell, raw.length, little)
            )
    return tuple(found)


def _pack_length(element: Element, value: int) -> bytes:
    code = "H" if element.length_size == 2 else "I"
    return struct.pack(("<" if element.little else ">") + code, value)


def _splice(data: bytes, start: int, end: int, new: bytes) -> bytes:
    return data[:start] + new + data[end:]


# -- byte-level ----------------------------------------------------------------------------------

ITEM = b"\xfe\xff\x00\xe0"
#: Byte strings that mean something to a DICOM parser.
TOKENS = (
    ITEM,
    b"\xfe\xff\x0d\xe0",  # item delimiter
    b"\xfe\xff\xdd\xe0",  # sequence delimiter
    b"\xff\xff\xff\xff",  # undefined length
    b"\xe0\x7f\x10\x00",  # pixel data tag
    b"\x02\x00\x10\x00",  # transfer syntax tag
    b"SQ\x00\x00\xff\xff\xff\xff",
    b"OB\x00\x00",
    b"DICM",
    b"\x00" * 8,
)


@st.composite
def _length_edit(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    element = draw(st.sampled_from(layout(data)))
    top = (1 << (8 * element.length_size)) - 1
    value = draw(
        st.one_of(
            st.sampled_from([0, 1, 2, 3, top, top - 1, top // 2]),
            st.integers(0, top),
            st.integers(-16, 16).map(lambda d: min(top, max(0, element.length + d))),
        )
    )
    at = element.length_at
    new = _splice(data, at, at + element.length_size, _pack_length(element, value))
    return new, f"length of {element.tag:08X} -> {value}"


@st.composite
def _vr_edit(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    explicit = [e for e in layout(data) if e.vr_at is not None]
    element = draw(st.sampled_from(explicit))
    vr = draw(st.one_of(st.sampled_from(ALL_VRS), st.binary(min_size=2, max_size=2)))
    vr_bytes = vr.encode() if isinstance(vr, str) else vr
    assert element.vr_at is not None
    return _splice(data, element.vr_at, element.vr_at + 2, vr_bytes), f"VR of {element.tag:08X}"


@st.composite
def _tag_edit(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    element = draw(st.sampled_from(layout(data)))
    tag = draw(
        st.one_of(
            st.sampled_from([PIXEL_DATA, 0x00020010, 0x00280010, 0x00280011, 0x52009230, 0]),
            st.integers(0, 0xFFFFFFFF),
        )
    )
    pack = "<HH" if element.little else ">HH"
    new = struct.pack(pack, tag >> 16, tag & 0xFFFF)
    return _splice(data, element.start, element.start + 4, new), f"tag {element.tag:08X}->{tag:08X}"


@st.composite
def _pixel_edit(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    pixels = [e for e in layout(data) if e.tag == PIXEL_DATA and e.length != 0xFFFFFFFF]
    if not pixels:  # encapsulated pixel data: cut or pad the fragments instead
        cut = draw(st.integers(0, 4096))
        return data[: max(0, len(data) - cut)], f"cut {cut} bytes of encapsulated pixel data"
    element = pixels[0]
    new_length = draw(
        st.one_of(
            st.sampled_from([0, 1, element.length // 2, element.length - 1, element.length + 1]),
            st.integers(0, 2 * element.length),
        )
    )
    fill = draw(st.sampled_from([b"\x00", b"\xff", b"\x5a"]))
    value = data[element.value_at : element.value_at + element.length]
    value = (value + fill * new_length)[:new_length]
    fix_length = draw(st.booleans())
    head = data[: element.value_at]
    if fix_length and new_length <= (1 << (8 * element.length_size)) - 1:
        at = element.length_at
        head = _splice(head, at, at + element.length_size, _pack_length(element, new_length))
    tail = data[element.value_at + element.length :]
    return head + value + tail, f"pixel data {element.length} -> {new_length} bytes"


def _nested(depth: int, width: int, garbage: bytes) -> Dataset:
    item = Dataset()
    if garbage:
        item.add_new(0x00091001, "UN", garbage)
    if depth > 0:
        item.ReferencedImageSequence = Sequence(
            [_nested(depth - 1, width, garbage) for _ in range(width)]
        )
    return item


#: Sequences the viewer reads (LUTs, functional groups) and one it ignores.
SEQUENCE_TAGS = (0x00283000, 0x00283010, 0x52009229, 0x52009230, 0x00081140)


@st.composite
def _sequence_edit(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    body = [e for e in layout(data) if e.tag >> 16 != 2]
    if not body:
        return data, "no body elements"
    element = draw(st.sampled_from(body))
    depth = draw(st.integers(0, 40))
    width = draw(st.integers(0, 3)) if depth < 6 else 1
    ds = Dataset()
    tag = draw(st.sampled_from(SEQUENCE_TAGS))
    ds.add_new(tag, "SQ", [_nested(depth, width, draw(st.binary(max_size=24)))])
    implicit = element.vr_at is None
    buffer = pydicom.filebase.DicomBytesIO()
    buffer.is_little_endian = element.little
    buffer.is_implicit_VR = implicit
    with config.disable_value_validation():
        write_dataset(buffer, ds)
    encoded = buffer.getvalue()
    keep = draw(st.integers(0, len(encoded)))  # drop delimiters / cut items short
    encoded = encoded[:keep]
    what = f"sequence {tag:08X} depth {depth} x{width} ({keep}/{len(buffer.getvalue())} bytes)"
    return _splice(data, element.start, element.start, encoded), what


STRUCTURAL: tuple[Callable[[bytes], st.SearchStrategy[tuple[bytes, str]]], ...] = (
    _length_edit,
    _vr_edit,
    _tag_edit,
    _pixel_edit,
    _sequence_edit,
)


@st.composite
def _blind_edit(draw: st.DrawFn, data: bytes, header_end: int) -> tuple[bytes, str]:
    if not data:
        return data, "empty"
    pos = draw(st.one_of(st.integers(0, min(header_end, len(data) - 1)), st.integers(0, len(data))))
    kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "token"]))
    if kind == "flip" and pos < len(data):
        return _splice(data, pos, pos + 1, bytes([data[pos] ^ draw(st.integers(1, 255))])), (
            f"flip {pos}"
        )
    if kind == "insert":
        return _splice(data, pos, pos, draw(st.binary(min_size=1, max_size=16))), f"insert {pos}"
    if kind == "delete":
        size = draw(st.integers(1, 64))
        return _splice(data, pos, pos + size, b""), f"delete {size} at {pos}"
    if kind == "token":
        return _splice(data, pos, pos + 4, draw(st.sampled_from(TOKENS))), f"token at {pos}"
    return data[:pos], f"truncate at {pos}"


def _header_end(data: bytes) -> int:
    pixels = [e.start for e in layout(data) if e.tag == PIXEL_DATA]
    return pixels[0] + 16 if pixels else len(data)


@st.composite
def byte_edits(draw: st.DrawFn, original: bytes) -> tuple[bytes, tuple[str, ...]]:
    """One structural edit (usually) and up to two blind byte edits of a DICOM file."""
    data = original
    edits = []
    if draw(st.integers(0, 4)) > 0:  # mostly aimed at an element, sometimes blind edits only
        data, what = draw(draw(st.sampled_from(STRUCTURAL))(data))
        edits.append(what)
    for _ in range(draw(st.integers(0 if edits else 1, 2))):
        data, what = draw(_blind_edit(data, _header_end(original)))
        edits.append(what)
    return data, tuple(edits)


@st.composite
def byte_mutants(draw: st.DrawFn) -> Mutant:
    """A real file with one structural edit and up to two blind byte edits."""
    name = draw(st.sampled_from(SOURCES))
    data, edits = draw(byte_edits(source_bytes(name)))
    return Mutant(name, data, edits)
