"""Real DICOM files damaged one way each, with pydicom, as broken archives deliver them.

Shared by the DICOM, AI and batch tests of partial data. Each function rewrites the file at
``path`` in place (the tests call it on their own copies, never on a source folder).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit


def set_raw(path: Path, keyword: str, text: str) -> None:
    """Store ``text`` as the value of ``keyword`` byte for byte (``"NaN\\\\0"``, ``"abc"``),
    past pydicom's checks of the values it writes."""
    ds = pydicom.dcmread(path)
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    raw = text.encode("ascii")
    raw += b" " * (len(raw) % 2)
    ds._dict[tag] = RawDataElement(tag, dictionary_VR(tag), len(raw), raw, 0, False, True)  # type: ignore[attr-defined]
    ds.save_as(path)


def remove_pixel_data(path: Path) -> None:
    """The header without its Pixel Data element."""
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)


def jpeg_cut_short(path: Path, keep: float = 0.5) -> None:
    """The image as JPEG Baseline (8 bits) whose only fragment lost its end (only ``keep`` of
    the coded bytes, no end-of-image marker): what an interrupted transfer leaves."""
    _as_jpeg(path, lambda data: data[: int(len(data) * keep)])


def jpeg_garbage(path: Path) -> None:
    """JPEG Baseline in the header, bytes that are no JPEG stream in the fragment."""
    _as_jpeg(path, lambda data: np.random.default_rng(7).bytes(len(data) // 4))


def to_jpeg(path: Path) -> None:
    """The image as intact JPEG Baseline (8 bits)."""
    _as_jpeg(path, lambda data: data)


def _as_jpeg(path: Path, edit: Callable[[bytes], bytes]) -> None:
    ds = pydicom.dcmread(path)
    values = ds.pixel_array.astype(np.float64)
    grey = np.clip(values / max(float(values.max()), 1.0) * 255.0, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="JPEG", quality=95)
    fragment = edit(buffer.getvalue())
    fragment += b"\x00" * (len(fragment) % 2)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = encapsulate([fragment])
    ds["PixelData"].VR = "OB"
    ds.LossyImageCompression = "01"
    ds.save_as(path, enforce_file_format=True)


#: One way to break a file per bad-input case of the partial-data tests: the case name, how,
#: and a word its reason must hold.
DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "jpeg-cut-short": (jpeg_cut_short, "end marker"),
    "no-pixel-data": (remove_pixel_data, "no Pixel Data"),
    "spacing-zero": (lambda p: set_raw(p, "PixelSpacing", "0\\0"), "PixelSpacing"),
    "spacing-negative": (lambda p: set_raw(p, "PixelSpacing", "-0.8\\-0.8"), "PixelSpacing"),
    "spacing-nan": (lambda p: set_raw(p, "PixelSpacing", "NaN\\NaN"), "PixelSpacing"),
    "position-nan": (
        lambda p: set_raw(p, "ImagePositionPatient", "NaN\\-100\\190"),
        "ImagePositionPatient",
    ),
    "number-abc": (lambda p: set_raw(p, "PixelSpacing", "abc\\0.8"), "not a number"),
    "orientation-skew": (
        lambda p: set_raw(p, "ImageOrientationPatient", "0\\1\\0\\0\\0.5\\-0.866025"),
        "perpendicular",
    ),
}
