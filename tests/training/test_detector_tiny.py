"""The vertebral-body detector: order labelling, NMS and decoding on synthetic boxes (numpy
only), and a tiny training run that exports a package onnxruntime runs (needs torch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spineviewer.ai.detection import Detections, decode_predictions, nms
from spineviewer.ai.preprocessing import letterbox, letterbox_image
from spineviewer.ai.vertebra_labels import (
    SliceDetections,
    assign_labels,
    fuse_slices,
    label_slice,
    lateral_centre,
)
from spineviewer.geometry import Plane

Tiny = tuple[Path, Path, Any]  # phantom root, model folder, ShippedDetector

# -- NMS and decoding ----------------------------------------------------------------------------


def test_nms_keeps_the_best_of_overlapping_boxes_in_score_order() -> None:
    boxes = [
        [0, 0, 10, 10],  # 0: 0.8
        [1, 1, 11, 11],  # 1: 0.9, IoU with 0 = 81 / 119 = 0.68
        [20, 20, 30, 30],  # 2: 0.7, alone
        [20, 25, 30, 35],  # 3: 0.7, IoU with 2 = 50 / 150 = 0.33
        [0, 0, 10, 10],  # 4: 0.8, a copy of 0
    ]
    scores = [0.8, 0.9, 0.7, 0.7, 0.8]
    assert nms(boxes, scores, 0.5).tolist() == [1, 2, 3]
    assert nms(boxes, scores, 0.3).tolist() == [1, 2]
    assert nms(boxes, scores, 0.7).tolist() == [1, 0, 2, 3]  # 0 and 4 tie: lower index first
    assert nms(np.zeros((0, 4)), [], 0.5).tolist() == []


def test_nms_keeps_a_box_whose_iou_equals_the_threshold() -> None:
    boxes = [[0, 0, 10, 10], [5, 0, 15, 10]]  # IoU = 50 / 150
    assert nms(boxes, [0.9, 0.8], 1 / 3).tolist() == [0, 1]
    assert nms(boxes, [0.9, 0.8], 0.33).tolist() == [0]


def test_decode_thresholds_picks_the_best_class_and_suppresses_across_classes() -> None:
    rows = np.array(
        [
            [50, 50, 20, 10, 0.9, 0.1],  # vertebra
            [51, 50, 20, 10, 0.2, 0.6],  # S1 on the same body: suppressed (class-agnostic)
            [50, 100, 30, 20, 0.1, 0.8],  # S1
            [200, 200, 10, 10, 0.29, 0.1],  # under the threshold
        ]
    )
    found = decode_predictions(rows[None], 0.3, 0.5)
    assert found.classes.tolist() == [0, 1]
    assert found.scores.tolist() == [0.9, 0.8]
    assert found.boxes.tolist() == [[40, 45, 60, 55], [35, 90, 65, 110]]
    assert found.centres.tolist() == [[50, 50], [50, 100]]
    assert found.class_scores is not None
    assert found.scores_of(1).tolist() == [0.1, 0.8]
    plain = Detections(found.boxes, found.scores, found.classes)
    assert plain.scores_of(1).tolist() == [0.0, 0.8]
    xyxy = decode_predictions(rows[:1], 0.3, 0.5, box_format="xyxy")
    assert xyxy.boxes.tolist() == [[50, 50, 20, 10]]
    assert len(decode_predictions(rows, 0.95, 0.5)) == 0


def test_decode_caps_the_candidates() -> None:
    rows = np.array([[10.0 * i, 0, 5, 5, 0.5 + i / 100, 0] for i in range(10)])
    found = decode_predictions(rows, 0.1, 0.5, max_candidates=3)
    assert found.scores.tolist() == pytest.approx([0.59, 0.58, 0.57])


# -- labelling by order --------------------------------------------------------------------------


def test_labels_go_up_from_the_sacral_body() -> None:
    heights = [90, 0, 150, 30, 60, 180, 120]  # shuffled on purpose
    sacral = [False, True, False, False, False, False, False]
    labels, warnings = assign_labels(heights, sacral, [0.9] * 7)
    assert labels == ["L3", "S1", "L1", "L5", "L4", "T12", "L2"]
    assert warnings == []


def test_bodies_below_the_sacral_one_are_dropped() -> None:
    labels, warnings = assign_labels(
        [-30, 0, 30, 60, 90, 120, 150], [False, True, False, False, False, False, False], [1] * 7
    )
    assert labels == [None, "S1", "L5", "L4", "L3", "L2", "L1"]
    assert warnings == ["1 body below S1 ignored"]


def test_the_best_scoring_sacral_body_is_s1() -> None:
    labels, _ = assign_labels([0, 30, 60, 90, 120, 150, 180], [True, True] + [False] * 5,
                              [0.4, 0.9, 1, 1, 1, 1, 1])  # fmt: skip
    assert labels == [None, "S1", "L5", "L4", "L3", "L2", "L1"]


def test_sacral_scores_pick_s1_even_when_another_class_won() -> None:
    heights = [0, 30, 60, 90, 120, 150]
    labels, warnings = assign_labels(heights, [0.03, 0.45, 0.02, 0.01, 0.0, 0.0], [0.9] * 6)
    assert labels == [None, "S1", "L5", "L4", "L3", "L2"]
    assert warnings == ["1 body below S1 ignored", "only 5 vertebral bodies found (fewer than 6)"]
    labels, warnings = assign_labels(heights, [0.1, 0.15, 0.0, 0.0, 0.0, 0.0], [0.9] * 6)
    assert labels == ["S1", "L5", "L4", "L3", "L2", "L1"]
    assert warnings == ["no sacral-shaped body found: the bottom-most body was taken as S1"]


def test_without_a_sacral_body_the_bottom_one_is_s1_with_a_warning() -> None:
    labels, warnings = assign_labels([60, 30, 0, 90, 120, 150], [False] * 6, [1] * 6)
    assert labels == ["L4", "L5", "S1", "L3", "L2", "L1"]
    assert warnings == ["no sacral-shaped body found: the bottom-most body was taken as S1"]


def test_a_large_gap_skips_the_missed_levels() -> None:
    labels, warnings = assign_labels([0, 30, 60, 120, 150, 180, 210], [True] + [False] * 6, [1] * 7)
    assert labels == ["S1", "L5", "L4", "L2", "L1", "T12", "T11"]
    assert warnings == ["1 body missed below body 4"]


def test_few_bodies_and_none() -> None:
    labels, warnings = assign_labels([0, 30, 60], [True, False, False], [1, 1, 1])
    assert labels == ["S1", "L5", "L4"]
    assert warnings == ["only 3 vertebral bodies found (fewer than 6)"]
    assert assign_labels([], [], []) == ([], ["no vertebral body found"])


# -- geometry ------------------------------------------------------------------------------------


def test_letterbox_maps_both_ways() -> None:
    box = letterbox(200, 100, (256, 256))
    assert (box.scale, box.pad_top, box.pad_left) == (1.28, 0.0, 64.0)
    assert box.box_to_input([0, 0, 99, 199]).tolist() == pytest.approx([64, 0, 192, 256])
    x, y = box.to_input(10.0, 20.0)
    r, c = box.to_image(x, y)
    assert (float(r), float(c)) == pytest.approx((10.0, 20.0))
    assert (float(x), float(y)) == pytest.approx((20.5 * 1.28 + 64, 10.5 * 1.28))


def test_letterbox_image_pads_with_zero_and_keeps_the_aspect() -> None:
    values = np.tile(np.arange(100, dtype=np.float32), (200, 1))  # grows left to right
    image, box = letterbox_image(values, (256, 256), (0.0, 100.0))
    assert image.shape == (256, 256) and image.dtype == np.float32
    assert np.all(image[:, :64] == 0) and np.all(image[:, 192:] == 0)
    assert np.all(np.diff(image[128, 65:191]) >= 0)
    assert image[128, 191] == pytest.approx(1.0, abs=0.01)
    assert box.pad_left == 64


def _sagittal(x_mm: float) -> Plane:
    """A sagittal plane at x = x_mm: columns run anterior (-y), rows inferior (-z), 1 mm."""
    return Plane(
        origin=np.array([x_mm, 100.0, 200.0]),
        row_dir=np.array([0.0, -1.0, 0.0]),
        col_dir=np.array([0.0, 0.0, -1.0]),
        spacing=(1.0, 1.0),
        shape=(256, 256),
    )


def _body_rows(ys: list[float], sacral_at: int, width: float = 30.0) -> Detections:
    boxes = np.array([[100 - width / 2, y - 12, 100 + width / 2, y + 12] for y in ys])
    classes = np.array([1 if i == sacral_at else 0 for i in range(len(ys))])
    return Detections(boxes, np.full(len(ys), 0.9), classes)


def test_label_slice_orders_by_patient_height_and_maps_to_mm() -> None:
    ys = [40.0, 70.0, 100.0, 130.0, 160.0, 190.0, 220.0]  # rows grow inferior
    box = letterbox(256, 256, (256, 256))
    result = label_slice(_body_rows(ys, sacral_at=6), box, _sagittal(0.0), index=3)
    assert [b.label for b in result.bodies] == ["S1", "L5", "L4", "L3", "L2", "L1", "T12"]
    s1 = result.get("S1")
    assert s1 is not None and s1.class_name == "S1" and s1.slices == (3,)
    assert s1.centre_px == pytest.approx((219.5, 99.5))
    assert s1.centre_mm == pytest.approx((0.0, 0.5, -19.5))
    assert result.warnings == ()
    no_plane = label_slice(_body_rows(ys, sacral_at=6), box)
    assert [b.label for b in no_plane.bodies] == [b.label for b in result.bodies]
    assert no_plane.bodies[0].centre_mm is None


def test_lateral_centre_weights_the_wide_sections() -> None:
    assert lateral_centre([-8, -4, 0, 4, 8], [10, 30, 30, 30, 10]) == pytest.approx(0.0)
    assert lateral_centre([-4, 0, 4, 8], [30, 30, 30, 10]) < 1.0
    assert lateral_centre([5.0], [20.0]) == 5.0


def test_fuse_slices_groups_labels_and_finds_the_lateral_centre() -> None:
    ys = [40.0, 70.0, 100.0, 130.0, 160.0, 190.0, 220.0]
    box = letterbox(256, 256, (256, 256))
    slices = []
    for k, x in enumerate([-8.0, -4.0, 0.0, 4.0, 8.0, 12.0]):
        width = {-8.0: 10.0, 8.0: 10.0, 12.0: 0.0}.get(x, 30.0)
        found = _body_rows(ys, sacral_at=6, width=width) if width else Detections.empty()
        if k == 0:  # a false positive seen on a lateral slice only
            extra = Detections(np.array([[10.0, 10, 30, 30]]), np.array([0.95]), np.array([0]))
            found = Detections(
                np.concatenate([found.boxes, extra.boxes]),
                np.concatenate([found.scores, extra.scores]),
                np.concatenate([found.classes, extra.classes]),
            )
        slices.append(SliceDetections(found, box, _sagittal(x), index=k))
    result = fuse_slices(slices, reference=2)
    assert [b.label for b in result.bodies] == ["S1", "L5", "L4", "L3", "L2", "L1", "T12"]
    s1 = result.get("S1")
    assert s1 is not None
    assert s1.slices == (0, 1, 2, 3, 4)
    centre = np.array(s1.centre_mm)
    assert centre == pytest.approx([0.0, 0.5, -19.5])  # the sections are symmetric about x = 0
    # the sacral body called "vertebra" on every slice, with an S1 score of 0.4: still S1
    soft = []
    for s in slices:
        d = s.detections
        per_class = np.stack([d.scores, np.where(d.classes == 1, 0.4, 0.02)], axis=1)
        relabelled = Detections(d.boxes, d.scores, np.zeros_like(d.classes), per_class)
        soft.append(SliceDetections(relabelled, s.box, s.plane, s.index))
    again = fuse_slices(soft, reference=2)
    assert [b.label for b in again.bodies] == [b.label for b in result.bodies]
    assert again.warnings == () and again.bodies[0].class_name == "vertebra"
    with pytest.raises(ValueError, match="plane"):
        fuse_slices([SliceDetections(Detections.empty(), box)])


# -- a tiny training run -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    pytest.importorskip("torch", reason="the training extra (torch) is not installed")
    pytest.importorskip("onnx")
    from spineviewer.training.detection_pipeline import train_and_ship_detector
    from spineviewer.training.detector import DetectorConfig

    root = tmp_path_factory.mktemp("detector")
    out = root / "models"
    shipped = train_and_ship_detector(
        root / "phantoms",
        out,
        DetectorConfig(epochs=1, batch_size=8),
        scale=0.01,  # one study per set
        say=lambda text: None,
    )
    return root, out, shipped


def test_tiny_run_exports_a_valid_package(tiny: Tiny) -> None:
    from spineviewer.ai import ModelManifest, check_onnx_file, find_models

    _, out, shipped = tiny
    onnx_path = out / "vertebrae-sagittal.onnx"
    assert shipped.onnx_path == onnx_path
    manifest = ModelManifest.load(out / "vertebrae-sagittal.json")
    assert check_onnx_file(manifest, onnx_path) == []
    assert manifest.task == "detection" and manifest.provenance.not_for_clinical_use
    assert manifest.label_names == ("vertebra", "S1")
    s1 = manifest.labels[1]
    assert s1.code is not None and s1.code.scheme == "SCT"
    assert manifest.decoding.style == "yolo"  # type: ignore[union-attr]
    card = (out / "vertebrae-sagittal.md").read_text()
    assert "NOT FOR CLINICAL USE" in card and "random initialisation" in card
    assert "ms per slice" in card and "13000" in card and "wide profile" in card
    assert onnx_path.stat().st_size < 20e6
    entries = [e for e in find_models([out]) if e.id == "vertebrae-sagittal"]
    assert entries and entries[0].available
    report = out / "vertebrae-sagittal-evaluation"
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["identification"]["task"] == "identification"
    assert metrics["identification"]["n_truth"] >= 6


def test_onnxruntime_runs_the_model_as_the_manifest_says(tiny: Tiny) -> None:
    import onnxruntime

    from spineviewer.ai import ModelManifest
    from spineviewer.ai.detection import detect
    from spineviewer.dicom import StackPixels
    from spineviewer.training.detection_data import sagittal_stack

    root, out, _ = tiny
    manifest = ModelManifest.load(out / "vertebrae-sagittal.json")
    session = onnxruntime.InferenceSession(
        str(out / "vertebrae-sagittal.onnx"), providers=["CPUExecutionProvider"]
    )
    study = next((root / "phantoms" / "wide-sagittal").glob("lumbar-mr-93000"))
    stack = sagittal_stack(study)
    values = StackPixels(stack).slice(len(stack) // 2)
    x = np.zeros((2, 1, 256, 256), dtype=np.float32)
    (rows,) = session.run(None, {"image": x})
    assert rows.shape == (2, 4096, 6)
    ((found, box),) = detect(manifest, session, [values])
    assert box.size == (256, 256)
    assert found.boxes.shape[1] == 4 and np.all(found.scores >= manifest.decoding.score_threshold)  # type: ignore[union-attr]


def test_evaluate_detector_agrees_with_the_shipped_numbers(tiny: Tiny) -> None:
    from spineviewer.training.detection_pipeline import evaluate_detector

    root, out, shipped = tiny
    result = evaluate_detector(
        out / "vertebrae-sagittal.onnx", [root / "phantoms" / "wide-sagittal" / "lumbar-mr-93000"]
    )
    assert result["identification"]["rate"] == shipped.evaluation["identification"]["rate"]
    assert set(result) >= {"identification", "middle_slice", "detection", "model", "data"}
    manifest = json.loads((out / "vertebrae-sagittal.json").read_text())
    metrics = manifest["provenance"]["evaluation"]["metrics"]
    assert metrics["identification_rate"] == pytest.approx(
        result["identification"]["rate"] or 0.0, abs=1e-4
    )


def test_the_unit_tests_need_no_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, spineviewer.ai.vertebra_labels, spineviewer.training.detection_data; "
        "print('torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"


def test_a_detection_off_the_column_is_dropped() -> None:
    from spineviewer.ai.vertebra_labels import off_column_mask

    column = [(0.0, 30.0 + 0.1 * z, z) for z in (-140.0, -100.0, -60.0, -20.0, 20.0, 60.0)]
    canal = (0.0, 80.0, -40.0)  # on the spinal canal, between two bodies
    keep = off_column_mask([*column, canal])
    assert keep.tolist() == [True] * len(column) + [False]
    assert off_column_mask(column).all()
    assert off_column_mask(column[:2]).all()
