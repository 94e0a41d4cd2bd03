"""The zip archive bugs the fuzz tests found, each as its smallest archive (plain tests).

Before the fixes these raised out of ``scan``, inflated a zip bomb whole into memory, let a
duplicate name slip a member past the size check, read a symbolic link's target as data, or
gave a reason over several lines.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from dicom_helpers import sample_path
from fuzz_support import assert_one_line
from zip_cases import BOMB_MIB, RawMember, build_zip, member, zeros_deflated

from spineviewer.dicom import FrameCache, StackPixels, scan

DICOM = sample_path("CT_small.dcm").read_bytes()


def scan_one(tmp_path: Path, members: list[RawMember]) -> tuple[Path, list[str], list[str]]:
    """Scan an archive of ``members``: (archive, members loaded, skipped reasons)."""
    archive = tmp_path / "study.zip"
    archive.write_bytes(build_zip(members))
    result = scan(archive)
    for skipped in result.skipped:
        assert skipped.path.startswith(str(archive))
        assert_one_line(skipped.reason)
    for stack in result.stacks():
        StackPixels(stack, FrameCache()).volume()
    loaded = [str(f.instance.ref.member) for s in result.stacks() for f in s.frames]
    return archive, loaded, [s.reason for s in result.skipped]


def test_encrypted_member_is_skipped(tmp_path: Path) -> None:
    """RuntimeError ('password required') escaped scan."""
    secret = replace(member("secret.dcm", DICOM), flags=1)
    _, loaded, [reason] = scan_one(tmp_path, [secret])
    assert loaded == [] and "encrypted" in reason


@pytest.mark.parametrize("method", [9, 99])
def test_unsupported_compression_is_skipped(tmp_path: Path, method: int) -> None:
    """NotImplementedError ('compression method is not supported') escaped scan."""
    odd = replace(member("odd.dcm", DICOM), method=method)
    _, loaded, [reason] = scan_one(tmp_path, [odd])
    assert loaded == [] and f"compression method {method} is not read" in reason


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_bzip2_and_lzma_members_are_refused(tmp_path: Path, method: int) -> None:
    """They inflate a whole block at once, so a bomb in them cannot be bounded."""
    _, loaded, [reason] = scan_one(tmp_path, [member("packed.dcm", DICOM, method)])
    assert loaded == [] and "only stored and deflate" in reason


def test_member_name_that_is_not_utf8_skips_the_archive(tmp_path: Path) -> None:
    """UnicodeDecodeError escaped scan (zipfile refuses the whole central directory)."""
    bad = replace(member(b"\xff\xfe.dcm", DICOM), flags=0x800)
    _, loaded, [reason] = scan_one(tmp_path, [member("a.dcm", DICOM), bad])
    assert loaded == [] and reason.startswith("unreadable zip archive: 'utf-8' codec")


def test_corrupt_deflate_stream_is_skipped(tmp_path: Path) -> None:
    """zlib.error escaped scan."""
    good = member("a.dcm", DICOM)
    broken = replace(good, payload=b"\xff" * 64 + good.payload[64:])
    _, loaded, [reason] = scan_one(tmp_path, [broken])
    assert loaded == [] and "while decompressing data" in reason


def test_zip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    """100 MiB of zeros in 100 kB was inflated whole for the header (about 200 MiB peak)."""
    payload, crc = zeros_deflated()
    bomb = RawMember(b"bomb.dcm", payload, 8, crc, len(payload), BOMB_MIB * 1024**2)
    tracemalloc.start()
    try:
        _, loaded, [reason] = scan_one(tmp_path, [bomb, member("a.dcm", DICOM)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded == ["a.dcm"] and "zip bomb" in reason
    assert peak < 16 * 1024**2


def test_bomb_behind_a_small_declared_size_stays_small(tmp_path: Path) -> None:
    """A member saying 1000 bytes was inflated whole (100 MiB) before being cut to 1000."""
    payload, crc = zeros_deflated()
    liar = RawMember(b"liar.dcm", payload, 8, crc, len(payload), 1000)
    tracemalloc.start()
    try:
        _, loaded, [reason] = scan_one(tmp_path, [liar])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded == [] and "Bad CRC-32" in reason
    assert peak < 16 * 1024**2


def test_duplicate_name_cannot_slip_past_the_size_check(tmp_path: Path) -> None:
    """The small first entry passed the check, but reading the name gave the later one."""
    huge = replace(member("a.dcm", DICOM), file_size=3 * 2**30)
    _, loaded, reasons = scan_one(tmp_path, [member("a.dcm", DICOM), huge])
    assert loaded == []
    assert sorted(reasons) == [
        "zip member refused: duplicate name (a later member has the same name)",
        "zip member refused: member of 3.0 GiB is too large",
    ]


def test_symbolic_link_member_is_refused(tmp_path: Path) -> None:
    """Its target path was read as the file's content."""
    link = replace(
        member("link.dcm", b"../../etc/passwd", zipfile.ZIP_STORED), external_attr=0o120777 << 16
    )
    _, loaded, [reason] = scan_one(tmp_path, [link])
    assert loaded == [] and reason == "zip member refused: symbolic link"


def test_member_name_with_a_line_break_is_quoted_on_one_line(tmp_path: Path) -> None:
    """The reason for a damaged member repeated its name, line break included."""
    odd = member("two\nlines.dcm", DICOM)
    archive, _, [reason] = scan_one(tmp_path, [replace(odd, crc=odd.crc ^ 1)])
    assert reason.startswith(f"{archive}!two\\nlines.dcm: cannot open: Bad CRC-32")
