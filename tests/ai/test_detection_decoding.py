"""Decoding YOLO rows with keypoints, NMS within classes and MONOCHROME1 inputs
(spineviewer.ai.detection, numpy only)."""

from __future__ import annotations

import numpy as np
import pytest
from manifest_helpers import variant

from spineviewer.ai import ModelManifest
from spineviewer.ai.detection import box_iou, decode_predictions, detect, nms
from spineviewer.ai.preprocessing import box_to_image, model_image


def _row(box: list[float], scores: list[float], points: list[float] = ()) -> list[float]:
    return [*box, *scores, *points]


def test_keypoints_follow_their_rows_through_threshold_and_nms() -> None:
    pts_a = [1, 2, 0.9, 3, 4, 0.9]
    pts_b = [5, 6, 0.8, 7, 8, 0.8]
    rows = np.array(
        [
            _row([50, 50, 20, 20], [0.9, 0.1], pts_a),
            _row([52, 50, 20, 20], [0.6, 0.1], [0] * 6),  # suppressed by the first
            _row([150, 50, 20, 20], [0.2, 0.8], pts_b),
            _row([250, 50, 20, 20], [0.1, 0.1], [0] * 6),  # below threshold
        ]
    )
    found = decode_predictions(rows, 0.3, 0.5, num_classes=2)
    assert found.keypoints is not None and found.keypoints.shape == (2, 2, 3)
    assert found.classes.tolist() == [0, 1]
    np.testing.assert_allclose(found.keypoints[0].ravel(), pts_a)
    np.testing.assert_allclose(found.keypoints[1].ravel(), pts_b)
    assert found.take([1]).keypoints is not None


def test_without_num_classes_every_value_is_a_class_score() -> None:
    rows = np.array([_row([50, 50, 20, 20], [0.1, 0.2, 0.9])])
    found = decode_predictions(rows, 0.3, 0.5)
    assert found.keypoints is None and found.class_scores is not None
    assert found.class_scores.shape == (1, 3)


def test_values_after_the_classes_must_come_in_threes() -> None:
    with pytest.raises(ValueError, match="3 per point"):
        decode_predictions(np.zeros((4, 4 + 2 + 4)), 0.3, 0.5, num_classes=2)


def test_no_rows_above_threshold_give_empty_keypoints() -> None:
    found = decode_predictions(np.zeros((5, 4 + 1 + 12)), 0.3, 0.5, num_classes=1)
    assert len(found) == 0
    assert found.keypoints is not None and found.keypoints.shape == (0, 4, 3)


def test_per_class_nms_keeps_overlapping_objects_of_different_classes() -> None:
    rows = np.array(
        [
            _row([50, 50, 10, 40], [0.9, 0.0]),  # a screw
            _row([50, 52, 10, 40], [0.0, 0.8]),  # a rod over it
            _row([50, 51, 10, 40], [0.7, 0.0]),  # a duplicate screw
        ]
    )
    agnostic = decode_predictions(rows, 0.3, 0.5, num_classes=2)
    assert agnostic.classes.tolist() == [0]
    within = decode_predictions(rows, 0.3, 0.5, num_classes=2, per_class=True)
    assert within.classes.tolist() == [0, 1]
    assert within.scores.tolist() == pytest.approx([0.9, 0.8])


def _manifest(monochrome1: str, normalisation: dict) -> ModelManifest:
    data = variant("detection", "yolo")
    pre = data["preprocessing"]
    pre.pop("roi_mm")
    pre.update({"monochrome1": monochrome1, "normalisation": normalisation})
    return ModelManifest.from_dict(data)


@pytest.mark.parametrize(
    "normalisation",
    [{"percentile": {"low": 1, "high": 99}}, {"window": {"center": 50.0, "width": 100.0}}],
)
def test_monochrome1_is_inverted_before_the_letterbox_unless_kept(normalisation: dict) -> None:
    values = np.tile(np.linspace(0, 100, 200), (100, 1))  # 100 x 200: padded above and below
    plain, box = model_image(_manifest("invert", normalisation), values)
    inverted, _ = model_image(_manifest("invert", normalisation), values, monochrome1=True)
    kept, _ = model_image(_manifest("keep", normalisation), values, monochrome1=True)
    inside = np.zeros(plain.shape, dtype=bool)
    top = round(box.pad_top)
    inside[top + 1 : top + round(100 * box.scale) - 1] = True
    np.testing.assert_allclose(inverted[inside], 1.0 - plain[inside], atol=1e-5)
    assert np.all(inverted[~inside][:5] == 0.0)  # the padding stays black
    np.testing.assert_array_equal(kept, plain)


def test_nms_per_class_is_read_from_the_manifest_and_round_trips() -> None:
    data = variant("detection", "yolo")
    assert ModelManifest.from_dict(data).decoding.nms_per_class is None  # type: ignore[union-attr]
    data["decoding"]["nms_per_class"] = True
    manifest = ModelManifest.from_dict(data)
    assert manifest.decoding.nms_per_class is True  # type: ignore[union-attr]
    assert manifest.to_dict()["decoding"]["nms_per_class"] is True
    data["decoding"]["nms_per_class"] = "yes"
    with pytest.raises(ValueError, match="nms_per_class"):
        ModelManifest.from_dict(data)


