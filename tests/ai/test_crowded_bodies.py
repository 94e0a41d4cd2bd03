"""Two detections closer than about half the usual distance between neighbouring bodies cannot
both be vertebral bodies: the weaker one goes (a body split in two, or a disc or endplate taken
for a body, would shift every label above it by one)."""

from __future__ import annotations

import numpy as np

from spineviewer.ai.vertebra_labels import (
    CROWDED_FACTOR,
    NEIGHBOURS_FACTOR,
    STEP_PER_HEIGHT,
    crowded_mask,
    intruder_mask,
)


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


def test_detections_on_many_discs_go_although_they_halve_the_median_step():
    """Weaker detections on five discs: the median step is then half a step, so the median
    rule keeps them all; the box heights give the real step and they go."""
    centres = _column(6)
    discs = (centres[:-1] + centres[1:]) / 2
    points = np.vstack([centres, discs])
    scores = np.array([0.9, 0.85, 0.8, 0.9, 0.88, 0.75, 0.3, 0.5, 0.4, 0.45, 0.35])
    heights = np.array([28.0] * 6 + [13.0] * 5)  # a 32 mm step: 28 mm bodies
    assert crowded_mask(points, scores).all()  # the median rule: every disc kept
    keep = intruder_mask(points, scores, heights)
    assert keep.tolist() == [True] * 6 + [False] * 5


def test_a_weak_body_between_two_others_stays():
    """A body that scores lower than both neighbours stays: they lie two steps apart."""
    centres = _column(7)
    scores = np.array([0.9, 0.9, 0.9, 0.35, 0.9, 0.9, 0.9])
    assert intruder_mask(centres, scores, np.full(7, 28.0)).all()
    assert NEIGHBOURS_FACTOR * STEP_PER_HEIGHT * 28.0 < 2 * 32.0


def test_tall_sacral_box_and_short_thoracic_steps_keep_every_body():
    thoracic = _column(4, step=27.0)[1:] + np.array([0.0, 0.0, 3 * 38.0])
    centres = np.vstack([_column(4, step=38.0), thoracic])
    heights = np.array([55.0, 30.0, 30.0, 29.0, 23.0, 22.0, 21.0])  # S1's box is tall
    scores = np.array([0.8, 0.9, 0.6, 0.9, 0.5, 0.9, 0.8])
    assert intruder_mask(centres, scores, heights).all()
