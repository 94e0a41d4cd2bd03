"""Exported images to files: PNG or JPEG, a numbered PNG sequence, an H.264 MP4 (no Qt).

Every writer writes under a hidden temporary name beside the target and renames it into place
when done, so a failure or a cancel leaves nothing half-written. Frames are taken one at a
time from an iterator (memory bounded); the MP4 goes through the ffmpeg that the
``imageio-ffmpeg`` package ships. No metadata is written: a PNG or JPEG holds pixels only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "IMAGE_FORMATS",
    "SERIES_FORMATS",
    "ExportCancelled",
    "even_canvas",
    "fit_to",
    "format_of",
    "write_image",
    "write_mp4",
    "write_sequence",
]

Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]

#: Single-image formats and their Pillow names.
IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG"}
#: Formats of a whole series or cine loop.
SERIES_FORMATS = ("mp4", "png-sequence")
_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".mp4": "mp4"}
JPEG_QUALITY = 95
MAX_FPS = 120.0


class ExportCancelled(Exception):
    """The user cancelled an export; nothing was left behind."""


def format_of(path: Path) -> str | None:
    """The format a file name asks for (``.png``, ``.jpg``/``.jpeg``, ``.mp4``), else None."""
    return _SUFFIXES.get(path.suffix.lower())


def _no_progress(done: int, total: int, text: str) -> None:
    return None


def _never() -> bool:
    return False


@contextlib.contextmanager
def _atomic_file(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` (same suffix) renamed to it when the block ends well."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_name(path, path.suffix)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _temp_name(path: Path, suffix: str = "") -> Path:
    """A hidden, unused name beside ``path`` (created by the writer, with the usual modes)."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(6)}.partial{suffix}")


def write_image(path: Path, image: np.ndarray, fmt: str = "png") -> Path:
    """``image`` (uint8 grey or RGB) as a PNG or JPEG at ``path``; returns ``path``."""
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"unknown image format {fmt!r}; expected one of {sorted(IMAGE_FORMATS)}")
    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    options = {"quality": JPEG_QUALITY} if fmt == "jpeg" else {}
    with _atomic_file(path) as temp:
        picture.save(temp, format=IMAGE_FORMATS[fmt], **options)
    return path


def write_sequence(
    folder: Path,
    frames: Iterable[np.ndarray],
    total: int,
    progress: Progress = _no_progress,
    cancelled: Cancelled = _never,
) -> list[Path]:
    """Frames as ``folder/image-0001.png`` ...; ``folder`` must not exist or be empty.

    The images are written into a hidden folder beside it, which becomes ``folder`` at the end.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"{folder}: exists and is not an empty folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_name(folder)
    temp.mkdir()
    digits = max(4, len(str(total)))
    names: list[str] = []
    try:
        for number, image in enumerate(frames, start=1):
            if cancelled():
                raise ExportCancelled(f"{folder}: export cancelled")
            name = f"image-{number:0{digits}d}.png"
            Image.fromarray(np.ascontiguousarray(image)).save(temp / name, format="PNG")
            names.append(name)
            progress(number, total, f"image {number} of {total}")
        if folder.exists():
            folder.rmdir()
        os.replace(temp, folder)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return [folder / name for name in names]


def fit_to(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` centred on a black canvas of ``shape`` (rows, cols), cropped where larger."""
    rows, cols = shape
    if image.shape[:2] == (rows, cols):
        return image
    out = np.zeros((rows, cols, *image.shape[2:]), dtype=image.dtype)
    r, c = min(rows, image.shape[0]), min(cols, image.shape[1])
    top, left = (rows - r) // 2, (cols - c) // 2
    src_top, src_left = (image.shape[0] - r) // 2, (image.shape[1] - c) // 2
    out[top : top + r, left : left + c] = image[src_top : src_top + r, src_left : src_left + c]
    return out


def even_canvas(shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, cols) rounded up to even numbers (H.264 in yuv420p needs even sizes)."""
    return shape[0] + shape[0] % 2, shape[1] + shape[1] % 2


def write_mp4(
    path: Path,
    frames: Iterable[np.ndarray],
    total: int,
    fps: float,
    progress: Progress = _no_progress,
    cancelled: Cancelled = _never,
) -> int:
    """Frames as an H.264 MP4 (yuv420p) at ``fps``; every frame on the first one's canvas
    (padded to even rows and columns, black around smaller ones). Returns the frame count."""
    import imageio_ffmpeg

    if not 0.0 < fps <= MAX_FPS:
        raise ValueError(f"frames per second must be above 0 and at most {MAX_FPS:g}, got {fps}")
    count = 0
    with _atomic_file(path) as temp:
        writer = None
        try:
            for image in frames:
                if cancelled():
                    raise ExportCancelled(f"{path}: export cancelled")
                if writer is None:
                    canvas = even_canvas(image.shape)
                    colour = image.ndim == 3
                    writer = imageio_ffmpeg.write_frames(
                        str(temp), (canvas[1], canvas[0]), fps=fps, codec="libx264",
                        pix_fmt_in="rgb24" if colour else "gray", pix_fmt_out="yuv420p",
                        macro_block_size=1, quality=None, ffmpeg_log_level="error",
                        output_params=["-crf", "18", "-movflags", "+faststart"],
                    )  # fmt: skip
                    writer.send(None)
                frame = fit_to(image, canvas)
                if colour and frame.ndim == 2:
                    frame = np.repeat(frame[:, :, None], 3, axis=2)
                elif not colour and frame.ndim == 3:
                    frame = frame.mean(axis=2).astype(np.uint8)
                writer.send(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
                count += 1
                progress(count, total, f"frame {count} of {total}")
            if writer is None:
                raise ValueError(f"{path}: no images to write")
        finally:
            if writer is not None:
                writer.close()
    return count
