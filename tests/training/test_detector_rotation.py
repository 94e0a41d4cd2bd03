"""Rotation augmentation of the detector: the boxes turn with the pixels."""

from __future__ import annotations

import math

import numpy as np

from spineviewer.training.detection_data import DetectionSample
from spineviewer.training.detector import DetectorConfig, _augment, rotated_boxes


def _blob_sample(cx: float, cy: float, half: tuple[float, float]) -> DetectionSample:
    size = 128
    image = np.zeros((size, size), dtype=np.float32)
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    image[(np.abs(xs - cx) <= half[0]) & (np.abs(ys - cy) <= half[1])] = 1.0
    box = np.array([[cx - half[0], cy - half[1], cx + half[0], cy + half[1]]], dtype=np.float32)
    return DetectionSample(
        image=image,
        boxes=box,
        classes=np.zeros(1, dtype=np.int64),
        labels=("L3",),
        study="s",
        sop_instance_uid="1.2",
        slice_index=0,
        offset=0,
        box=None,  # type: ignore[arg-type]
    )


def test_rotated_boxes_turn_the_centre_and_keep_a_round_body_size() -> None:
    boxes = np.array([[70.0, 60.0, 90.0, 68.0]])  # centre (80, 64): 16 px right of the middle
    turned = rotated_boxes(boxes, math.radians(90.0), (128, 128))
    centre = (turned[0, :2] + turned[0, 2:]) / 2
    np.testing.assert_allclose(centre, [64.0, 80.0], atol=1e-9)  # y runs down: turns downward
    np.testing.assert_allclose(turned[0, 2:] - turned[0, :2], [8.0, 20.0], atol=1e-9)
    np.testing.assert_allclose(rotated_boxes(boxes, 0.0, (128, 128)), boxes)


def test_augmented_box_follows_the_turned_pixels() -> None:
    config = DetectorConfig(zoom=0.0, shift_px=0.0, intensity=0.0, gamma=0.0, noise=0.0,
                            rotation=30.0)  # fmt: skip
    sample = _blob_sample(90.0, 40.0, (10.0, 7.0))
    moved = 0
    for seed in range(6):
        images, targets = _augment([sample], config, np.random.default_rng(seed))
        image, (boxes, _, _) = images[0], targets[0]
        ys, xs = np.mgrid[0:128, 0:128] + 0.5
        weight = image.sum()
        centroid = np.array([(xs * image).sum() / weight, (ys * image).sum() / weight])
        centre = (boxes[0, :2] + boxes[0, 2:]) / 2
        np.testing.assert_allclose(centre, centroid, atol=0.6)
        moved += bool(np.linalg.norm(centre - [90.0, 40.0]) > 2.0)
    assert moved >= 4  # the turns really move the body


def test_tilted_boxes_are_never_turned() -> None:
    config = DetectorConfig(zoom=0.0, shift_px=0.0, intensity=0.0, gamma=0.0, noise=0.0,
                            rotation=30.0)  # fmt: skip
    sample = _blob_sample(90.0, 40.0, (10.0, 7.0))
    tilted = DetectionSample(**{**sample.__dict__, "angles": np.array([5.0])})
    _, targets = _augment([tilted], config, np.random.default_rng(0))
    np.testing.assert_allclose(targets[0][0], sample.boxes, atol=1e-4)
