"""Rotations and flips on screen keep pixels, coordinates and patient directions consistent."""

from __future__ import annotations

import numpy as np
import pytest

from spineviewer.geometry import Plane
from spineviewer.viewing.display_transform import DisplayTransform

BASE = DisplayTransform(3, 4, (2.0, 0.5))


def _all_transforms() -> list[DisplayTransform]:
    out = []
    for turns in range(4):
        t = BASE
        for _ in range(turns):
            t = t.rotated()
        out += [t, t.flipped(True), t.flipped(False)]
    return out


@pytest.mark.parametrize("t", _all_transforms(), ids=lambda t: str(t.matrix))
def test_pixels_and_coordinates_agree(t: DisplayTransform) -> None:
    values = np.arange(12).reshape(3, 4)
    shown = t.apply(values)
    assert shown.shape == t.shown_shape
    sy, sx = t.shown_spacing
    for r in range(3):
        for c in range(4):
            x, y = t.image_to_view(r, c)
            assert shown[int(y // sy), int(x // sx)] == values[r, c]
            back = t.view_to_image(x, y)
            assert back == pytest.approx((r, c))


def test_view_size_keeps_the_aspect_ratio_of_non_square_pixels() -> None:
    assert BASE.view_size == (4 * 0.5, 3 * 2.0)
    assert BASE.rotated().view_size == (3 * 2.0, 4 * 0.5)


def test_clockwise_turn_puts_the_top_row_on_the_right() -> None:
    values = np.arange(12).reshape(3, 4)
    shown = BASE.rotated().apply(values)
    assert shown[:, -1].tolist() == [0, 1, 2, 3]
    assert BASE.rotated().rotated(False).matrix == BASE.matrix
    assert BASE.rotated().rotated().rotated().rotated().matrix == BASE.matrix


def test_screen_directions_follow_rotation_and_flip() -> None:
    axial = Plane.from_dicom((0, 0, 0), (1, 0, 0, 0, 1, 0), (1, 1), 3, 4)
    right, down = BASE.screen_directions(axial)
    assert right.tolist() == [1, 0, 0] and down.tolist() == [0, 1, 0]
    right, down = BASE.flipped(True).screen_directions(axial)
    assert right.tolist() == [-1, 0, 0] and down.tolist() == [0, 1, 0]
    # A clockwise turn brings what was at the top (anterior, -y) to the right.
    right, down = BASE.rotated().screen_directions(axial)
    assert right.tolist() == [0, -1, 0] and down.tolist() == [1, 0, 0]
