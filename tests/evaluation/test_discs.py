"""Degeneration and contour are drawn separately: correlated, but neither decides the other."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.evaluation.discs import (
    CONTOURS,
    contour_probabilities,
    draw_condition,
    pfirrmann,
)


@pytest.fixture(scope="module")
def drawn() -> list:
    rng = np.random.default_rng(3)
    levels = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
    return [
        draw_condition(rng, levels[i % 5], float(age))
        for i, age in enumerate(rng.uniform(22, 78, size=4000))
    ]


def test_degenerated_discs_bulge_more_often(drawn: list) -> None:
    young = [c for c in drawn if c.degeneration < 0.2]
    old = [c for c in drawn if c.degeneration > 0.6]
    assert len(young) > 200 and len(old) > 200

    def share(group: list, state: str) -> float:
        return sum(c.state == state for c in group) / len(group)

    assert share(old, "bulge") > 2 * share(young, "bulge")
    assert share(old, "normal") < share(young, "normal")


def test_young_herniations_are_bright_and_old_normal_discs_dark(drawn: list) -> None:
    bright_herniations = [c for c in drawn if c.state == "herniation" and c.pfirrmann <= 2]
    dark_normals = [c for c in drawn if c.state == "normal" and c.pfirrmann >= 4]
    assert len(bright_herniations) > 0.04 * len(drawn)
    assert len(dark_normals) > 0.04 * len(drawn)


def test_the_nucleus_signal_alone_cannot_tell_the_contour(drawn: list) -> None:
    """The best three-way rule on the degeneration (normal below t1, bulge above t2,
    herniation between) stays far from a perfect score: no shortcut to learn."""
    d = np.array([c.degeneration for c in drawn])
    states = np.array([CONTOURS.index(c.state) for c in drawn])
    best = 0.0
    grid = np.linspace(0, 1, 21)
    for t1 in grid:
        for t2 in grid[grid >= t1]:
            guess = np.where(d < t1, 0, np.where(d > t2, 1, 2))
            recall = [np.mean(guess[states == k] == k) for k in range(3)]
            best = max(best, float(np.mean(recall)))
    assert best < 0.55  # chance is 0.33


def test_each_draw_carries_its_contour_details(drawn: list) -> None:
    for c in drawn:
        assert (c.bulge_mm > 0) == (c.state == "bulge")
        assert (c.herniation_mm > 0) == (c.state == "herniation") == (c.side is not None)
        assert c.height_loss == 0.0 or c.degeneration > 0.5


def test_probabilities_and_grades() -> None:
    for d in np.linspace(0, 1, 11):
        p = contour_probabilities(float(d))
        assert sum(p) == pytest.approx(1.0) and min(p) > 0.05 and max(p) < 0.8
    assert [pfirrmann(v) for v in (0.0, 0.19, 0.2, 0.5, 0.79, 0.8, 1.0)] == [1, 1, 2, 3, 4, 5, 5]
