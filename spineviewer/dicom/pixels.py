"""Decode stored pixel values of one frame and apply the modality LUT.

Uncompressed little-endian frames are read straight from their byte offset (one ``readinto``,
no second parse of the header); every other transfer syntax is decoded by pydicom's pixel
backends (pylibjpeg, openjpeg, libjpeg, pyjpegls, RLE, deflate, big endian).
"""

from __future__ import annotations

import warnings
from typing import BinaryIO

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import get_frame
from pydicom.pixels import apply_modality_lut
from pydicom.uid import (
    UID,
    JPEG2000TransferSyntaxes,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
)

from spineviewer.dicom.errors import DicomLoadError, one_line
from spineviewer.dicom.header import NO_PIXEL_DATA, Frame, Instance

DEFLATED = "1.2.840.10008.1.2.1.99"
#: Syntaxes whose every frame ends with the marker FF D9 (JPEG's EOI, JPEG 2000's EOC), which
#: their coded data cannot hold elsewhere: a frame without it was cut short. The decoders
#: would return such a frame incomplete without a word (the missing part black or grey).
MARKER_ENDED = frozenset(
    str(uid) for uid in (*JPEGTransferSyntaxes, *JPEGLSTransferSyntaxes, *JPEG2000TransferSyntaxes)
)
#: The end marker may be followed by padding (to an even length, or an encoder's own).
END_MARKER_SLACK = 16
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def stored_dtype(instance: Instance) -> np.dtype:
    """Numpy dtype of the stored values of a native frame."""
    if instance.bits_allocated not in (8, 16, 32):
        raise DicomLoadError(f"{instance.ref}: {instance.bits_allocated}-bit pixels unsupported")
    kind = "i" if instance.pixel_representation == 1 else "u"
    return np.dtype(f"<{kind}{instance.bits_allocated // 8}")


def can_read_in_place(instance: Instance) -> bool:
    """True when a frame's stored values can be copied straight from the file."""
    return (
        instance.is_native
        and instance.samples_per_pixel == 1
        and instance.bits_allocated in (8, 16, 32)
    )


def fix_stored_bits(arr: np.ndarray, instance: Instance) -> np.ndarray:
    """Mask unused high bits (unsigned) or sign-extend from BitsStored (signed), in place."""
    unused = instance.bits_allocated - instance.bits_stored
    if unused <= 0 or arr.dtype.itemsize * 8 != instance.bits_allocated:
        return arr
    if instance.pixel_representation == 1:
        np.left_shift(arr, unused, out=arr)
        np.right_shift(arr, unused, out=arr)
    else:
        np.bitwise_and(arr, (1 << instance.bits_stored) - 1, out=arr)
    return arr


def read_native_into(frame: Frame, fh: BinaryIO, out: np.ndarray) -> None:
    """Copy one native frame's stored values from an open file into ``out`` (stored dtype)."""
    instance = frame.instance
    assert instance.pixel_offset is not None
    fh.seek(instance.pixel_offset + frame.index * instance.frame_bytes)
    view = memoryview(out).cast("B")  # type: ignore[arg-type]
    if fh.readinto(view) != instance.frame_bytes:  # type: ignore[attr-defined]
        raise DicomLoadError(f"{frame.label}: pixel data ends early")
    fix_stored_bits(out, instance)


def decode_stored(frame: Frame, fh: BinaryIO | None = None) -> np.ndarray:
    """Stored pixel values of one frame, shape (rows, columns) or (rows, columns, samples)."""
    instance = frame.instance
    if not instance.has_pixel_data:  # said plainly, not as a decoder's complaint
        raise DicomLoadError(f"{frame.label}: {NO_PIXEL_DATA}")
    if can_read_in_place(instance):
        out = np.empty((instance.rows, instance.columns), dtype=stored_dtype(instance))
        if fh is not None:
            read_native_into(frame, fh, out)
        else:
            with instance.ref.open() as own:
                read_native_into(frame, own, out)
        return out
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fh is None:
                with instance.ref.open() as own:
                    return _decode_with_pydicom(own, frame)
            return _decode_with_pydicom(fh, frame)
    except Exception as exc:
        syntax = UID(instance.transfer_syntax).name
        raise DicomLoadError(f"{frame.label}: cannot decode pixel data ({syntax}): {exc}") from exc


