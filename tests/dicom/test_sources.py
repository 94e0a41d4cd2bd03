"""Where files come from: folder trees, zip archives read in place, DICOMDIR."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_helpers import sample_path, tree_digest, tree_listing

from spineviewer.dicom import FrameCache, StackPixels, scan


def volumes_of(result):
    return [StackPixels(s, FrameCache()).volume() for s in result.stacks()]


def zip_folder(folder: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    """Zip every file under ``folder`` with its relative name, plus ``extra`` raw members."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            out.write(path, path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            out.writestr(zipfile.ZipInfo(name), data)
    return archive


@pytest.fixture
def nested_tree(tmp_path, write_ct_slice) -> Path:
    """Five slices of one series spread over nested folders (and a .DS_Store)."""
    root = tmp_path / "tree"
    folders = ["", "a", "a/b", "a/b/c", "d"]
    for k, sub in enumerate(folders):
        write_ct_slice(
            root / sub / f"img{k}.dcm", position=(0, 0, 1.5 * k), instance_number=k, marker=k
        )
    (root / "a" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return root


def test_folder_tree_is_walked_recursively(nested_tree) -> None:
    result = scan(nested_tree)

    assert result.skipped == ()  # .DS_Store is ignored silently
    [stack] = result.stacks()
    assert len(stack) == 5
    assert stack.slice_spacing == pytest.approx(1.5)
    assert [f.instance.ref.name for f in stack.frames] == [f"img{k}.dcm" for k in range(5)]


def test_zip_is_read_in_place_with_the_same_result_as_the_folder(tmp_path, nested_tree) -> None:
    archive = zip_folder(nested_tree, tmp_path / "zipped" / "study.zip")
    listing = tree_listing(tmp_path)
    digest = tree_digest(archive)

    from_folder = scan(nested_tree)
    from_zip = scan(archive)

    [folder_stack] = from_folder.stacks()
    [zip_stack] = from_zip.stacks()
    assert from_zip.skipped == ()
    assert {f.instance.ref.path for f in zip_stack.frames} == {archive}
    assert [f.instance.ref.member for f in zip_stack.frames] == [
        f.instance.ref.path.relative_to(nested_tree).as_posix() for f in folder_stack.frames
    ]
    assert zip_stack.name == folder_stack.name
    [folder_volume] = volumes_of(from_folder)
    [zip_volume] = volumes_of(from_zip)
    np.testing.assert_array_equal(zip_volume.array, folder_volume.array)
    np.testing.assert_allclose(zip_volume.affine, folder_volume.affine)
    assert StackPixels(zip_stack, FrameCache()).slice(2)[0, 0] == folder_volume.array[2, 0, 0]
    assert tree_listing(tmp_path) == listing  # nothing extracted anywhere
    assert tree_digest(archive) == digest


def test_zip_inside_a_folder_is_read_too(tmp_path, nested_tree, write_ct_slice) -> None:
    study = tmp_path / "study"
    zip_folder(nested_tree, study / "part1.zip")
    write_ct_slice(study / "loose.dcm", position=(0, 0, 7.5), instance_number=5, marker=5)

    [stack] = scan(study).stacks()

    assert len(stack) == 6
    assert stack.frames[-1].instance.ref.name == "loose.dcm"
    assert stack.frames[0].instance.ref.member == "img0.dcm"


UNSAFE_MEMBERS = ["../evil.dcm", "/abs.dcm", "sub/../../evil.dcm"]


@pytest.fixture
def zip_with_unsafe_member(tmp_path, nested_tree):
    def make(member: str) -> Path:
        evil = sample_path("MR_small.dcm").read_bytes()  # would be a second series if read
        return zip_folder(nested_tree, tmp_path / "in" / "study.zip", {member: evil})

    return make


@pytest.mark.parametrize("member", UNSAFE_MEMBERS)
def test_unsafe_zip_member_is_skipped_and_the_rest_loads(
    tmp_path, zip_with_unsafe_member, member
) -> None:
    archive = zip_with_unsafe_member(member)
    listing = tree_listing(tmp_path)
    digest = tree_digest(archive)

    result = scan(archive)
    volumes = volumes_of(result)

    [skipped] = result.skipped
    assert skipped.path == f"{archive}!{member}"
    assert "refused" in skipped.reason
    [stack] = result.stacks()
    assert len(stack) == 5
    assert stack.modality == "CT"
    assert volumes[0].shape == (5, 128, 128)
    assert tree_listing(tmp_path) == listing
    assert not (tmp_path / "evil.dcm").exists()
    assert not Path("/abs.dcm").exists()
    assert tree_digest(archive) == digest


@pytest.mark.parametrize("member", UNSAFE_MEMBERS)
def test_unsafe_zip_member_reason_says_it_escapes_the_archive(
    zip_with_unsafe_member, member
) -> None:
    [skipped] = scan(zip_with_unsafe_member(member)).skipped

    assert "escapes the archive" in skipped.reason


def dicomdir_references(dicomdir: Path) -> set[Path]:
    ds = pydicom.dcmread(dicomdir)
    return {
        dicomdir.parent.joinpath(*record.ReferencedFileID)
        for record in ds.DirectoryRecordSequence
        if "ReferencedFileID" in record
    }


def test_dicomdir_given_directly_yields_its_referenced_files(
    dicomdir_tree, scan_and_load_unchanged
) -> None:
    expected = dicomdir_references(dicomdir_tree / "DICOMDIR")
    assert len(expected) == 31

    result, volumes = scan_and_load_unchanged(dicomdir_tree / "DICOMDIR", dicomdir_tree)

    assert result.skipped == ()
    found = {f.instance.ref.path for s in result.stacks() for f in s.frames}
    assert found == expected
    assert sum(v.shape[0] for v in volumes) == 31
    assert len(result.studies) == 6
    modalities = {s.modality for s in result.stacks()}
    assert modalities == {"CT", "CR", "MR"}


def test_dicomdir_naming_a_missing_file_skips_that_entry(
    tmp_path, dicomdir_tree, scan_and_load_unchanged
) -> None:
    copy = tmp_path / "media"
    shutil.copytree(dicomdir_tree, copy)
    missing = copy / "77654033" / "CR1" / "6154"
    missing.unlink()

    direct, volumes = scan_and_load_unchanged(copy / "DICOMDIR", copy)
    from_folder = scan(copy)

    for result in (direct, from_folder):
        [skipped] = result.skipped
        assert skipped.path == str(missing)
        assert "missing" in skipped.reason
        assert "DICOMDIR" in skipped.reason
        assert sum(len(s) for s in result.stacks()) == 30
    assert sum(v.shape[0] for v in volumes) == 30


def test_missing_path_is_reported_not_raised(tmp_path) -> None:
    result = scan(tmp_path / "nowhere")

    [skipped] = result.skipped
    assert skipped.path == str(tmp_path / "nowhere")
    assert "no such file" in skipped.reason
    assert result.studies == ()
