"""Image export without Qt: a series' slices through the display pipeline to PNG, a PNG
sequence and an H.264 MP4 that a real decoder (ffprobe) reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from video_probe import ffprobe_frames, needs_ffprobe

from spineviewer.dicom import Window, scan, to_display
from spineviewer.viewing.display_transform import DisplayTransform
from spineviewer.viewing.image_export import ExportLook, render_frames, render_slice, square_pixels
from spineviewer.viewing.image_writers import (
    ExportCancelled,
    write_image,
    write_mp4,
    write_sequence,
)
from spineviewer.viewing.source import StackListSource


@pytest.fixture(scope="module")
def sagittal(demo_study_dir: Path) -> StackListSource:
    study = scan(demo_study_dir / "S01_sagittal_t2").studies[0]
    return StackListSource.from_stacks(study.series[0].stacks)


@pytest.fixture(scope="module")
def monochrome1_dir(demo_study_dir: Path, module_tmp: Path) -> Path:
    """The sagittal series again, its files saying MONOCHROME1 (the same stored values)."""
    folder = module_tmp / "mono1"
    shutil.copytree(demo_study_dir / "S01_sagittal_t2", folder)
    for path in folder.glob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.PhotometricInterpretation = "MONOCHROME1"
        ds.save_as(path, enforce_file_format=True)
    return folder


def _pipeline(source: StackListSource, index: int, window: Window | None = None) -> np.ndarray:
    shown = to_display(source.values(index), source.frame(index), window)
    return np.clip(shown, 0, 1) * 255.0


def test_png_holds_the_display_pipelines_grey_levels(sagittal, tmp_path: Path) -> None:
    index = len(sagittal) // 2
    path = write_image(tmp_path / "slice.png", render_slice(sagittal, index), "png")
    read = np.asarray(Image.open(path))
    assert Image.open(path).mode == "L" and read.shape == sagittal.values(index).shape
    assert np.abs(read.astype(float) - _pipeline(sagittal, index)).max() <= 1.0
    assert read.std() > 10  # an image, not a flat field
    window = Window(300.0, 400.0)
    windowed = render_slice(sagittal, index, ExportLook(window=window))
    assert np.abs(windowed - _pipeline(sagittal, index, window)).max() <= 1.0
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_monochrome1_is_exported_inverted_as_the_viewer_shows_it(
    sagittal, monochrome1_dir: Path
) -> None:
    study = scan(monochrome1_dir).studies[0]
    inverted = StackListSource.from_stacks(study.series[0].stacks)
    assert inverted.info(0).photometric == "MONOCHROME1"
    index = len(inverted) // 2
    plain, mono1 = render_slice(sagittal, index), render_slice(inverted, index)
    assert np.abs(mono1.astype(int) - (255 - plain.astype(int))).max() <= 1
    assert np.abs(mono1 - _pipeline(inverted, index)).max() <= 1.0
    # the viewer's Invert on a MONOCHROME1 image gives the MONOCHROME2 look back
    again = render_slice(inverted, index, ExportLook(inverted=True))
    assert np.abs(again.astype(int) - plain.astype(int)).max() <= 1


def test_turns_and_non_square_pixels_are_shown_as_on_screen(sagittal) -> None:
    index = 0
    plain = render_slice(sagittal, index)
    turned = DisplayTransform(1, 1).rotated(clockwise=True)
    assert np.array_equal(render_slice(sagittal, index, ExportLook(transform=turned)),
                          np.rot90(plain, k=-1))  # fmt: skip
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    tall = square_pixels(image, (2.0, 1.0))  # rows 2 mm apart: twice as many rows
    assert tall.shape == (6, 4) and np.array_equal(tall[::2], image)
    assert square_pixels(image, (0.5, 0.5)) is image


@needs_ffprobe
def test_mp4_plays_in_a_real_decoder_with_every_slice(sagittal, tmp_path: Path) -> None:
    path = tmp_path / "cine.mp4"
    seen: list[int] = []
    count = write_mp4(path, render_frames(sagittal), len(sagittal), 8.0,
                      progress=lambda done, total, text: seen.append(done))  # fmt: skip
    assert count == len(sagittal) and seen[-1] == len(sagittal)
    probe = ffprobe_frames(path)
    assert probe["codec_name"] == "h264" and probe["pix_fmt"] == "yuv420p"
    assert int(str(probe["nb_read_frames"])) == len(sagittal)
    assert (probe["height"], probe["width"]) == sagittal.values(0).shape


@needs_ffprobe
def test_mp4_of_odd_sized_frames_is_padded_to_even(tmp_path: Path) -> None:
    frames = [np.full((33, 47), 40 * k, dtype=np.uint8) for k in range(5)]
    path = tmp_path / "odd.mp4"
    assert write_mp4(path, iter(frames), 5, 5.0) == 5
    probe = ffprobe_frames(path)
    assert (probe["width"], probe["height"], int(str(probe["nb_read_frames"]))) == (48, 34, 5)


def test_cancelled_or_failed_writes_leave_nothing(sagittal, tmp_path: Path) -> None:
    calls = iter(range(100))
    with pytest.raises(ExportCancelled):
        write_mp4(tmp_path / "c.mp4", render_frames(sagittal), len(sagittal), 10.0,
                  cancelled=lambda: next(calls) >= 3)  # fmt: skip
    with pytest.raises(ExportCancelled):
        write_sequence(tmp_path / "seq", render_frames(sagittal), len(sagittal),
                       cancelled=lambda: True)  # fmt: skip

    def broken():
        yield render_slice(sagittal, 0)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_mp4(tmp_path / "b.mp4", broken(), 2, 10.0)
    with pytest.raises(ValueError, match="frames per second"):
        write_mp4(tmp_path / "z.mp4", render_frames(sagittal), 1, 0.0)
    assert list(tmp_path.iterdir()) == []


def test_png_sequence_is_numbered_and_refuses_a_full_folder(sagittal, tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    written = write_sequence(folder, render_frames(sagittal), len(sagittal))
    assert [p.name for p in written] == [f"image-{k:04d}.png" for k in range(1, len(sagittal) + 1)]
    assert sorted(folder.iterdir()) == written
    last = np.asarray(Image.open(written[-1]))
    assert np.abs(last - _pipeline(sagittal, len(sagittal) - 1)).max() <= 1.0
    with pytest.raises(ValueError, match="not an empty folder"):
        write_sequence(folder, render_frames(sagittal), len(sagittal))
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]


def test_burned_in_corner_text_follows_phi_free(sagittal) -> None:
    study = {"PatientName": "DOE^JANE", "PatientID": "ID123", "StudyDate": "20240102"}
    plain = render_slice(sagittal, 0)
    shown = render_slice(sagittal, 0, ExportLook(overlays=True, study=study))
    hidden = render_slice(sagittal, 0, ExportLook(overlays=True, phi_free=True, study=study))
    corner = (slice(0, 50), slice(0, 110))
    assert not np.array_equal(shown[corner], plain[corner])  # text drawn
    assert not np.array_equal(shown[corner], hidden[corner])  # the name is not drawn
    middle = (slice(120, 220), slice(120, 220))
    assert np.array_equal(shown[middle], plain[middle])  # the image itself untouched
