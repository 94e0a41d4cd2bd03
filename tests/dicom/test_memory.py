"""Large pixel arrays: huge-page backed where Linux offers it, plain numpy otherwise; either
way an ordinary writable array whose memory lives as long as any view of it."""

from __future__ import annotations

import gc

import numpy as np

from spineviewer.dicom.memory import HUGE_PAGE_THRESHOLD_BYTES, empty_large


def test_a_large_array_is_writable_and_outlives_its_name() -> None:
    shape = (40, 512, 512)  # 20 MiB of int16 ... doubled below to pass the threshold
    arr = empty_large((shape[0] * 2, *shape[1:]), np.int16)
    assert arr.nbytes >= HUGE_PAGE_THRESHOLD_BYTES
    assert arr.shape == (80, 512, 512) and arr.dtype == np.int16 and arr.flags.writeable
    arr[:] = np.arange(80, dtype=np.int16)[:, None, None]
    view = arr[7]
    del arr
    gc.collect()
    assert int(view.sum()) == 7 * 512 * 512  # the mapping is alive while a view is


def test_a_small_array_is_plain_numpy() -> None:
    arr = empty_large((4, 8, 8), np.float32)
    assert arr.shape == (4, 8, 8) and arr.dtype == np.float32 and arr.base is None
