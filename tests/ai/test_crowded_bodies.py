"""Two detections closer than about half the usual distance between neighbouring bodies cannot
both be vertebral bodies: the weaker one goes (a body split in two, or a disc or endplate taken
for a body, would shift every label above it by one)."""

from __future__ import annotations

import numpy as np

from spineviewer.ai.vertebra_labels import CROWDED_FACTOR, crowded_mask


def _column(count: int, step: float = 32.0) -> np.ndarray:
    """Body centres (patient mm) along a gently curved column, bottom first."""
    z = np.arange(count) * step
    return np.stack([np.zeros(count), 8 * np.sin(z / 120.0), z], axis=1)


def test_a_regular_column_keeps_every_body():
    centres = _column(7)
    assert crowded_mask(centres, np.full(7, 0.8)).all()


def test_a_detection_between_two_bodies_is_dropped_not_the_bodies():
    centres = _column(7)
    extra = (centres[3] + centres[4]) / 2  # a disc taken for a body
    points = np.vstack([centres, extra])
    scores = np.array([0.9] * 7 + [0.4])
    keep = crowded_mask(points, scores)
    assert keep.tolist() == [True] * 7 + [False]


def test_of_a_split_body_the_weaker_half_goes():
    centres = _column(6)
    half = centres[2] + np.array([0.0, 0.0, 0.3 * 32.0])
    points = np.vstack([centres, half])
    keep = crowded_mask(points, np.array([0.9, 0.9, 0.5, 0.9, 0.9, 0.9, 0.7]))
    assert keep.tolist() == [True, True, False, True, True, True, True]


def test_gaps_from_missed_bodies_are_not_crowding():
    centres = np.delete(_column(8), [3], axis=0)  # one body missed: a wide gap, not a tight one
    assert crowded_mask(centres, np.full(7, 0.8)).all()
    assert CROWDED_FACTOR < 1.0


def test_fewer_than_three_bodies_are_left_alone():
    points = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert crowded_mask(points, [0.9, 0.2]).all()
