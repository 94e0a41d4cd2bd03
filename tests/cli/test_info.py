"""``spineviewer info``: what a user sees for a study folder, as text and as JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from spineviewer.cli import main

REAL_CT = (
    Path(__file__).resolve().parents[3] / "shared/data/real/totalsegmentator-examples/ct_dicom"
)


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """The real CT plus a truncated file and a text file."""
    if not REAL_CT.is_dir():
        pytest.skip(f"real CT examples not found at {REAL_CT}")
    folder = tmp_path / "study"
    shutil.copytree(REAL_CT, folder / "ct")
    shutil.copy(get_testdata_file("MR_truncated.dcm"), folder / "broken.dcm")
    (folder / "notes.txt").write_text("not an image\n")
    return folder


def test_info_json_lists_stack_geometry_and_skipped_files(mixed_folder: Path, capsys) -> None:
    assert main(["info", str(mixed_folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"studies", "skipped"}
    (study,) = data["studies"]
    (series,) = study["series"]
    (stack,) = series["stacks"]
    assert stack["modality"] == "CT"
    assert stack["plane"] == "axial"
    assert stack["images"] == 20
    assert stack["size"] == [512, 512]
    assert stack["pixel_spacing_mm"] == pytest.approx([0.9765625, 0.9765625])
    assert stack["slice_spacing_mm"] == pytest.approx(2.0)  # SliceThickness says 3.0
    assert stack["slice_thickness_mm"] == pytest.approx(3.0)
    assert [t["uid"] for t in stack["transfer_syntaxes"]] == ["1.2.840.10008.1.2.4.90"]
    reasons = {Path(s["path"]).name: s["reason"] for s in data["skipped"]}
    assert set(reasons) == {"broken.dcm", "notes.txt"}
    assert "truncated pixel data" in reasons["broken.dcm"]
    assert "not a DICOM file" in reasons["notes.txt"]


def test_info_text_names_plane_spacing_and_skipped(mixed_folder: Path, capsys) -> None:
    assert main(["info", str(mixed_folder)]) == 0
    out = capsys.readouterr().out
    assert "CT axial, 20 images of 512x512" in out
    assert "slices 2 mm apart" in out
    assert "JPEG 2000 Image Compression (Lossless Only)" in out
    assert "Skipped 2 file(s)" in out
    assert "broken.dcm: truncated pixel data" in out


def test_info_on_nothing_readable_exits_1(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.txt").write_text("x")
    assert main(["info", str(tmp_path)]) == 1
    assert "No DICOM images found." in capsys.readouterr().out


def test_info_on_missing_path_says_so(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    assert main(["info", str(missing), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["skipped"] == [{"path": str(missing), "reason": "no such file or folder"}]


def test_no_subcommand_prints_help_and_fails(capsys) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_usage_error_returns_2_instead_of_exiting(capsys) -> None:
    assert main(["info"]) == 2
    assert "the following arguments are required: path" in capsys.readouterr().err


def test_version_returns_0(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("spineviewer ")
