"""``spineviewer export-images``: PNG, JPEG, PNG sequence and MP4 of a phantom series, and
clear messages (naming the file and the problem, exit 1, nothing written) on bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit
from video_probe import ffprobe_frames, needs_ffprobe

from spineviewer.cli import main
from spineviewer.cli.export_images import FORMATS
from spineviewer.dicom import Window, scan, to_display
from spineviewer.viewing.image_writers import IMAGE_FORMATS, SERIES_FORMATS

SAGITTAL = "S01_sagittal_t2"


@pytest.fixture(scope="module")
def study(demo_study_dir: Path):
    return scan(demo_study_dir).studies[0]


def _expected(study, number: int, index: int, window: Window | None = None) -> np.ndarray:
    (series,) = [s for s in study.series if s.number == number]
    stack = series.stacks[0]
    from spineviewer.dicom import StackPixels

    shown = to_display(StackPixels(stack).slice(index), stack.frames[index], window)
    return np.clip(shown, 0, 1) * 255.0


def test_formats_listed_without_importing_match_the_writers() -> None:
    assert set(FORMATS) == set(IMAGE_FORMATS) | set(SERIES_FORMATS)


def test_png_of_the_middle_slice_and_a_windowed_jpeg(
    demo_study_dir: Path, study, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "mid.png"
    assert main(["export-images", str(demo_study_dir), "--series", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    count = len(study.series[0].stacks[0])
    read = np.asarray(Image.open(out), dtype=float)
    assert np.abs(read - _expected(study, 1, count // 2)).max() <= 1.0

    jpeg = tmp_path / "first.jpg"
    args = ["export-images", str(demo_study_dir), "--series-uid", study.series[0].uid,
            "--slice", "1", "--window", "300", "400", "--out", str(jpeg)]  # fmt: skip
    assert main(args) == 0
    picture = Image.open(jpeg)
    assert picture.format == "JPEG" and picture.mode == "L"
    lossy = np.asarray(picture, dtype=float) - _expected(study, 1, 0, Window(300.0, 400.0))
    assert np.abs(lossy).mean() < 2.0  # JPEG at quality 95


@needs_ffprobe
def test_mp4_and_png_sequence_hold_every_slice(demo_study_dir: Path, study, tmp_path: Path) -> None:
    series = next(s for s in study.series if s.number == 2)  # five angled stacks, one list
    count = sum(len(st) for st in series.stacks)
    movie = tmp_path / "cine.mp4"
    args = ["export-images", str(demo_study_dir), "--series", "2", "--fps", "5"]
    assert main([*args, "--out", str(movie)]) == 0
    assert int(str(ffprobe_frames(movie)["nb_read_frames"])) == count
    frames = tmp_path / "frames"
    assert main([*args, "--format", "png-sequence", "--out", str(frames)]) == 0
    assert len(list(frames.glob("image-*.png"))) == count


def test_bad_series_and_paths_say_what_is_wrong(
    demo_study_dir: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "x.png"
    assert main(["export-images", str(demo_study_dir), "--series", "9", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{demo_study_dir}: no series 9; series here: 1 (SAG T2" in err
    missing = tmp_path / "nothing-here"
    assert main(["export-images", str(missing), "--series", "1", "--out", str(out)]) == 1
    assert f"{missing}: no such file or folder" in capsys.readouterr().err
    args = ["export-images", str(demo_study_dir), "--series", "1", "--out", str(out)]
    assert main([*args, "--slice", "99"]) == 1
    assert "--slice 99: series has 13 images" in capsys.readouterr().err
    assert main([*args, "--window", "40", "0"]) == 1
    assert "--window: window width must be >= 1" in capsys.readouterr().err
    assert main([*args, "--fps", "0"]) == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main([*args[:-1], str(blocker / "x.png")]) == 1
    assert f"{blocker / 'x.png'}: " in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_undecodable_pixel_data_names_the_file_and_leaves_nothing(
    demo_study_dir: Path, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "study"
    shutil.copytree(demo_study_dir / SAGITTAL, folder)
    broken = sorted(folder.glob("*.dcm"))[3]
    ds = pydicom.dcmread(broken)
    ds.PixelData = encapsulate([b"\xff\xd8 not a JPEG stream"])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.save_as(broken, enforce_file_format=True)
    out = tmp_path / "out" / "cine.mp4"
    assert main(["export-images", str(folder), "--series", "1", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{folder}: series 1: " in err and broken.name in err
    assert list((tmp_path / "out").iterdir()) == []