def _decode_with_pydicom(fh: BinaryIO, frame: Frame) -> np.ndarray:
    _check_complete(fh, frame)
    fh.seek(0)
    if frame.instance.transfer_syntax == DEFLATED:
        # The whole data set is compressed: no frame can be located without inflating it.
        ds = pydicom.dcmread(fh)
        arr = np.asarray(ds.pixel_array)
        return arr[frame.index] if frame.instance.number_of_frames > 1 else arr
    return np.asarray(pydicom.pixels.pixel_array(fh, index=frame.index))


def _check_complete(fh: BinaryIO, frame: Frame) -> None:
    """Raise when a JPEG-family frame lacks its end marker (its data was cut short)."""
    instance = frame.instance
    if instance.transfer_syntax not in MARKER_ENDED or instance.encapsulated_offset is None:
        return
    fh.seek(instance.encapsulated_offset)
    data = get_frame(fh, frame.index, number_of_frames=instance.number_of_frames)
    if b"\xff\xd9" not in data[-END_MARKER_SLACK:]:
        raise ValueError(
            f"the compressed frame has no end marker FF D9 ({len(data)} bytes): it was cut "
            "short and would show incomplete"
        )


def uses_lut(frame: Frame) -> bool:
    """True when the frame has a Modality LUT Sequence instead of rescale slope/intercept."""
    return frame.instance.modality_lut is not None


def output_dtype(frames: tuple[Frame, ...] | list[Frame]) -> np.dtype:
    """Smallest dtype that holds modality-LUT output of every frame exactly (of every bit
    depth among them: one file of a stack may be stored otherwise than the rest)."""
    if not frames:
        return np.dtype(np.float32)
    if any(uses_lut(f) for f in frames):
        return np.dtype(np.float32)
    depths = {(f.instance.bits_stored, f.instance.pixel_representation) for f in frames}
    lo = min(_stored_range(bits, signed)[0] for bits, signed in depths)
    hi = max(_stored_range(bits, signed)[1] for bits, signed in depths)
    if any(f.instance.samples_per_pixel > 1 for f in frames) or any(
        f.rescale_slope != 1.0 or not float(f.rescale_intercept).is_integer() for f in frames
    ):  # float32, unless a rescale reaches beyond its range
        largest = max(
            max(-lo, hi) * abs(f.rescale_slope) + abs(f.rescale_intercept) for f in frames
        )
        return np.dtype(np.float32 if largest < _FLOAT32_MAX else np.float64)
    low = lo + min(f.rescale_intercept for f in frames)
    high = hi + max(f.rescale_intercept for f in frames)
    for candidate in (np.uint8, np.int8, np.uint16, np.int16, np.int32):
        info = np.iinfo(candidate)
        if info.min <= low and high <= info.max:
            return np.dtype(candidate)
    return np.dtype(np.float64)


def _stored_range(bits: int, signed: int) -> tuple[int, int]:
    """Smallest and largest stored value of ``bits`` bits."""
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def apply_modality(stored: np.ndarray, frame: Frame, dtype: np.dtype) -> np.ndarray:
    """Modality LUT (PS3.3 C.11.1): rescale slope/intercept, or the LUT sequence."""
    if uses_lut(frame):
        ds = Dataset()
        ds.ModalityLUTSequence = [frame.instance.modality_lut]
        try:
            return np.asarray(apply_modality_lut(stored, ds), dtype=dtype)
        except (ValueError, TypeError, IndexError) as exc:  # pydicom's checks of the values
            raise DicomLoadError(
                f"{frame.label}: cannot apply the Modality LUT: {one_line(exc)}"
            ) from exc
    if frame.rescale_slope == 1.0 and frame.rescale_intercept == 0.0:
        return stored.astype(dtype, copy=stored.dtype != dtype)
    result = stored.astype(dtype)
    if frame.rescale_slope != 1.0:
        result *= dtype.type(frame.rescale_slope)
    result += dtype.type(frame.rescale_intercept)
    return result
