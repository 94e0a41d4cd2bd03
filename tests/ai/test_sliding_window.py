"""Sliding-window segmentation on real onnxruntime sessions of tiny convolution networks: one
patch equals a whole-volume run, blending leaves no seams, large volumes get the right label map
on the series' grid, only a slab is accumulated, mirroring, 2D networks, normalisations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from segmentation_helpers import THREE_LEVELS, delta, pointwise, seg_manifest, session

from spineviewer.ai.runtime import ModelSession
from spineviewer.ai.segmentation_grid import gaussian_weight, tile_starts
from spineviewer.ai.sliding_window import BlendedOutputs, blended_slabs, segment

pytest.importorskip("onnx")


def _scores(run: ModelSession, series: Any, spacing: tuple[float, ...]) -> np.ndarray:
    """The blended outputs of the whole model grid (classes, k, j, i), slabs joined."""
    slabs = [(s.start, s.scores.copy()) for s in blended_slabs(run, series, spacing)]
    starts = [start for start, _ in slabs]
    assert starts == sorted(starts)
    joined = np.concatenate([scores for _, scores in slabs], axis=1)
    assert starts[0] == 0
    return joined


def _direct(run: ModelSession, volume: np.ndarray) -> np.ndarray:
    """The network run once on the whole volume (1, 1, *shape) -> (classes, *shape)."""
    feed = {"image": volume[None, None].astype(np.float32)}
    return np.asarray(run.session.run(["logits"], feed)[0][0])


def _conv_net(seed: int, classes: int = 3, dims: int = 3) -> list[Any]:
    """3 x 3 (x 3) convolution to 4 features, ReLU, then a 1-voxel convolution to classes."""
    rng = np.random.default_rng(seed)
    first = rng.normal(size=(4, 1, *([3] * dims))).astype(np.float32) / 3
    last = rng.normal(size=(classes, 4, *([1] * dims))).astype(np.float32)
    return [
        (first, rng.normal(size=4).astype(np.float32), True),
        (last, rng.normal(size=classes).astype(np.float32), False),
    ]


# -- acceptance: one patch, no seams ----------------------------------------------------------


@pytest.mark.parametrize("shape", [(16, 16, 16), (11, 13, 9)], ids=["patch", "smaller"])
def test_a_volume_in_one_patch_equals_a_whole_volume_run(tmp_path: Path, shape: tuple) -> None:
    run = session(tmp_path, _conv_net(1), seg_manifest((16, 16, 16), (1.0, 1.0, 1.0), 3))
    volume = np.random.default_rng(2).normal(size=shape).astype(np.float32)
    found = _scores(run, volume, (1.0, 1.0, 1.0))
    want = _direct(run, volume)
    assert found.shape == want.shape == (3, *shape)
    np.testing.assert_allclose(found, want, atol=1e-4, rtol=0)


def test_blending_leaves_no_seams_on_a_constant_output_network(tmp_path: Path) -> None:
    constant = (np.zeros((3, 1, 3, 3, 3), np.float32), np.array([0.5, -2.0, 7.25]), False)
    run = session(tmp_path, [constant], seg_manifest((8, 12, 10), (1.0, 1.0, 1.0), 3))
    volume = np.random.default_rng(3).normal(size=(37, 41, 29)).astype(np.float32)
    found = _scores(run, volume, (1.0, 1.0, 1.0))
    assert found.shape == (3, 37, 41, 29)
    for c, value in enumerate([0.5, -2.0, 7.25]):
        np.testing.assert_allclose(found[c], value, atol=1e-5, rtol=0)


def test_blending_an_identity_network_gives_its_input_back_across_patch_borders(
    tmp_path: Path,
) -> None:
    run = session(tmp_path, [pointwise([1.0], [0.0])], seg_manifest((8, 8, 8), (1.0,) * 3, 1))
    k, j, i = np.meshgrid(np.arange(30), np.arange(27), np.arange(22), indexing="ij")
    volume = (np.sin(k / 5.0) + j * 0.1 - i * 0.05).astype(np.float32)  # smooth, no plateaus
    found = _scores(run, volume, (1.0, 1.0, 1.0))[0]
    np.testing.assert_allclose(found, volume, atol=1e-5, rtol=0)


# -- large volumes, resampling, the series' grid ----------------------------------------------


def _blocks(shape: tuple[int, int, int]) -> np.ndarray:
    """Labels 0, 1, 2 in boxes whose edges are at even indices."""
    truth = np.zeros(shape, np.int16)
    truth[10:26, 8:40, 20:50] = 1
    truth[14:20, 30:60, 0:30] = 2
    truth[30:38, 2:12, 60:70] = 2
    return truth


def test_a_volume_much_larger_than_a_patch_gives_the_right_label_map(tmp_path: Path) -> None:
    layers = [delta(), pointwise(*THREE_LEVELS)]
    run = session(tmp_path, layers, seg_manifest((8, 16, 16), (4.0, 2.0, 2.0), 3))
    truth = _blocks((40, 64, 72))
    # the model grid is half the series' (2 x 1 x 1 mm -> 4 x 2 x 2 mm): 20 x 32 x 36, 48
    # patches; box edges at even indices survive the round trip exactly
    result = segment(run, truth, (2.0, 1.0, 1.0))
    assert result.grid.shape == (20, 32, 36)
    assert result.labels.shape == truth.shape and result.labels.dtype == np.uint8
    np.testing.assert_array_equal(result.labels, truth)
    assert {v: label.name for v, label in result.values.items()} == {1: "L1", 2: "L2"}
    assert result.provider == "CPUExecutionProvider"


def test_upsampled_labels_come_back_from_the_model_voxel_at_the_series_voxel(
    tmp_path: Path,
) -> None:
    # 3 mm slices on a 1 mm model grid: model voxel 3s + 1 lies exactly on series slice s
    # (its neighbours a third of a slice off, between two labels), so the label map is exact
    # only when each series voxel takes the model voxel at its centre
    layers = [delta(), pointwise(*THREE_LEVELS)]
    run = session(tmp_path, layers, seg_manifest((8, 8, 8), (1.0, 1.0, 1.0), 3))
    truth = np.zeros((12, 20, 16), np.int16)
    truth[2:5] = 2
    truth[5:9, 4:12] = 1
    truth[9:10, :, 3:9] = 2
    result = segment(run, truth, (3.0, 1.0, 1.0))
    assert result.grid.shape == (36, 20, 16)
    np.testing.assert_array_equal(result.labels, truth)


def _uniform(labels: np.ndarray, radius: int) -> np.ndarray:
    """Voxels whose (2 radius + 1)^3 neighbourhood (clamped at the edges) is one label."""
    low, high = labels.copy(), labels.copy()
    for axis, n in enumerate(labels.shape):
        near = np.clip(np.arange(n)[:, None] + np.arange(-radius, radius + 1), 0, n - 1)
        low = np.take(low, near, axis=axis).min(axis=axis + 1)
        high = np.take(high, near, axis=axis).max(axis=axis + 1)
    return low == high


def test_resampling_to_another_spacing_keeps_the_labels_away_from_their_edges(
    tmp_path: Path,
) -> None:
    layers = [delta(), pointwise(*THREE_LEVELS)]
    run = session(tmp_path, layers, seg_manifest((8, 16, 16), (1.7, 1.3, 0.9), 3))
    truth = _blocks((40, 64, 72))
    labels = segment(run, truth, (1.0, 0.8, 1.1)).labels
    assert labels.shape == truth.shape
    # labels are coded as intensities, so a voxel between 0 and 2 may read 1: only voxels
    # whose whole 5 x 5 x 5 neighbourhood is one label must keep it
    inner = _uniform(truth, 2)
    assert inner.mean() > 0.8
    assert np.array_equal(labels[inner], truth[inner])
    assert (labels == truth).mean() > 0.97


@pytest.mark.parametrize(
    ("shape", "spacing"),
    [((7, 33, 20), (3.0, 0.7, 0.7)), ((50, 9, 11), (0.5, 2.5, 2.0)), ((1, 40, 40), (5.0, 1, 1))],
)
def test_the_label_map_has_the_series_grid(
    tmp_path: Path, shape: tuple[int, int, int], spacing: tuple[float, float, float]
) -> None:
    run = session(tmp_path, _conv_net(4), seg_manifest((8, 8, 8), (1.5, 1.0, 1.2), 3))
    volume = np.random.default_rng(5).normal(size=shape).astype(np.float32)
    labels = segment(run, volume, spacing).labels
    assert labels.shape == shape
    assert set(np.unique(labels)) <= {0, 1, 2}


# -- memory: a moving slab ----------------------------------------------------------------------


class _SlicesOnly:
    """A series that can only be read one slice at a time (as a memory map would be)."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.shape = array.shape
        self.reads: list[int] = []

    def __getitem__(self, index: Any) -> np.ndarray:
        assert isinstance(index, int | np.integer), f"read more than a slice: {index!r}"
        self.reads.append(int(index))
        return self.array[index]


