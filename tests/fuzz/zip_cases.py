"""Hostile zip archives, written byte by byte so that every header field can lie.

An archive holds two intact CT slices (``study/intact0.dcm``, ``study/intact1.dcm``) and up to
four hostile members: names that escape (``../``, absolute, drive letters, backslashes),
symbolic links, zip bombs (a real 100 MiB of zeros, or a small declared size hiding it),
duplicate names, a nested zip, encrypted or bzip2/lzma members, bad UTF-8 names, a broken
DICOM file. Sometimes the archive itself is then cut short or has bytes flipped (mostly in the
central directory).
"""

from __future__ import annotations

import bz2
import functools
import io
import lzma
import struct
import zipfile
import zlib
from dataclasses import dataclass, replace

from hypothesis import strategies as st

#: Intact members every archive starts with.
INTACT_NAMES = ("study/intact0.dcm", "study/intact1.dcm")
BOMB_MIB = 100
_UNIX_LINK = 0o120777 << 16


@dataclass(frozen=True)
class RawMember:
    """One member as written: name, payload as stored, and header fields (which may lie)."""

    name: bytes
    payload: bytes
    method: int
    crc: int
    compressed_size: int
    file_size: int
    flags: int = 0
    external_attr: int = 0


def member(name: str | bytes, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> RawMember:
    """An honest member holding ``data``."""
    if method == zipfile.ZIP_STORED:
        payload = data
    elif method == zipfile.ZIP_DEFLATED:
        payload = deflate(data)
    elif method == zipfile.ZIP_BZIP2:
        payload = bz2.compress(data)
    else:  # lzma (the reader refuses it before looking at the stream)
        payload = lzma.compress(data)
    encoded = name.encode() if isinstance(name, str) else name
    flags = 0x800 if isinstance(name, str) and not name.isascii() else 0
    return RawMember(encoded, payload, method, zlib.crc32(data), len(payload), len(data), flags)


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


@functools.cache
def zeros_deflated() -> tuple[bytes, int]:
    """A raw deflate stream of BOMB_MIB MiB of zeros (about 100 kB), and its CRC."""
    chunk = bytes(1024**2)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts, crc = [], 0
    for _ in range(BOMB_MIB):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    return b"".join(parts), crc


def build_zip(members: list[RawMember]) -> bytes:
    """Local headers and payloads, then the central directory and its end record."""
    out = io.BytesIO()
    central = io.BytesIO()
    for m in members:
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                m.flags,
                m.method,
                0,
                0x21,
                m.crc,
                m.compressed_size,
                m.file_size,
                len(m.name),
                0,
            )
        )
        out.write(m.name + m.payload)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                0x031E,  # made by Unix, so external_attr carries the file mode
                20,
                m.flags,
                m.method,
                0,
                0x21,
                m.crc,
                m.compressed_size,
                m.file_size,
                len(m.name),
                0,
                0,
                0,
                0,
                m.external_attr,
                offset,
            )
        )
        central.write(m.name)
    directory = central.getvalue()
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), out.tell(), 0
    )
    return out.getvalue() + directory + end


class ZipCase:
    """An archive, what is hostile in it, and the intact members that must still load."""

    __slots__ = ("data", "has_bomb", "hostile", "intact_readable")

    def __init__(
        self, data: bytes, hostile: tuple[str, ...], intact_readable: tuple[str, ...]
    ) -> None:
        self.data = data
        self.hostile = hostile
        self.intact_readable = intact_readable
        self.has_bomb = any("bomb" in label for label in hostile)

    def __repr__(self) -> str:
        return f"ZipCase({len(self.data)} bytes, {list(self.hostile)})"


ESCAPING_NAMES = (
    "../evil.dcm",
    "../../../../../../tmp/evil.dcm",
    "/abs_evil.dcm",
    "C:/evil.dcm",
    "C:evil.dcm",
    "..\\evil.dcm",
    "study/../../evil.dcm",
    "\\\\server\\share\\evil.dcm",
)
#: Names that are safe but odd (the reader must quote them on one line).
ODD_NAMES = ("study/two\nlines.dcm", "study/tab\there.dcm", "study/\u2028sep.dcm", "study/ .dcm")


