"""Vertebra levels by geometry (spineviewer.ai.spine_levels, the manifest's
``postprocessing.spine_levels``): the truth classes of a lumbar CT phantom (vertebra, sacrum,
disc, canal; no levels) give back the truth's levels; without the sacrum in view the lowest
vertebra is L5 and the column needs review; a series stored head first is named the same; and
the manifest says which classes the levels come from, checked when it is read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spineviewer.ai.findings import CONFIDENT
from spineviewer.ai.manifest_model import ModelLabel, ModelManifest, SpineLevels
from spineviewer.ai.manifest_reader import ManifestError
from spineviewer.ai.segmentation_findings import column_from_mask
from spineviewer.ai.segmentation_grid import ModelGrid
from spineviewer.ai.sliding_window import LabelMap, segment
from spineviewer.ai.spine_canal import canal_line
from spineviewer.ai.spine_levels import derive_levels
from spineviewer.phantom import generate, study_folder_name
from spineviewer.training.segmentation_data import (
    CLASS_OF_LEVEL,
    CLASSES,
    LEVELS,
    SPACING_MM,
    load_series_case,
    model_case,
    window,
)

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "onnx_models" / "spine-ct-segmentation.json"
NAMES = ("T10", *LEVELS[1:])
LEVEL_SPEC = SpineLevels(
    "vertebra",
    "sacrum",
    "disc",
    tuple(ModelLabel(name, name, "#ffffff") for name in NAMES),
    ("spinal_canal",),
)
CLASS_VALUES = {name: value for value, name in enumerate(CLASSES)}


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """A phantom's truth label map (LEVELS values) on the model grid, without the padding."""
    root = tmp_path_factory.mktemp("ct")
    generate("lumbar-ct", root, 77)
    series = load_series_case(root / study_folder_name("lumbar-ct", 77))
    grid = ModelGrid.of(series.hu.shape, series.spacing, window())
    (ok, oj, oi), (nk, nj, ni) = grid.offset, grid.shape
    return model_case(series).labels[ok : ok + nk, oj : oj + nj, oi : oi + ni]


