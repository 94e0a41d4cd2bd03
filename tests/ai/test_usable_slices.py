"""usable_slices on real phantom files: one sagittal slice damaged with pydicom per case (as
tests/damaged_dicom.py breaks it) is left out, named, with the reason; the others are decoded
as the loader gives them; a stack that lost too many is too damaged to analyse."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from damaged_dicom import DAMAGES, set_raw

from spineviewer.ai.usable import MIN_USABLE, off_line, usable_slices
from spineviewer.dicom import FrameCache, Stack, StackPixels, scan
from spineviewer.dicom.header import read_instance_frames
from spineviewer.dicom.ordering import order_frames
from spineviewer.dicom.sources import FileRef
from spineviewer.geometry import Plane
from spineviewer.phantom import generate, study_folder_name

SEED = 5
SAGITTAL = "S01_sagittal_t2"
#: The damaged slice's file (the 7th of 15, InstanceNumber 7).
VICTIM = "IM00007.dcm"


@pytest.fixture(scope="module")
def sagittal_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sagittal T2 series of a lumbar MR phantom (15 slices), generated once."""
    root = tmp_path_factory.mktemp("phantom")
    generate("lumbar-mr", root, SEED)
    return root / study_folder_name("lumbar-mr", SEED) / SAGITTAL


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def _stack(folder: Path) -> Stack:
    [stack] = scan(folder).stacks()
    return stack


def _index(stack: Stack, name: str) -> int:
    return next(i for i, f in enumerate(stack.frames) if f.instance.ref.name == name)


@pytest.mark.parametrize("case", sorted(DAMAGES))
def test_one_damaged_slice_is_left_out_and_named(sagittal_source: Path, tmp_path, case) -> None:
    damage, word = DAMAGES[case]
    folder = _copy(sagittal_source, tmp_path / case)
    damage(folder / VICTIM)
    before = tree_digest(folder)
    stack = _stack(folder)
    total = len(stack)
    victim = _index(stack, VICTIM)

    usable = usable_slices(stack)

    [dropped] = usable.dropped
    assert dropped.index == victim
    assert dropped.file == str(folder / VICTIM)
    assert word in dropped.reason
    assert usable.indices == tuple(i for i in range(total) if i != victim)
    assert usable.too_damaged is None
    assert [w for w in usable.warnings("sagittal series")] == [
        f"sagittal series: {folder / VICTIM} left out: {dropped.reason}"
    ]
    reference = StackPixels(stack, FrameCache())
    assert len(usable.values) == len(usable.planes) == total - 1
    for index, values, plane in zip(usable.indices, usable.values, usable.planes, strict=True):
        np.testing.assert_array_equal(values, reference.slice(index))
        assert plane is stack.plane_of(index)
    assert tree_digest(folder) == before, "a source file was modified"


def test_without_decoding_only_the_header_rules_slices_out(sagittal_source, tmp_path) -> None:
    folder = _copy(sagittal_source, tmp_path / "two")
    DAMAGES["jpeg-cut-short"][0](folder / VICTIM)  # found out only by decoding
    DAMAGES["no-pixel-data"][0](folder / "IM00003.dcm")  # the header says so
    stack = _stack(folder)

    usable = usable_slices(stack, decode=False)

    assert usable.values == ()
    assert [d.index for d in usable.dropped] == [_index(stack, "IM00003.dcm")]
    assert _index(stack, VICTIM) in usable.indices
    assert len(usable.planes) == len(usable.indices) == len(stack) - 1


@pytest.mark.parametrize(("damaged", "expected"), [(11, "4 of 15"), (8, "7 of 15"), (7, None)])
def test_a_stack_that_lost_too_many_slices_is_too_damaged(
    sagittal_source, tmp_path, damaged, expected
) -> None:
    """Fewer than MIN_USABLE (5) usable, or fewer than half: too damaged; 8 of 15 is enough."""
    folder = _copy(sagittal_source, tmp_path / "many")
    for path in sorted(folder.glob("*.dcm"))[:damaged]:
        set_raw(path, "PixelSpacing", "0\\0")

    usable = usable_slices(_stack(folder))

    assert len(usable.dropped) == damaged
    assert len(usable.indices) == 15 - damaged
    if expected is None:
        assert usable.too_damaged is None
    else:
        assert usable.too_damaged is not None and expected in usable.too_damaged


def test_a_short_stack_is_damaged_only_when_it_lost_a_slice(sagittal_source, tmp_path) -> None:
    folder = tmp_path / "short"
    folder.mkdir()
    for name in ("IM00006.dcm", VICTIM, "IM00008.dcm"):
        shutil.copy(sagittal_source / name, folder / name)
    assert MIN_USABLE > 3

    assert usable_slices(_stack(folder)).too_damaged is None  # nothing lost: not damaged
    DAMAGES["position-nan"][0](folder / VICTIM)
    assert "2 of 3 slices usable" in (usable_slices(_stack(folder)).too_damaged or "")