@st.composite
def _hostile_member(draw: st.DrawFn, dicom: bytes, broken: bytes) -> tuple[list[RawMember], str]:
    kind = draw(
        st.sampled_from(
            [
                "escape",
                "link",
                "bomb",
                "lying_bomb",
                "claims_gigabytes",
                "duplicate",
                "nested_zip",
                "encrypted",
                "other_method",
                "bad_utf8",
                "broken_dicom",
                "lying_crc",
                "odd_name",
            ]
        )
    )
    if kind == "escape":
        name = draw(st.sampled_from(ESCAPING_NAMES))
        return [member(name, dicom)], f"escape {name}"
    if kind == "link":
        link = member("study/link.dcm", b"../../../../etc/passwd", zipfile.ZIP_STORED)
        return [replace(link, external_attr=_UNIX_LINK)], "symlink"
    if kind in ("bomb", "lying_bomb"):
        payload, crc = zeros_deflated()
        declared = BOMB_MIB * 1024**2 if kind == "bomb" else draw(st.integers(0, 4096))
        bomb = RawMember(b"study/bomb.dcm", payload, 8, crc, len(payload), declared)
        return [bomb], f"{kind} declaring {declared} bytes"
    if kind == "claims_gigabytes":
        declared = draw(st.sampled_from([2**31, 2**32 - 1, 3 * 2**30, 1500 * 2**20]))
        fake = member("study/huge.dcm", dicom)
        return [replace(fake, file_size=declared)], f"claims {declared} bytes"
    if kind == "duplicate":
        name = draw(st.sampled_from(INTACT_NAMES))
        return [member(name, broken)], f"second {name}"
    if kind == "nested_zip":
        inner = build_zip([member("inner.dcm", dicom)])
        return [member("study/inner.zip", inner)], "nested zip"
    if kind == "encrypted":
        plain = member("study/secret.dcm", dicom)
        return [replace(plain, flags=1)], "encrypted flag"
    if kind == "other_method":
        method = draw(st.sampled_from([zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 9, 99]))
        made = member("study/other.dcm", dicom, method if method in (12, 14) else 8)
        return [replace(made, method=method)], f"method {method}"
    if kind == "bad_utf8":
        name = b"study/\xff\xfe\xc3(.dcm"
        return [replace(member(name, dicom), flags=0x800)], "bad UTF-8 name"
    if kind == "odd_name":
        name = draw(st.sampled_from(ODD_NAMES))
        odd = member(name, draw(st.sampled_from([broken, dicom])))
        if draw(st.booleans()):  # a reader error quotes the name
            odd = replace(odd, crc=odd.crc ^ 1)
        return [odd], f"odd name {name!r}"
    if kind == "lying_crc":
        honest = member("study/crc.dcm", dicom)
        return [replace(honest, crc=honest.crc ^ 1)], "wrong CRC"
    return [member("study/broken.dcm", broken)], "broken DICOM"


@st.composite
def _archive_damage(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["truncate", "flip", "flip_directory", "garble_end"]))
    if kind == "truncate":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at], f"cut at {at}"
    if kind == "garble_end":
        end = data.rfind(b"PK\x05\x06")
        at = end + draw(st.integers(4, 21))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :], f"end {at}"
    start = data.rfind(b"PK\x01\x02") if kind == "flip_directory" else 0
    at = draw(st.integers(max(start, 0), len(data) - 1))
    flipped = bytes([data[at] ^ draw(st.integers(1, 255))])
    return data[:at] + flipped + data[at + 1 :], f"{kind} at {at}"


@st.composite
def zip_cases(
    draw: st.DrawFn, intact_files: tuple[bytes, bytes], dicom: bytes, broken: bytes
) -> ZipCase:
    """Two intact members, 0-4 hostile ones (in any order), sometimes a damaged archive."""
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    intact = [member(n, d, method) for n, d in zip(INTACT_NAMES, intact_files, strict=True)]
    hostile, labels = [], []
    for _ in range(draw(st.integers(0, 4))):
        members, label = draw(_hostile_member(dicom, broken))
        hostile += members
        labels.append(label)
    order = draw(st.permutations(range(len(hostile))))
    data = build_zip(intact + [hostile[i] for i in order])
    damaged = draw(st.integers(0, 3)) == 0
    if damaged:
        data, label = draw(_archive_damage(data))
        labels.append(label)
    # zipfile refuses a whole archive with a name flagged UTF-8 that is not (so does scan)
    lost = damaged or "bad UTF-8 name" in labels
    readable = () if lost else tuple(n for n in INTACT_NAMES if f"second {n}" not in labels)
    return ZipCase(data, tuple(labels), readable)
