"""Fuzzing zip archives read in place (see zip_cases.py for what goes into them).

For every archive: ``scan`` never raises, refuses hostile members with a one-line reason that
names the member, never writes a file anywhere (the tree around the archive is listed before
and after, and the files the escaping names point at do not appear), inflates zip bombs within
a bounded amount of memory, and still loads the intact members. ``spineviewer info --json``
prints strict JSON for the folder holding the archive.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from dicom_helpers import sample_path, tree_digest, tree_listing
from dicom_mutants import write_intact
from fuzz_support import assert_names, assert_one_line, fuzz_settings
from hypothesis import given
from zip_cases import ZipCase, zip_cases

from spineviewer.cli import main
from spineviewer.dicom import DicomLoadError, FrameCache, StackPixels, scan
from spineviewer.dicom.sources import unsafe_member_reason

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydicom", "ignore::RuntimeWarning")

DICOM = sample_path("CT_small.dcm").read_bytes()
BROKEN = DICOM[:2000]  # a DICOM header cut off before the pixel data


def _intact() -> tuple[bytes, bytes]:
    """Two CT slices of one series (other UIDs than DICOM, which hostile members carry)."""
    with tempfile.TemporaryDirectory() as folder:
        first, second = write_intact(Path(folder))
        return first.read_bytes(), second.read_bytes()


INTACT = _intact()
#: Most memory a scan plus load may take with a zip bomb inside (the bomb is 100 MiB).
BOMB_PEAK_LIMIT = 48 * 1024**2
#: Where the escaping names would land if a member were ever extracted.
ESCAPE_TARGETS = (Path("/abs_evil.dcm"), Path("/tmp/evil.dcm"))


def scan_and_load(archive: Path, case: ZipCase) -> None:
    result = scan(archive)
    for skipped in result.skipped:
        assert skipped.path.startswith(str(archive)), skipped
        assert_one_line(skipped.reason)
    found = set()
    for stack in result.stacks():
        for frame in stack.frames:
            ref = frame.instance.ref
            assert ref.path == archive and ref.member is not None
            assert unsafe_member_reason(ref.member) is None, f"unsafe member read: {ref}"
            found.add(ref.member)
        pixels = StackPixels(stack, FrameCache())
        try:
            pixels.volume()
        except DicomLoadError as exc:
            assert_names(str(exc), archive)
    missing = set(case.intact_readable) - found
    assert not missing, f"intact members not loaded: {missing}"


@fuzz_settings(weight=3)
@given(case=zip_cases(INTACT, DICOM, BROKEN))
def test_zip_archives(tmp_path: Path, case: ZipCase) -> None:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    archive = folder / "study.zip"
    archive.write_bytes(case.data)
    listing, digest = tree_listing(tmp_path), tree_digest(tmp_path)

    if case.has_bomb:
        tracemalloc.start()
    try:
        scan_and_load(archive, case)
        if case.has_bomb:
            _, peak = tracemalloc.get_traced_memory()
            assert peak < BOMB_PEAK_LIMIT, f"zip bomb took {peak / 1024**2:.0f} MiB"
    finally:
        if case.has_bomb:
            tracemalloc.stop()

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["info", str(folder), "--json"])
    json.loads(out.getvalue())
    assert tree_listing(tmp_path) == listing, "a file was written"
    assert tree_digest(tmp_path) == digest, "a file was changed"
    assert not any(p.exists() for p in (*ESCAPE_TARGETS, tmp_path / "evil.dcm"))