def test_torchvision_outputs_threshold_extra_nms_and_order() -> None:
    from spineviewer.ai.detection import decode_torchvision

    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [80, 80, 90, 90]]
    found = decode_torchvision(boxes, [1, 1, 2, 1], [0.6, 0.9, 0.7, 0.1], 0.3, nms_iou=0.5)
    assert found.scores.tolist() == pytest.approx([0.9, 0.7])
    assert found.classes.tolist() == [1, 2]
    centred = decode_torchvision([[5, 5, 10, 10]], [0], [0.9], 0.3, box_format="cxcywh")
    assert centred.boxes.tolist() == [[0.0, 0.0, 10.0, 10.0]]
    with pytest.raises(ValueError, match="do not match"):
        decode_torchvision(boxes, [1], [0.5], 0.3)


def _constant_detector(path, boxes, labels, scores):
    """An ONNX graph image (1, 3, 8, 8) -> constant torchvision-style outputs."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    consts = {
        "boxes": np.asarray(boxes, dtype=np.float32),
        "labels": np.asarray(labels, dtype=np.int64),
        "scores": np.asarray(scores, dtype=np.float32),
    }
    nodes = [helper.make_node("Shape", ["image"], ["shape"])]
    nodes += [helper.make_node("Identity", [f"{k}_value"], [k]) for k in consts]
    graph = helper.make_graph(
        nodes,
        "constant-detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["n", 4]),
            helper.make_tensor_value_info("labels", TensorProto.INT64, ["n"]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["n"]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [4]),
        ],
        initializer=[numpy_helper.from_array(v, f"{k}_value") for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(path))


def test_detect_runs_a_torchvision_style_model(tmp_path) -> None:
    pytest.importorskip("onnx")
    import onnxruntime

    path = tmp_path / "det.onnx"
    # normalised xyxy boxes on an 8 x 8 input
    _constant_detector(path, [[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]], [1, 2], [0.9, 0.2])
    data = variant("detection", "torchvision")
    data["input"]["shape"] = [1, 3, 8, 8]
    pre = data["preprocessing"]
    pre.pop("roi_mm")
    pre["size"] = [8, 8]
    data["decoding"]["coordinates"] = "normalised"
    data["decoding"]["score_threshold"] = 0.5
    manifest = ModelManifest.from_dict(data)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    image = np.arange(16 * 16, dtype=np.float32).reshape(16, 16)
    ((found, box),) = detect(manifest, session, [image])
    assert found.classes.tolist() == [1] and found.scores.tolist() == pytest.approx([0.9])
    assert found.boxes.tolist() == [[0.0, 0.0, 4.0, 4.0]]  # input pixels
    assert box_to_image(box, found.boxes[0]) == (0.0, 0.0, 8.0, 8.0)  # the 16 x 16 image


def test_yolo_rows_may_come_transposed() -> None:
    from spineviewer.ai.detection import _yolo_rows

    rows = np.zeros((1, 6, 100))  # (batch, 4 + C, cells), the ultralytics layout
    assert _yolo_rows(rows, 6).shape == (1, 100, 6)
    assert _yolo_rows(np.zeros((1, 100, 6)), 6).shape == (1, 100, 6)


def _greedy_reference(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Textbook greedy NMS, one IoU row at a time."""
    order = list(np.argsort(-scores, kind="stable"))
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(int(best))
        order = [i for i in order if box_iou(boxes[best], boxes[i])[0, 0] <= threshold]
    return kept


def test_nms_matches_textbook_greedy_suppression_on_random_boxes() -> None:
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(1, 60))
        xy = rng.uniform(0, 100, (n, 2))
        wh = rng.uniform(5, 40, (n, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        scores = rng.choice([0.3, 0.5, 0.7, 0.9], n)  # ties: lower index first
        threshold = float(rng.uniform(0.2, 0.7))
        assert nms(boxes, scores, threshold).tolist() == _greedy_reference(boxes, scores, threshold)


def test_the_manifests_mm_per_pixel_sets_the_input_scale_and_survives_a_round_trip() -> None:
    data = variant("detection", "yolo")
    data["preprocessing"].pop("roi_mm")
    data["preprocessing"]["mm_per_pixel"] = 1.2
    manifest = ModelManifest.from_dict(data)
    assert manifest.preprocessing.mm_per_pixel == 1.2
    assert ModelManifest.from_dict(manifest.to_dict()).preprocessing.mm_per_pixel == 1.2
    size = manifest.preprocessing.size
    values = np.tile(np.linspace(1, 100, 100), (100, 1))  # 60 mm at 0.6 mm: 50 input pixels
    image, box = model_image(manifest, values, spacing=(0.6, 0.6))
    assert box.scale == pytest.approx(0.5)
    assert np.count_nonzero(image.max(axis=1)) == pytest.approx(50, abs=1)
    plain, as_large = model_image(
        _manifest("invert", {"percentile": {"low": 1, "high": 99}}), values
    )
    assert as_large.scale == pytest.approx(min(size) / 100)
    assert plain.shape == image.shape