def test_outputs_are_accumulated_over_a_slab_not_the_volume(tmp_path: Path) -> None:
    layers = [delta(), pointwise(*THREE_LEVELS)]
    run = session(tmp_path, layers, seg_manifest((8, 16, 16), (2.0, 1.0, 1.0), 3))
    truth = _blocks((40, 64, 72))
    series = _SlicesOnly(np.tile(truth, (8, 1, 1)))  # 320 slices -> 160 on the model grid
    outputs = BlendedOutputs(run, series, (1.0, 1.0, 1.0))
    assert outputs.grid.shape == (160, 64, 72)
    # classes x patch depth x rows x columns: the depth is the patch's, not the volume's
    assert outputs.accumulator_shape == (3, 8, 64, 72)
    sizes = [slab.scores.shape[1] for slab in outputs]
    assert sum(sizes) == 160 and max(sizes) <= 8
    assert sorted(set(series.reads)) == list(range(320))  # every slice read, one at a time
    labels = segment(run, series, (1.0, 1.0, 1.0)).labels
    np.testing.assert_array_equal(labels, series.array)


def test_a_2d_network_runs_on_every_slice_with_a_slab_of_a_few_slices(tmp_path: Path) -> None:
    layers = [delta(dims=2), pointwise(*THREE_LEVELS, dims=2)]
    manifest = seg_manifest((16, 16), (2.0, 2.0), 3, batch_size=8)
    run = session(tmp_path, layers, manifest)
    truth = _blocks((40, 64, 72))
    outputs = BlendedOutputs(run, truth, (2.0, 1.0, 1.0))
    # the slices keep their spacing; rows and columns halve; 3 x 4 patches a slice, more
    # than a batch of 8: one slice at a time
    assert outputs.grid.shape == (40, 32, 36) and outputs.grid.patch == (1, 16, 16)
    assert outputs.accumulator_shape == (3, 1, 32, 36)
    np.testing.assert_array_equal(segment(run, truth, (2.0, 1.0, 1.0)).labels, truth)
    wide = session(tmp_path / "wide", layers, seg_manifest((16, 16), (1.0, 1.0), 3, batch_size=8))
    assert BlendedOutputs(wide, truth[:, :16, :32], (1.0, 1.0, 1.0)).accumulator_shape[1] == 2


