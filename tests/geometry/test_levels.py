"""Assigning slices to the nearest disc level (distance along each slice's normal)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spineviewer.geometry import (
    DEFAULT_THRESHOLD_MM,
    Plane,
    assign_slices_to_levels,
    default_threshold,
)
from spineviewer.geometry.levels import COLUMN, adjacent, disc_centres


def axial(z: float, tilt_degrees: float = 0.0) -> Plane:
    c, s = math.cos(math.radians(tilt_degrees)), math.sin(math.radians(tilt_degrees))
    return Plane.from_dicom((-100.0, -100.0, z), (1, 0, 0, 0, c, s), (0.7, 0.7), 256, 256)


# Disc centres 19 mm apart along z, a little off the slices' origins sideways (which must not
# matter: only the distance along the normal counts).
CENTRES = {
    "L3-L4": (3.0, 20.0, 12.0),
    "L4-L5": (3.0, 25.0, 31.0),
    "L5-S1": (3.0, 30.0, 50.0),
}
# Distance of each centre from axial planes at z = 0, 10, 20, 30, 40, 52, in mm.
SLICE_Z = [0.0, 10.0, 20.0, 30.0, 40.0, 52.0]


def test_default_threshold_is_five_mm_for_discs_far_apart() -> None:
    # Gaps are |(0,5,19)| = 19.65 mm: half is 9.8 mm, capped at 5 mm.
    assert default_threshold(CENTRES) == DEFAULT_THRESHOLD_MM == 5.0


@pytest.mark.parametrize(
    ("centres", "expected"),
    [
        pytest.param({"a": (0, 0, 0), "b": (0, 0, 6), "c": (0, 0, 20)}, 3.0, id="half-of-6"),
        pytest.param({"a": (0, 0, 0), "b": (0, 3, 4)}, 2.5, id="euclidean-gap-5"),
        pytest.param({"a": (0, 0, 0), "b": (0, 0, 40)}, 5.0, id="capped"),
        pytest.param({"a": (0, 0, 0)}, 5.0, id="one-centre"),
        pytest.param({}, 5.0, id="no-centre"),
    ],
)
def test_default_threshold(centres, expected) -> None:
    assert default_threshold(centres) == pytest.approx(expected)


def test_slices_go_to_the_nearest_level_within_the_threshold() -> None:
    planes = [axial(z) for z in SLICE_Z]

    result = assign_slices_to_levels(planes, CENTRES)

    assert [a.slice_index for a in result] == list(range(len(SLICE_Z)))
    # z=0: 12 mm from L3-L4 -> none; z=10: 2 mm -> L3-L4; z=20: 8 and 11 mm -> none;
    # z=30: 1 mm -> L4-L5; z=40: 9 and 10 mm -> none; z=52: 2 mm -> L5-S1.
    assert [a.level for a in result] == [None, "L3-L4", None, "L4-L5", None, "L5-S1"]
    assert [a.distance_mm for a in result] == pytest.approx([12.0, 2.0, 8.0, 1.0, 9.0, 2.0])
    assert result[2].distances_mm == pytest.approx({"L3-L4": 8.0, "L4-L5": 11.0, "L5-S1": 30.0})
    assert result[5].distances_mm == pytest.approx({"L3-L4": 40.0, "L4-L5": 21.0, "L5-S1": 2.0})


def test_explicit_threshold_is_inclusive() -> None:
    planes = [axial(z) for z in SLICE_Z]

    result = assign_slices_to_levels(planes, CENTRES, threshold_mm=8.0)

    assert [a.level for a in result] == [None, "L3-L4", "L3-L4", "L4-L5", None, "L5-S1"]


def test_default_threshold_follows_close_centres() -> None:
    """Centres 4 mm apart: the threshold is 2 mm, so a slice 3 mm away is not assigned."""
    centres = {"A": (0.0, 0.0, 10.0), "B": (0.0, 0.0, 14.0)}

    result = assign_slices_to_levels([axial(7.0), axial(8.5), axial(12.0)], centres)

    assert [a.level for a in result] == [None, "A", "A"]  # 3 mm; 1.5 mm; a 2 mm tie -> first
    assert [a.distance_mm for a in result] == pytest.approx([3.0, 1.5, 2.0])


def test_distance_is_along_each_tilted_slice_normal() -> None:
    """A slice tilted 30 degrees through (., -100, 20): normal (0, -1/2, sqrt3/2).

    L3-L4 at (3, 20, 12): (., 120, -8) . n = -60 - 4 sqrt3 -> 66.9 mm away; a centre at
    (0, -90, 22) is (., 10, 2) . n = -5 + sqrt3 = -3.27 -> 3.27 mm away.
    """
    centres = {**CENTRES, "T12-L1": (0.0, -90.0, 22.0)}

    [result] = assign_slices_to_levels([axial(20.0, tilt_degrees=30.0)], centres)

    assert result.level == "T12-L1"
    assert result.distance_mm == pytest.approx(5 - math.sqrt(3))
    assert result.distances_mm["L3-L4"] == pytest.approx(60 + 4 * math.sqrt(3))


def test_no_centres_assigns_nothing() -> None:
    [result] = assign_slices_to_levels([axial(0.0)], {})

    assert (result.level, result.distance_mm, result.distances_mm) == (None, None, {})


# -- adjacency and disc centres ------------------------------------------------------------------

LUMBAR_COLUMN = ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1")


def test_adjacent_follows_the_column_and_allows_a_sixth_lumbar() -> None:
    assert adjacent("L4", "L5") and adjacent("L5", "S1") and adjacent("T12", "L1")
    assert adjacent("L5", "L6") and adjacent("L6", "S1")
    assert not adjacent("L2", "L5") and not adjacent("T11", "L4") and not adjacent("L5", "L4")
    assert not adjacent("L5", "nonsense") and COLUMN[-1] == "S1"


@given(st.lists(st.booleans(), min_size=len(LUMBAR_COLUMN), max_size=len(LUMBAR_COLUMN)))
def test_no_disc_is_built_across_a_missed_body(kept: list[bool]) -> None:
    bodies = [
        (label, (0.0, 0.0, -30.0 * k))
        for k, (label, keep) in enumerate(zip(LUMBAR_COLUMN, kept, strict=True))
        if keep
    ]
    centres = disc_centres(bodies)
    for level in centres:
        upper, lower = level.split("-")
        assert adjacent(upper, lower), level
        assert LUMBAR_COLUMN.index(lower) - LUMBAR_COLUMN.index(upper) == 1
    labels = [b[0] for b in bodies]
    expected = sum(1 for a, b in itertools.pairwise(labels) if adjacent(a, b))
    assert len(centres) == expected
    for level, centre in centres.items():
        upper, lower = level.split("-")
        z = (-30.0 * LUMBAR_COLUMN.index(upper) - 30.0 * LUMBAR_COLUMN.index(lower)) / 2
        assert centre[2] == pytest.approx(z)
