"""A series' slices as 8-bit images, as the viewer shows them, without Qt (image export).

Each slice goes through the product's display pipeline (:func:`spineviewer.dicom.to_display`:
modality LUT output, VOI window or VOI LUT, MONOCHROME1 inverted after the VOI), then the
viewport's turns and flips and its Invert, then to square pixels (true aspect, as a viewport
draws in millimetres). With ``overlays`` the four blocks of corner text
(:func:`spineviewer.viewing.corners.corner_text`) are burned in with Pillow; ``phi_free``
leaves out every line that names the patient, as PHI-free mode does on screen.
The writers are in :mod:`spineviewer.viewing.image_writers`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from spineviewer.dicom import Window, apply_window, to_display
from spineviewer.dicom.display import default_window, window_from_data
from spineviewer.viewing.corners import CornerText, corner_text
from spineviewer.viewing.display_transform import DisplayTransform
from spineviewer.viewing.source import SliceInfo, SliceSource

__all__ = [
    "ExportLook",
    "burn_corner_text",
    "display_grey",
    "render_frames",
    "render_slice",
    "square_pixels",
    "to_8bit",
]

#: Pixel spacings closer than this (relative) count as square: no resampling.
SQUARE_TOLERANCE = 0.01


@dataclass(frozen=True)
class ExportLook:
    """How the exported images look: what a viewport would show.

    ``window`` None: each image's own VOI (VOI LUT, header window, else one from its data).
    ``transform``: the viewport's turns and flips (its image size is taken from each slice).
    ``study``: the patient / study attributes for the corner text (``Study.info``).
    """

    window: Window | None = None
    transform: DisplayTransform | None = None
    inverted: bool = False
    overlays: bool = False
    phi_free: bool = False
    study: Mapping[str, str] = field(default_factory=dict)


def display_grey(values: np.ndarray, info: SliceInfo, window: Window | None) -> np.ndarray:
    """Grey in [0, 1] (white 1) through the display pipeline; a reformatted slice (no DICOM
    frame) is windowed with ``window`` or its data's percentiles."""
    if info.frame is not None:
        return to_display(values, info.frame, window)
    shown = apply_window(values, window or window_from_data(values))
    return np.float32(1.0) - shown if info.photometric == "MONOCHROME1" else shown


def to_8bit(grey: np.ndarray) -> np.ndarray:
    """[0, 1] grey (or RGB) to uint8, rounded to the nearest level."""
    return (np.clip(grey, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def square_pixels(image: np.ndarray, spacing: tuple[float, float] | None) -> np.ndarray:
    """``image`` (rows, cols[, 3]) resampled (nearest neighbour) so its pixels are square: the
    finer axis keeps its pixel count, the coarser one is stretched. Unchanged when square."""
    if spacing is None:
        return image
    dy, dx = (float(s) for s in spacing)
    if dy <= 0 or dx <= 0 or abs(dy - dx) <= SQUARE_TOLERANCE * max(dy, dx):
        return image
    rows, cols = image.shape[:2]
    step = min(dy, dx)
    out_rows, out_cols = max(1, round(rows * dy / step)), max(1, round(cols * dx / step))
    r = np.minimum(((np.arange(out_rows) + 0.5) * rows / out_rows).astype(int), rows - 1)
    c = np.minimum(((np.arange(out_cols) + 0.5) * cols / out_cols).astype(int), cols - 1)
    return np.ascontiguousarray(image[r[:, None], c[None, :]])


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def burn_corner_text(image: np.ndarray, text: CornerText) -> np.ndarray:
    """A copy of ``image`` (uint8 grey or RGB) with the corner text drawn in white with a black
    outline, sized to the image (about 1/40 of its height, at least 9 pixels)."""
    canvas = Image.fromarray(np.ascontiguousarray(image))
    draw = ImageDraw.Draw(canvas)
    height, width = image.shape[:2]
    size = max(9, min(height, width) // 40)
    font = _font(size)
    white: int | tuple[int, int, int] = 255 if canvas.mode == "L" else (255, 255, 255)
    black: int | tuple[int, int, int] = 0 if canvas.mode == "L" else (0, 0, 0)
    margin, step = max(3, size // 3), round(size * 1.25)

    def block(lines: Sequence[str], right: bool, bottom: bool) -> None:
        for i, line in enumerate(lines):
            row = len(lines) - 1 - i if bottom else i
            y = height - margin - (row + 1) * step if bottom else margin + row * step
            x = width - margin if right else margin
            draw.text(
                (x, y), line, fill=white, font=font, anchor="ra" if right else "la",
                stroke_width=1, stroke_fill=black,
            )  # fmt: skip

    block(text.top_left, False, False)
    block(text.top_right, True, False)
    block(text.bottom_left, False, True)
    block(text.bottom_right, True, True)
    return np.asarray(canvas)


def _shown_window(values: np.ndarray, info: SliceInfo, window: Window | None) -> Window | None:
    """The window the corner text names (None where a VOI LUT is applied)."""
    if window is not None or info.frame is None:
        return window
    if info.frame.instance.voi_lut is not None:
        return None
    return default_window(info.frame, values)


def render_slice(source: SliceSource, index: int, look: ExportLook | None = None) -> np.ndarray:
    """Slice ``index`` of ``source`` as a uint8 image (rows, cols) or (rows, cols, 3)."""
    look = look or ExportLook()
    values, info = source.values(index), source.info(index)
    grey = to_8bit(display_grey(values, info, look.window))
    spacing = info.pixel_spacing
    if look.transform is not None:
        rows, cols = values.shape[:2]
        shown = look.transform.with_image(rows, cols, spacing or (1.0, 1.0))
        grey, spacing = shown.apply(grey), shown.shown_spacing
    if look.inverted:
        grey = np.uint8(255) - grey
    image = square_pixels(np.ascontiguousarray(grey), spacing)
    if not look.overlays:
        return image
    text = corner_text(
        look.study, source.name, source.modality, index, len(source), info,
        _shown_window(values, info, look.window), 1.0, phi_free=look.phi_free,
    )  # fmt: skip
    return burn_corner_text(image, text)


def render_frames(
    source: SliceSource, look: ExportLook | None = None, indices: Sequence[int] | None = None
) -> Iterator[np.ndarray]:
    """The slices (``indices``, default all in order) rendered one at a time (memory bounded)."""
    for index in range(len(source)) if indices is None else indices:
        yield render_slice(source, index, look)