# -- mirroring, decoding, batches --------------------------------------------------------------


def test_mirroring_averages_the_flipped_network(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    kernel = rng.normal(size=(2, 1, 3, 3, 3)).astype(np.float32)
    bias = np.array([0.1, -0.2], np.float32)
    manifest = seg_manifest((12, 12, 12), (1.0,) * 3, 2, mirror_axes=[0, 1, 2])
    mirrored = session(tmp_path / "m", [(kernel, bias, False)], manifest)
    # a linear network with zero padding: flip, run, flip back = the flipped kernel; the mean
    # over all 8 flips is the network with the kernel averaged over them
    flips = [(), (2,), (3,), (4,), (2, 3), (2, 4), (3, 4), (2, 3, 4)]
    average = np.mean([np.flip(kernel, f) if f else kernel for f in flips], axis=0)
    plain = seg_manifest((12, 12, 12), (1.0,) * 3, 2)
    symmetric = session(tmp_path / "s", [(average, bias, False)], plain)
    volume = rng.normal(size=(12, 12, 12)).astype(np.float32)
    found = _scores(mirrored, volume, (1.0,) * 3)
    np.testing.assert_allclose(found, _direct(symmetric, volume), atol=1e-4, rtol=0)
    unmirrored = session(tmp_path / "p", [(kernel, bias, False)], plain)
    assert not np.allclose(found, _direct(unmirrored, volume), atol=1e-2)


def test_sigmoid_channels_take_the_highest_above_the_threshold(tmp_path: Path) -> None:
    # channel 0 scores x - 1, channel 1 scores 2 - x (logits): above 0 for x > 1 and x < 2
    layer = pointwise([1.0, -1.0], [-1.0, 2.0])
    manifest = seg_manifest((4, 4, 4), (1.0,) * 3, 2, activation="sigmoid")
    manifest["labels"] = seg_manifest((4, 4, 4), (1.0,) * 3, 3)["labels"][1:]  # no background
    manifest["decoding"]["threshold"] = 0.75  # logit log(3)
    run = session(tmp_path, [layer], manifest)
    x = np.linspace(-1.0, 4.0, 4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    result = segment(run, x, (1.0,) * 3)
    first, second = x - 1.0, 2.0 - x
    best = np.where(first >= second, first, second)
    want = np.where(best > np.log(3.0), np.where(first >= second, 1, 2), 0)
    np.testing.assert_array_equal(result.labels, want)
    assert {v: label.name for v, label in result.values.items()} == {1: "L1", 2: "L2"}


@pytest.mark.parametrize("fixed", [1, 3])
def test_a_fixed_batch_dim_gets_full_batches(tmp_path: Path, fixed: int) -> None:
    layers = [delta(), pointwise(*THREE_LEVELS)]
    manifest = seg_manifest((8, 8, 8), (1.0,) * 3, 3, batch=fixed)
    run = session(tmp_path, layers, manifest)
    truth = np.zeros((20, 20, 20), np.int16)  # 4 x 4 patches a row: 16, not a multiple of 3
    truth[4:14, 2:10, 6:18] = 1
    truth[10:18, 12:20, 0:8] = 2
    np.testing.assert_array_equal(segment(run, truth, (1.0,) * 3).labels, truth)


def test_progress_counts_patches_and_check_cancels(tmp_path: Path) -> None:
    run = session(
        tmp_path, [delta(), pointwise(*THREE_LEVELS)], seg_manifest((8, 8, 8), (1.0,) * 3, 3)
    )
    volume = np.zeros((20, 20, 20), np.float32)
    seen: list[tuple[int, int]] = []
    segment(run, volume, (1.0,) * 3, progress=lambda done, total: seen.append((done, total)))
    total = len(tile_starts(20, 8, 0.5)) ** 3
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)

    class Stop(Exception):
        pass

    def check() -> None:
        if len(seen) > 3:
            raise Stop

    seen.clear()
    with pytest.raises(Stop):
        segment(run, volume, (1.0,) * 3, progress=lambda d, t: seen.append((d, t)), check=check)
    assert len(seen) == 4 and seen[-1][0] < total


# -- intensities -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "normalisation",
    [
        {"window": {"center": 40, "width": 400}},
        {"percentile": {"low": 5, "high": 95}},
        {"zscore": {"clip": [-500, 1000]}},
        {"zscore": {"mean": 100.0, "std": 50.0}},
    ],
    ids=["window", "percentile", "zscore-own", "zscore-given"],
)
def test_the_network_sees_the_series_normalised(tmp_path: Path, normalisation: dict) -> None:
    manifest = seg_manifest((8, 8, 8), (1.0,) * 3, 1, normalisation=normalisation)
    run = session(tmp_path, [pointwise([1.0], [0.0])], manifest)
    ct = np.random.default_rng(7).integers(-1024, 1500, size=(12, 10, 9)).astype(np.int16)
    seen = _scores(run, ct, (1.0,) * 3)[0]
    x = ct.astype(np.float64)
    if "window" in normalisation:
        want = np.clip((x + 160) / 400, 0, 1)
    elif "percentile" in normalisation:
        low, high = np.percentile(x, [5, 95])
        want = np.clip((x - low) / (high - low), 0, 1)
    elif "mean" in normalisation["zscore"]:
        want = (x - 100.0) / 50.0
    else:
        clipped = np.clip(x, -500, 1000)
        want = (clipped - clipped.mean()) / clipped.std()
    np.testing.assert_allclose(seen, want, atol=1e-4, rtol=0)


def test_the_gaussian_weight_is_nnunet_s() -> None:
    weight = gaussian_weight((1, 8, 16))
    assert weight.shape == (1, 8, 16) and weight.max() == pytest.approx(1.0)
    row = weight[0, 3]  # a centre row: weight 1 at the centre columns 7 and 8
    # sigma 1/8 of the patch (2 voxels), centred at 7.5: the last column is 7.5 away
    expected = np.exp(-0.5 * ((7.5 / 2) ** 2 - (0.5 / 2) ** 2))
    assert row[7] == row[8] == pytest.approx(1.0)
    assert row[15] == pytest.approx(expected, rel=1e-5)
    np.testing.assert_array_equal(weight, weight[:, ::-1, ::-1])  # symmetric: mirroring fits
    assert tile_starts(20, 8, 0.5) == [0, 4, 8, 12]
    assert tile_starts(21, 8, 0.5) == [0, 3, 6, 10, 13]
    assert tile_starts(8, 8, 0.5) == [0] and tile_starts(30, 8, 0.0) == [0, 7, 15, 22]
