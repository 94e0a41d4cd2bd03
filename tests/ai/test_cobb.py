"""The Cobb angle from endplate corners (spineviewer.ai.cobb, numpy only)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spineviewer.ai.cobb import cobb_angle, endplate_tilts, line_angle_deg
from spineviewer.phantom.xr import cobb_from_tilts


def _corners(cx: float, cy: float, half_w: float, half_h: float, tilt_deg: float) -> np.ndarray:
    """Corners UL, UR, LL, LR of a body tilted counter-clockwise as displayed (y down)."""
    a = math.radians(tilt_deg)
    along, up = np.array([math.cos(a), -math.sin(a)]), np.array([-math.sin(a), -math.cos(a)])
    centre = np.array([cx, cy])
    return np.array(
        [
            centre + sx * half_w * along + sy * half_h * up
            for sx, sy in ((-1, 1), (1, 1), (-1, -1), (1, -1))
        ]
    )


def test_line_angle_is_counter_clockwise_as_displayed_and_direction_free() -> None:
    assert line_angle_deg((0, 0), (10, 0)) == pytest.approx(0.0)
    assert line_angle_deg((0, 0), (10, -10)) == pytest.approx(45.0)  # rises to the right
    assert line_angle_deg((10, -10), (0, 0)) == pytest.approx(45.0)
    assert line_angle_deg((0, 0), (10, 10)) == pytest.approx(-45.0)


@pytest.mark.parametrize("tilt", [-25.0, -3.0, 0.0, 7.5, 30.0])
def test_endplate_tilts_of_a_tilted_body(tilt: float) -> None:
    upper, lower = endplate_tilts(_corners(100, 200, 20, 12, tilt))
    assert upper == pytest.approx(tilt)
    assert lower == pytest.approx(tilt)


def test_endplate_tilts_need_four_corners() -> None:
    with pytest.raises(ValueError, match="4 corners"):
        endplate_tilts(np.zeros((3, 2)))


def test_cobb_angle_agrees_with_the_phantom_truth() -> None:
    rng = np.random.default_rng(5)
    labels = ["T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5"]
    for _ in range(20):
        tilts = list(rng.uniform(-30, 30, len(labels)))
        truth = cobb_from_tilts(labels, tilts)
        found = cobb_angle(labels, [(t, t) for t in tilts])
        assert found is not None
        assert found.angle_deg == pytest.approx(truth.angle_deg)
        assert {found.upper, found.lower} == {truth.upper_end_vertebra, truth.lower_end_vertebra}


def test_cobb_angle_uses_the_upper_endplate_above_and_the_lower_one_below() -> None:
    # a wedge: the upper vertebra's own endplates differ, but only pairs from top to bottom count
    found = cobb_angle(["L1", "L2", "L3"], [(10.0, -20.0), (0.0, 0.0), (5.0, -2.0)])
    assert found is not None
    assert (found.upper, found.lower, found.angle_deg) == ("L1", "L3", pytest.approx(12.0))
    assert (found.upper_tilt_deg, found.lower_tilt_deg) == (10.0, -2.0)


def test_cobb_angle_needs_two_vertebrae() -> None:
    assert cobb_angle(["L1"], [(3.0, 3.0)]) is None
    with pytest.raises(ValueError, match="labels"):
        cobb_angle(["L1", "L2"], [(0.0, 0.0)])