def _dice(found: np.ndarray, truth: np.ndarray, name: str) -> float:
    a, b = found == NAMES.index(name) + 1, truth == LEVELS.index(name)
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_the_classes_of_a_phantom_give_back_its_levels(truth: np.ndarray) -> None:
    classes = CLASS_OF_LEVEL[truth]
    assert set(np.unique(classes)) == set(range(len(CLASSES)))  # no levels in the input
    found = derive_levels(classes, SPACING_MM, LEVEL_SPEC, CLASS_VALUES)
    for name in ("L1", "L2", "L3", "L4", "L5", "S1"):
        assert _dice(found, truth, name) > 0.9, name
    assert _dice(found, truth, "T12") > 0.8  # the sliver of T11 above it goes with it
    for name in ("T12-L1", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1", "spinal_canal"):
        assert _dice(found, truth, name) > 0.95, name


def test_a_series_stored_head_first_is_named_the_same(truth: np.ndarray) -> None:
    classes = CLASS_OF_LEVEL[truth]
    found = derive_levels(classes[::-1], SPACING_MM, LEVEL_SPEC, CLASS_VALUES)[::-1]
    for name in ("L2", "L5", "S1", "L4-L5"):
        assert _dice(found, truth, name) > 0.9, name


def test_without_the_sacrum_the_lowest_is_l5_and_the_column_needs_review(
    truth: np.ndarray,
) -> None:
    # the field of view ends at the bottom of L5 (what is left of the sacrum's processes
    # beside it taken out too)
    l5 = np.flatnonzero((truth == LEVELS.index("L5")).any(axis=(1, 2)))
    cut = truth[l5.min() :].copy()
    cut[cut == LEVELS.index("S1")] = 0
    found = derive_levels(CLASS_OF_LEVEL[cut], SPACING_MM, LEVEL_SPEC, CLASS_VALUES)
    assert not (found == NAMES.index("S1") + 1).any()
    for name in ("L3", "L4", "L5"):
        assert _dice(found, cut, name) > 0.9, name
    grid = ModelGrid.of(found.shape, SPACING_MM, window())
    values = {n + 1: label for n, label in enumerate(LEVEL_SPEC.labels)}
    label_map = LabelMap(found, values, "spine-ct-segmentation", "0", "cpu", grid, (1, 1, 1, 1))
    sk, sj, si = SPACING_MM  # index (k, j, i) -> patient mm: k along z, foot to head
    affine = np.array([[0, 0, si, 0], [0, sj, 0, 0], [sk, 0, 0, 0], [0, 0, 0, 1.0]])
    uids = [f"image-{k}" for k in range(found.shape[0])]
    column = column_from_mask(label_map, affine, "series-1", uids)
    assert [v.label for v in column.vertebrae][-1] == "L5"
    assert column.review.result.status != CONFIDENT  # a guess, flagged: never silent


def test_nothing_in_view_gives_an_empty_map() -> None:
    classes = np.zeros((8, 8, 8), dtype=np.uint8)
    found = derive_levels(classes, SPACING_MM, LEVEL_SPEC, CLASS_VALUES)
    assert found.shape == classes.shape and not found.any()


def _document() -> dict:
    return json.loads(MANIFEST.read_text("utf-8"))


def test_the_manifest_round_trips_its_postprocessing() -> None:
    manifest = ModelManifest.from_dict(_document())
    assert manifest.postprocessing is not None
    again = ModelManifest.from_dict(manifest.to_dict())
    assert again == manifest
    assert again.to_dict()["postprocessing"] == _document()["postprocessing"]


def test_a_postprocessing_naming_no_class_of_the_network_is_refused() -> None:
    data = _document()
    data["postprocessing"]["spine_levels"]["disc"] = "intervertebral_disc"
    with pytest.raises(ManifestError, match=r"postprocessing\.spine_levels\.disc"):
        ModelManifest.from_dict(data)


def test_postprocessing_needs_a_sliding_window_segmentation() -> None:
    data = _document()
    del data["preprocessing"]["sliding_window"]
    with pytest.raises(ManifestError, match="sliding_window"):
        ModelManifest.from_dict(data)


def _column_phantom() -> np.ndarray:
    """Classes of a tiny column, 2 mm voxels, foot first: the sacrum, then four vertebrae with
    a disc below each, the canal behind them; the top vertebra cut by the field of view."""
    classes = np.zeros((48, 16, 16), dtype=np.uint8)
    classes[0:8, 1:13, 2:14] = CLASS_VALUES["sacrum"]
    for bottom in (8, 18, 28, 38):
        classes[bottom : bottom + 2, 1:13, 2:14] = CLASS_VALUES["disc"]
        classes[bottom + 2 : bottom + 10, 1:13, 2:14] = CLASS_VALUES["vertebra"]
    classes[:, 13:16, 6:10] = CLASS_VALUES["spinal_canal"]
    return classes


def test_segment_gives_the_derived_levels_through_onnxruntime(tmp_path: Path) -> None:
    """A network that returns the class its input holds (class c scores c x - c^2 / 2), run by
    sliding window with the manifest's postprocessing: the label map has the levels."""
    helpers = pytest.importorskip("segmentation_helpers")
    pytest.importorskip("onnx")
    manifest = helpers.seg_manifest((16, 16, 16), (2.0, 2.0, 2.0), len(CLASSES))
    shipped = _document()
    manifest["labels"] = shipped["labels"]
    manifest["postprocessing"] = shipped["postprocessing"]
    c = np.arange(len(CLASSES), dtype=np.float64)
    run = helpers.session(tmp_path, [helpers.pointwise(c, -(c**2) / 2)], manifest)
    classes = _column_phantom()
    label_map = segment(run, classes.astype(np.float32), (2.0, 2.0, 2.0))
    names = {value: label.name for value, label in label_map.values.items()}
    found = {
        names[int(v)]: np.flatnonzero((label_map.labels == v).any(axis=(1, 2)))
        for v in np.unique(label_map.labels)
        if v
    }
    want = {"S1": (0, 7), "L5-S1": (8, 9), "L5": (10, 17), "L4-L5": (18, 19), "L4": (20, 27)}
    want |= {"L3-L4": (28, 29), "L3": (30, 37), "L2-L3": (38, 39), "L2": (40, 47)}
    assert set(found) == {*want, "spinal_canal"}
    for name, (low, high) in want.items():
        assert (found[name].min(), found[name].max()) == (low, high), name


def _canal_centres(classes: np.ndarray) -> np.ndarray:
    """The canal's centroid (j, i) on each slice of a class map (nan where it has none)."""
    canal = classes == CLASS_VALUES["spinal_canal"]
    centres = np.full((len(classes), 2), np.nan)
    for k, plane in enumerate(canal):
        if plane.any():
            centres[k] = np.mean(np.nonzero(plane), axis=1)
    return centres


def test_the_canal_line_runs_through_a_phantoms_canal(truth: np.ndarray) -> None:
    classes = CLASS_OF_LEVEL[truth]
    want = _canal_centres(classes)
    assert not np.isnan(want).any()  # the phantom's canal runs through every slice
    line = canal_line(classes == CLASS_VALUES["spinal_canal"], SPACING_MM)
    assert line is not None and line.tracked.all()
    assert np.abs(line.centres - want).max() * SPACING_MM[1] < 2.5  # within a voxel
    # the canal missed on 12 slices (30 mm) and a canal-like speck 80 mm to the side there:
    # the line goes on through the gap, never to the speck
    gap = slice(len(classes) // 2 - 6, len(classes) // 2 + 6)
    broken = classes == CLASS_VALUES["spinal_canal"]
    broken[gap] = False
    cj, ci = np.round(want[gap.start]).astype(int)
    broken[gap, cj - 2 : cj + 2, ci + 30 : ci + 34] = True
    line = canal_line(broken, SPACING_MM)
    assert line is not None and not line.tracked[gap].any()
    assert np.abs(line.centres - want).max() * SPACING_MM[1] < 5.0


def test_bone_far_from_the_canal_gets_no_level(truth: np.ndarray) -> None:
    """A rib-like bar of the vertebra class 85 mm beside the canal over L2 to L3 (as large as
    a vertebra: without the canal rule it is one, and every name below it shifts), and a
    pelvis-like block of the sacrum class larger than the sacrum, 90 mm to the other side."""
    classes = np.pad(CLASS_OF_LEVEL[truth], ((0, 0), (0, 0), (30, 30)))
    levels = np.pad(truth, ((0, 0), (0, 0), (30, 30)))
    centres = _canal_centres(classes)
    l2, l3 = (np.flatnonzero((levels == LEVELS.index(n)).any(axis=(1, 2))) for n in ("L2", "L3"))
    cj, ci = np.round(centres[l3.min()]).astype(int)
    rib = (slice(l3.min(), l2.max()), slice(cj - 5, cj + 5), slice(ci + 34, ci + 44))
    classes[rib] = CLASS_VALUES["vertebra"]
    s1 = np.flatnonzero((levels == LEVELS.index("S1")).any(axis=(1, 2)))
    sacrum_ml = (levels == LEVELS.index("S1")).sum() * np.prod(SPACING_MM) / 1000.0
    pelvis = (slice(0, s1.max() + 10), slice(cj - 12, cj + 12), slice(ci - 50, ci - 36))
    classes[pelvis] = CLASS_VALUES["sacrum"]
    assert classes[pelvis].size * np.prod(SPACING_MM) / 1000.0 > sacrum_ml
    found = derive_levels(classes, SPACING_MM, LEVEL_SPEC, CLASS_VALUES)
    assert not found[rib].any() and not found[pelvis].any()
    for name in ("L1", "L2", "L3", "L4", "L5", "S1"):
        assert _dice(found, levels, name) > 0.9, name


def test_without_a_canal_no_bone_is_dropped(truth: np.ndarray) -> None:
    classes = CLASS_OF_LEVEL[truth]
    classes = np.where(classes == CLASS_VALUES["spinal_canal"], 0, classes).astype(classes.dtype)
    assert canal_line(classes == CLASS_VALUES["spinal_canal"], SPACING_MM) is None
    found = derive_levels(classes, SPACING_MM, LEVEL_SPEC, CLASS_VALUES)
    bone = (classes == CLASS_VALUES["vertebra"]) | (classes == CLASS_VALUES["sacrum"])
    assert (found[bone] > 0).mean() > 0.99
    for name in ("L1", "L2", "L3", "L4", "L5", "S1"):
        assert _dice(found, truth, name) > 0.9, name
