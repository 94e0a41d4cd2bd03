"""Fuzzing the DICOM input: broken copies of real files go through discovery, header parsing,
loading and ``spineviewer info --json``.

Each case writes one mutant (see dicom_mutants.py and dicom_dataset_mutants.py) beside two
intact CT slices and checks:

- nothing raises but the project's own ``DicomLoadError``, and its message names the mutant;
- ``scan`` lists only the mutant as skipped (with its path and a one-line reason);
- the intact slices are found and load, one slice at a time (and shown) and as a volume;
- ``spineviewer info --json`` prints strict JSON with the same skipped files;
- no file in the folder changes (sha256 before and after).

Example counts: see fuzz_support.py (``SPINEVIEWER_FUZZ_EXAMPLES=N``, or
``pytest tests/fuzz --hypothesis-profile=deep``).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from dicom_dataset_mutants import dataset_mutants, dicomdir_edits
from dicom_helpers import tree_digest
from dicom_mutants import Mutant, byte_edits, byte_mutants, write_intact
from fuzz_support import assert_names, assert_one_line, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from spineviewer.cli import main
from spineviewer.dicom import DicomLoadError, FrameCache, ScanResult, StackPixels, first_image, scan
from spineviewer.dicom.display import to_display

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydicom", "ignore::RuntimeWarning")

MUTANT_NAME = "a_mutant.dcm"  # sorted first: scanned (and tried by first_image) before the rest


def _reject_constant(name: str) -> object:
    raise AssertionError(f"info --json printed {name}, which is not JSON")


@pytest.fixture
def case_folder(tmp_path: Path) -> tuple[Path, list[Path]]:
    folder = tmp_path / "case"
    folder.mkdir()
    return folder, write_intact(folder)


def check_loads(result: ScanResult, mutant: Path) -> None:
    """Every slice and every volume loads, or fails with a DicomLoadError naming the mutant."""
    for stack in result.stacks():
        pixels = StackPixels(stack, FrameCache())
        for index, frame in enumerate(stack.frames):
            try:
                values = pixels.slice(index)
            except DicomLoadError as exc:
                assert frame.instance.ref.path == mutant, f"intact slice failed: {exc}"
                assert_names(str(exc), mutant)
                continue
            shown = to_display(values, frame)  # what the viewer puts on screen
            assert shown.shape[:2] == values.shape[:2]
            assert np.isfinite(shown).all(), f"{frame.label}: NaN on screen"
        try:
            pixels.volume()
        except DicomLoadError as exc:
            assert any(f.instance.ref.path == mutant for f in stack.frames), exc
            assert_names(str(exc), mutant)


def check_info(folder: Path, result: ScanResult) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["info", str(folder), "--json"])
    assert status == 0  # the intact slices are always there
    printed = json.loads(out.getvalue(), parse_constant=_reject_constant)
    assert printed["skipped"] == [s.to_json() for s in result.skipped]


def exercise(folder: Path, intact: list[Path], mutant: Mutant) -> None:
    """Write ``mutant`` beside the intact files and run everything that reads it."""
    path = folder / MUTANT_NAME
    path.write_bytes(mutant.data)
    before = tree_digest(folder)

    result = scan(folder)
    for skipped in result.skipped:
        assert skipped.path == str(path), f"an intact file was skipped: {skipped}"
        assert_one_line(skipped.reason)
    found = {f.instance.ref.path for stack in result.stacks() for f in stack.frames}
    assert set(intact) <= found, f"intact files lost: {set(intact) - found}"
    skipped = any(s.path == str(path) for s in result.skipped)
    assert (path in found) != skipped, "the mutant was neither loaded nor skipped"
    check_loads(result, path)
    assert first_image(folder) is not None
    check_info(folder, result)
    assert tree_digest(folder) == before, "a source file was modified"


@fuzz_settings(weight=8)
@given(mutant=byte_mutants())
def test_byte_level_mutants(case_folder: tuple[Path, list[Path]], mutant: Mutant) -> None:
    exercise(*case_folder, mutant)


@fuzz_settings(weight=4)
@given(mutant=dataset_mutants())
def test_dataset_level_mutants(case_folder: tuple[Path, list[Path]], mutant: Mutant) -> None:
    exercise(*case_folder, mutant)


@fuzz_settings(weight=2)
@given(data=st.data())
def test_dicomdir_mutants(media: Path, data: st.DataObject) -> None:
    dicomdir = media / "DICOMDIR"
    original = data.draw(st.just(dicomdir.read_bytes()), label="original")
    mutated, _ = data.draw(st.one_of(byte_edits(original), dicomdir_edits(original)))
    dicomdir.write_bytes(mutated)
    before = tree_digest(media.parent)
    try:
        for result in (scan(dicomdir), scan(media)):
            for skipped in result.skipped:
                assert Path(skipped.path).is_relative_to(media), skipped
                assert_one_line(skipped.reason)
            for stack in result.stacks():
                for frame in stack.frames:
                    assert frame.instance.ref.path.resolve().is_relative_to(media.resolve())
                StackPixels(stack, FrameCache()).volume()  # every referenced file is intact
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["info", str(dicomdir), "--json"])
        json.loads(out.getvalue(), parse_constant=_reject_constant)
        assert tree_digest(media.parent) == before, "a source file was modified"
    finally:
        dicomdir.write_bytes(original)
