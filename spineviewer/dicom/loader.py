"""Pixels of a stack: one slice on demand (cached), or the whole volume in one pass.

Showing one slice never waits for the series: :meth:`StackPixels.slice` decodes just that
frame. :meth:`StackPixels.volume` reads every frame once, uncompressed bytes straight into the
pre-allocated volume.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import BinaryIO

import numpy as np

from spineviewer.dicom.cache import SHARED_CACHE, FrameCache
from spineviewer.dicom.errors import DicomLoadError
from spineviewer.dicom.header import Frame
from spineviewer.dicom.memory import empty_large
from spineviewer.dicom.pixels import (
    apply_modality,
    can_read_in_place,
    decode_stored,
    output_dtype,
    read_native_into,
    stored_dtype,
)
from spineviewer.dicom.sources import FileRef
from spineviewer.dicom.study_tree import Stack
from spineviewer.dicom.volume import Volume, stack_affine

#: ``progress(done, total)`` for long loads.
LoadProgress = Callable[[int, int], None]


class LoadCancelled(Exception):
    """A volume load was cancelled by its caller."""


class StackPixels:
    """Decoded pixel values (after the modality LUT) of one :class:`Stack`."""

    def __init__(self, stack: Stack, cache: FrameCache | None = None) -> None:
        self.stack = stack
        self.cache = SHARED_CACHE if cache is None else cache
        self.dtype = output_dtype(stack.frames)

    def __len__(self) -> int:
        return len(self.stack)

    @staticmethod
    def _key(frame: Frame) -> tuple[str, str, int]:
        return (str(frame.instance.ref), frame.instance.sop_instance_uid, frame.index)

    def slice(self, index: int) -> np.ndarray:
        """Slice ``index`` (display order), read-only; decoded once, then from the cache."""
        frame = self.stack.frames[index]
        key = self._key(frame)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        values = apply_modality(decode_stored(frame), frame, self.dtype)
        self._check_shape(frame, values)
        return self.cache.put(key, values)

    def remember(self, index: int, values: np.ndarray) -> np.ndarray:
        """Cache values of slice ``index`` decoded elsewhere (as :meth:`slice` would have)."""
        frame = self.stack.frames[index]
        self._check_shape(frame, values)
        return self.cache.put(self._key(frame), np.asarray(values, dtype=self.dtype))

    def _check_shape(self, frame: Frame, values: np.ndarray) -> None:
        expected = self.stack.shape
        if values.shape[:2] != expected:
            raise DicomLoadError(
                f"{frame.label}: decoded {values.shape[:2]} pixels, header says {expected}"
            )

    def volume(
        self,
        progress: LoadProgress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Volume:
        """Every slice in one array with its affine; colour stacks are refused."""
        frames = self.stack.frames
        if frames[0].instance.samples_per_pixel != 1:
            raise DicomLoadError(
                f"{self.stack.name} ({frames[0].label}): colour images do not form a volume"
            )
        rows, cols = self.stack.shape
        array = empty_large((len(frames), rows, cols), self.dtype)
        handles = _HandlePool()
        with handles:
            for k, frame in enumerate(frames):
                if cancelled is not None and cancelled():
                    raise LoadCancelled(f"{self.stack.name}: load cancelled at slice {k}")
                cached = self.cache.get(self._key(frame))
                if cached is not None:
                    array[k] = cached
                elif can_read_in_place(frame.instance):
                    self._read_native(frame, handles.get(frame.instance.ref), array[k])
                else:
                    stored = decode_stored(frame, handles.get(frame.instance.ref))
                    self._check_shape(frame, stored)
                    array[k] = apply_modality(stored, frame, self.dtype)
                if progress is not None:
                    progress(k + 1, len(frames))
        return self._wrap(array)

    def _read_native(self, frame: Frame, fh: BinaryIO, out: np.ndarray) -> None:
        dtype = stored_dtype(frame.instance)
        if dtype == self.dtype and frame.rescale_slope == 1 and frame.rescale_intercept == 0:
            read_native_into(frame, fh, out)
            return
        scratch = np.empty(out.shape, dtype=dtype)
        read_native_into(frame, fh, scratch)
        out[...] = apply_modality(scratch, frame, self.dtype)

    def _wrap(self, array: np.ndarray) -> Volume:
        frames = self.stack.frames
        first = frames[0]
        pixel = self.stack.pixel_spacing  # the stack's: one image's broken spacing is not it
        if self.stack.ordering.offsets is None or pixel is None:
            spacing = pixel or (1.0, 1.0)
            affine = np.diag([first.slice_thickness or 1.0, spacing[0], spacing[1], 1.0])
            return Volume(array, affine, first.instance.frame_of_reference_uid)
        positions = np.asarray([f.position for f in frames], dtype=np.float64)
        assert first.orientation is not None  # ordering.offsets implies full geometry
        affine = stack_affine(
            positions[0], first.orientation, pixel, positions, first.slice_thickness
        )
        return Volume(array, affine, first.instance.frame_of_reference_uid, positions)


class _HandlePool(ExitStack):
    """Keeps the last opened file open, so multi-frame files are opened once."""

    def __init__(self) -> None:
        super().__init__()
        self._ref: FileRef | None = None
        self._fh: BinaryIO | None = None

    def get(self, ref: FileRef) -> BinaryIO:
        if self._ref != ref or self._fh is None:
            if self._fh is not None:
                self._fh.close()
            self._fh = ref.open()
            self._ref = ref
        return self._fh

    def __exit__(self, *exc: object) -> bool:
        if self._fh is not None:
            self._fh.close()
        return bool(super().__exit__(*exc))  # type: ignore[arg-type]


def load_volume(stack: Stack, cache: FrameCache | None = None) -> Volume:
    """Shortcut: the whole stack as a :class:`Volume`."""
    return StackPixels(stack, cache).volume()
