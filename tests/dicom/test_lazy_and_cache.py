"""One slice is decoded on demand, before (and without) the rest; the frame cache's budget."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from dicom_helpers import CT_SMALL_INTERCEPT

from spineviewer.dicom import (
    DicomLoadError,
    FrameCache,
    LoadCancelled,
    ScanCancelled,
    StackPixels,
    first_image,
    scan,
)


@pytest.fixture
def ct_folder(tmp_path, axial_series):
    """Four real CT slices (markers 0..3 in pixel (0, 0)), scanned."""
    paths = axial_series(n=4)
    result = scan(tmp_path / "series")
    [stack] = result.stacks()
    return paths, stack


def expected_slice(path) -> np.ndarray:
    ds = pydicom.dcmread(path)
    return ds.pixel_array.astype(np.int32) + CT_SMALL_INTERCEPT


def corrupt_pixel_data(path) -> None:
    """Cut the file in the middle of its pixel data."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5000])


def test_slice_decodes_only_its_own_file(ct_folder) -> None:
    paths, stack = ct_folder
    for other in (paths[0], paths[1], paths[3]):
        corrupt_pixel_data(other)
    cache = FrameCache()
    pixels = StackPixels(stack, cache)

    values = pixels.slice(2)

    np.testing.assert_array_equal(values, expected_slice(paths[2]))
    assert values[0, 0] == 2 + CT_SMALL_INTERCEPT
    assert (len(cache), cache.misses, cache.hits) == (1, 1, 0)
    with pytest.raises(DicomLoadError, match=r"slice01\.dcm.*ends early"):
        pixels.slice(1)
    with pytest.raises(DicomLoadError, match=r"slice00\.dcm"):
        pixels.volume()


def test_file_deleted_after_scan_is_a_load_error_and_others_still_load(ct_folder) -> None:
    paths, stack = ct_folder
    paths[1].unlink()
    pixels = StackPixels(stack, FrameCache())

    np.testing.assert_array_equal(pixels.slice(2), expected_slice(paths[2]))
    with pytest.raises(DicomLoadError, match=r"slice01\.dcm"):
        pixels.slice(1)


def test_slices_come_from_the_cache_and_are_read_only(ct_folder) -> None:
    _, stack = ct_folder
    cache = FrameCache()
    pixels = StackPixels(stack, cache)

    first = pixels.slice(0)
    again = pixels.slice(0)

    assert again is first
    assert (cache.hits, cache.misses) == (1, 1)
    assert not first.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = 0


def test_volume_after_some_slices_equals_fresh_volume(ct_folder) -> None:
    paths, stack = ct_folder
    pixels = StackPixels(stack, FrameCache())
    pixels.slice(3)
    pixels.slice(1)

    volume = pixels.volume()

    expected = np.stack([expected_slice(p) for p in paths])
    np.testing.assert_array_equal(volume.array, expected)
    np.testing.assert_array_equal(StackPixels(stack, FrameCache()).volume().array, expected)
    assert volume.array.flags.writeable


def test_volume_reports_progress_per_slice(ct_folder) -> None:
    _, stack = ct_folder
    calls: list[tuple[int, int]] = []

    StackPixels(stack, FrameCache()).volume(
        progress=lambda done, total: calls.append((done, total))
    )

    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_volume_load_can_be_cancelled(ct_folder) -> None:
    _, stack = ct_folder
    done: list[int] = []

    with pytest.raises(LoadCancelled, match="slice 2"):
        StackPixels(stack, FrameCache()).volume(
            progress=lambda k, _total: done.append(k), cancelled=lambda: len(done) >= 2
        )
    assert done == [1, 2]


def test_scan_reports_progress_and_can_be_cancelled(tmp_path, axial_series) -> None:
    paths = axial_series(n=4)
    seen: list[tuple[int, str]] = []

    scan(tmp_path / "series", progress=lambda n, name: seen.append((n, name)))
    assert seen == [(k + 1, str(p)) for k, p in enumerate(paths)]

    with pytest.raises(ScanCancelled, match="after 3 files"):
        scan(
            tmp_path / "series",
            cancelled=lambda: len(seen) >= 7,
            progress=lambda n, name: seen.append((n, name)),
        )


def test_first_image_is_shown_without_scanning_the_rest(tmp_path, axial_series) -> None:
    paths = axial_series(n=3)
    (tmp_path / "series" / "broken.dcm").write_bytes(b"not dicom")

    frame, values = first_image(tmp_path / "series")

    assert frame.instance.ref.path == paths[0]
    np.testing.assert_array_equal(values, expected_slice(paths[0]))


def frame_of(nbytes: int, value: int = 0) -> np.ndarray:
    return np.full(nbytes, value, dtype=np.uint8)


def test_cache_evicts_least_recently_used_within_budget() -> None:
    cache = FrameCache(budget_bytes=250)
    cache.put("a", frame_of(100))
    cache.put("b", frame_of(100))
    assert cache.get("a") is not None  # "a" is now the most recently used

    cache.put("c", frame_of(100))

    assert cache.nbytes == 200 <= cache.budget_bytes
    assert len(cache) == 2
    assert cache.get("b") is None  # evicted: least recently used
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert (cache.hits, cache.misses) == (3, 1)


def test_cache_never_holds_more_than_its_budget() -> None:
    cache = FrameCache(budget_bytes=1000)
    for k in range(50):
        cache.put(k, frame_of(90 + k))
        assert cache.nbytes <= 1000

    kept = [k for k in range(50) if cache.get(k) is not None]
    # The newest frames survive: 139 + 138 + ... + 133 = 952 bytes, adding 132 would be 1084.
    assert kept == list(range(43, 50))
    assert cache.nbytes == sum(90 + k for k in kept) == 952


def test_cache_replacing_a_key_counts_its_bytes_once() -> None:
    cache = FrameCache(budget_bytes=1000)
    cache.put("a", frame_of(300))
    cache.put("a", frame_of(200, value=7))

    assert (len(cache), cache.nbytes) == (1, 200)
    assert cache.get("a")[0] == 7


def test_cache_returns_read_only_arrays_and_skips_oversized_ones() -> None:
    cache = FrameCache(budget_bytes=100)
    small = cache.put("small", frame_of(50))
    big = cache.put("big", frame_of(101))

    assert not small.flags.writeable
    assert not big.flags.writeable
    assert cache.get("big") is None
    assert cache.get("small") is small
    assert cache.nbytes == 50


def test_cache_clear_and_invalid_budget() -> None:
    cache = FrameCache(budget_bytes=100)
    cache.put("a", frame_of(10))
    cache.clear()
    assert (len(cache), cache.nbytes) == (0, 0)
    assert cache.get("a") is None
    with pytest.raises(ValueError, match="budget"):
        FrameCache(budget_bytes=-1)