def test_check_runs_between_slices_and_cancels(sagittal_source: Path) -> None:
    stack = _stack(sagittal_source)
    calls: list[int] = []

    class Stop(Exception):
        pass

    def check() -> None:
        calls.append(1)
        if len(calls) == 4:
            raise Stop

    with pytest.raises(Stop):
        usable_slices(stack, check)
    assert len(calls) == 4
    counted: list[int] = []
    usable_slices(stack, lambda: counted.append(1), decode=False)
    assert len(counted) == len(stack)


def _hand_made_stack(paths: list[Path]) -> Stack:
    """A stack of these files as they are, without the grouping that would split them."""
    frames = [f for path in paths for f in read_instance_frames(FileRef(path))]
    return Stack("hand-made", frames[0].instance.series_uid, order_frames(frames))


@pytest.mark.parametrize(
    ("orientation", "word"),
    [
        ("0\\1\\0\\0.0872\\0\\-0.9962", "tilted 5.0 degrees"),  # a valid plane, 5 degrees off
        ("0\\1.01\\0\\0\\0\\-1", "lengths 1.0100 and 1.0000, not 1"),
    ],
    ids=["tilted", "not-unit"],
)
def test_a_slice_out_of_the_stacks_plane_is_left_out(
    sagittal_source, tmp_path, orientation, word
) -> None:
    """(The grouping puts such a file in a stack of its own; a stack built otherwise, here by
    hand, must still not mix it in.)"""
    folder = _copy(sagittal_source, tmp_path / "odd")
    set_raw(folder / VICTIM, "ImageOrientationPatient", orientation)
    stack = _hand_made_stack(sorted(folder.glob("*.dcm")))

    usable = usable_slices(stack, decode=False)

    [dropped] = usable.dropped
    assert dropped.file == str(folder / VICTIM)
    assert word in dropped.reason


def test_a_slice_with_another_spacing_is_left_out(sagittal_source, tmp_path) -> None:
    """The pipelines crop every slice with the stack's spacing: one that differs is out."""
    folder = _copy(sagittal_source, tmp_path / "spacing")
    set_raw(folder / VICTIM, "PixelSpacing", "0.9\\0.9")
    stack = _stack(folder)  # the grouping keeps it (same size and orientation)

    usable = usable_slices(stack)

    [dropped] = usable.dropped
    assert dropped.index == _index(stack, VICTIM)
    assert "PixelSpacing 0.9\\0.9 differs from the stack's 1.07966\\1.07966" in dropped.reason


def test_a_slice_moved_off_the_stacks_line_is_left_out(sagittal_source, tmp_path) -> None:
    """One slice's ImagePositionPatient moved 30 mm sideways in its plane (a broken header):
    the grouping keeps it, the pipelines leave it out, naming it."""
    folder = _copy(sagittal_source, tmp_path / "sideways")
    x, y, z = (float(v) for v in pydicom.dcmread(folder / VICTIM).ImagePositionPatient)
    set_raw(folder / VICTIM, "ImagePositionPatient", f"{x}\\{y + 30.0}\\{z}")
    stack = _stack(folder)

    usable = usable_slices(stack, decode=False)

    [dropped] = usable.dropped
    assert dropped.file == str(folder / VICTIM)
    assert "lies 30.0 mm off the line of the stack's other slices" in dropped.reason


def _planes(origins: list[tuple[float, float, float]]) -> list[Plane]:
    return [
        Plane(np.array(o), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0]), (1.0, 1.0))
        for o in origins
    ]


def test_off_line_follows_a_gantry_tilted_stack_and_finds_the_one_moved() -> None:
    """Origins moving 0.5 mm sideways per slice (a tilted CT stack) are on their line; one
    moved 5 mm off it is off by 5 mm, whichever slice it is."""
    normal = np.array([1.0, 0.0, 0.0])
    tilted = [(4.0 * k, 0.5 * k, 0.0) for k in range(13)]
    assert off_line(_planes(tilted), normal) == [None] * 13
    for victim in (0, 6, 12):
        moved = list(tilted)
        moved[victim] = (4.0 * victim, 0.5 * victim, 5.0)
        distances = off_line(_planes(moved), normal)
        assert distances[victim] == pytest.approx(5.0)
        assert [d for k, d in enumerate(distances) if k != victim] == [None] * 12
    assert off_line(_planes(tilted[:2]), normal) == [None, None]
