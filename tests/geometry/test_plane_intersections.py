"""Cross-reference lines: where one image plane cuts another, in the other's pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spineviewer.geometry import PixelSegment, Plane, clip_line_to_rect

SQRT3 = math.sqrt(3.0)

# Sagittal image, 256 x 256, rows 0.5 mm apart, columns 2.0 mm apart. Pixel (r, c) is at
# (-5, -100 + 2c, 200 - 0.5r): columns run posterior (+y), rows run to the feet (-z).
SAGITTAL = Plane.from_dicom((-5.0, -100.0, 200.0), (0, 1, 0, 0, 0, -1), (0.5, 2.0), 256, 256)
# The same sagittal geometry with square 1 mm pixels.
SAGITTAL_1MM = Plane.from_dicom((-5.0, -100.0, 200.0), (0, 1, 0, 0, 0, -1), (1.0, 1.0), 256, 256)


def axial_at(z: float, tilt_degrees: float = 0.0) -> Plane:
    """An axial plane through (0, -100, z), tilted about the patient x axis."""
    c, s = math.cos(math.radians(tilt_degrees)), math.sin(math.radians(tilt_degrees))
    return Plane.from_dicom((-200.0, -100.0, z), (1, 0, 0, 0, c, s), (0.8, 0.8), 512, 512)


def endpoints(segment: PixelSegment | None) -> list[tuple[float, float]]:
    assert segment is not None
    return sorted([segment.start, segment.end])


def test_axial_plane_on_sagittal_image_is_a_row() -> None:
    """z = 150 is 50 mm below the sagittal origin: row 50 / 0.5 = 100."""
    axial = axial_at(150.0)

    a, b, k = SAGITTAL.intersection_coefficients(axial)
    segment = SAGITTAL.intersect(axial)

    # normal (0, 0, 1): a = dc * (n . X) = 0, b = dr * (n . Y) = -0.5, k = n . (S - S') = 50.
    assert (a, b, k) == pytest.approx((0.0, -0.5, 50.0))
    assert endpoints(segment) == [pytest.approx((100.0, -0.5)), pytest.approx((100.0, 255.5))]
    assert segment.length == pytest.approx(256.0)


def test_every_point_of_the_line_lies_in_both_planes() -> None:
    axial = axial_at(150.0, tilt_degrees=30.0)
    segment = SAGITTAL.intersect(axial)
    assert segment is not None

    for t in np.linspace(0.0, 1.0, 7):
        row = segment.start[0] + t * (segment.end[0] - segment.start[0])
        col = segment.start[1] + t * (segment.end[1] - segment.start[1])
        point = SAGITTAL.to_patient(row, col)
        assert float(axial.distance(point)) == pytest.approx(0.0, abs=1e-9)
        assert float(SAGITTAL.distance(point)) == pytest.approx(0.0, abs=1e-9)


def test_tilted_axial_plane_is_a_sloped_line_with_hand_computed_ends() -> None:
    """Axial plane through (., -100, 150) tilted 30 degrees, on the 1 mm sagittal image.

    Sagittal pixel (r, c) is at (-5, -100 + c, 200 - r); the plane's normal is
    (0, -1/2, sqrt3/2), so -c/2 + sqrt3/2 (50 - r) = 0, i.e. r = 50 - c / sqrt3.
    At the left edge c = -0.5: r = 50 + 0.5/sqrt3. It leaves through the top edge r = -0.5
    at c = sqrt3 * 50.5.
    """
    axial = axial_at(150.0, tilt_degrees=30.0)

    a, b, k = SAGITTAL_1MM.intersection_coefficients(axial)
    segment = SAGITTAL_1MM.intersect(axial)

    assert (a, b, k) == pytest.approx((-0.5, -SQRT3 / 2, 50 * SQRT3 / 2))
    assert endpoints(segment) == [
        pytest.approx((-0.5, SQRT3 * 50.5)),
        pytest.approx((50.0 + 0.5 / SQRT3, -0.5)),
    ]


def test_non_square_pixels_scale_the_slope() -> None:
    """Same tilted plane on 0.5 x 2.0 mm pixels: -2c/2 + sqrt3/2 (50 - 0.5 r) = 0."""
    axial = axial_at(150.0, tilt_degrees=30.0)

    a, b, k = SAGITTAL.intersection_coefficients(axial)
    segment = SAGITTAL.intersect(axial)

    assert (a, b, k) == pytest.approx((-1.0, -SQRT3 / 4, 50 * SQRT3 / 2))
    # r = 100 - 4c / sqrt3: row 100 + 2/sqrt3 at c = -0.5; top edge at c = sqrt3 (100.5) / 4.
    assert endpoints(segment) == [
        pytest.approx((-0.5, SQRT3 * 100.5 / 4)),
        pytest.approx((100.0 + 2.0 / SQRT3, -0.5)),
    ]


def test_sagittal_plane_on_axial_image_is_a_column() -> None:
    """x = -5 on an axial image starting at x = -200 with 0.8 mm columns: column 243.75."""
    axial = axial_at(150.0)

    segment = axial.intersect(SAGITTAL)

    assert endpoints(segment) == [pytest.approx((-0.5, 243.75)), pytest.approx((511.5, 243.75))]


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(axial_at(150.0), id="axial-on-axial"),
        pytest.param(
            Plane.from_dicom((40.0, 0.0, 0.0), (0, -1, 0, 0, 0, 1), (1.0, 1.0), 10, 10),
            id="flipped-sagittal",
        ),
    ],
)
def test_parallel_planes_have_no_line(other: Plane) -> None:
    base = axial_at(0.0) if other.normal[2] else SAGITTAL

    assert base.is_parallel(other)
    assert base.intersect(other) is None
    a, b, _ = base.intersection_coefficients(other)
    assert (a, b) == pytest.approx((0.0, 0.0), abs=1e-12)


@pytest.mark.parametrize(
    "z",
    [
        pytest.param(500.0, id="above-the-image"),
        pytest.param(200.0 - 0.5 * 256, id="just-below-the-last-row-edge"),
    ],
)
def test_plane_missing_the_image_gives_no_line(z: float) -> None:
    """The sagittal image covers z from 200 + 0.25 down to 200 - 0.5 * 255.5 = 72.25."""
    assert SAGITTAL.intersect(axial_at(z)) is None


def test_plane_through_the_last_row_edge_still_touches_the_image() -> None:
    segment = SAGITTAL.intersect(axial_at(200.0 - 0.5 * 255.5))

    assert endpoints(segment) == [pytest.approx((255.5, -0.5)), pytest.approx((255.5, 255.5))]


def test_without_a_shape_the_line_spans_a_10000_pixel_square() -> None:
    sagittal = Plane.from_dicom((-5.0, -100.0, 200.0), (0, 1, 0, 0, 0, -1), (1.0, 1.0))

    segment = sagittal.intersect(axial_at(150.0))

    assert endpoints(segment) == [pytest.approx((50.0, -0.5)), pytest.approx((50.0, 9999.5))]


@pytest.mark.parametrize(
    ("coefficients", "shape", "expected"),
    [
        pytest.param((0.0, 1.0, -2.0), (5, 4), [(2.0, -0.5), (2.0, 3.5)], id="row-2"),
        pytest.param((1.0, 0.0, -1.0), (5, 4), [(-0.5, 1.0), (4.5, 1.0)], id="column-1"),
        pytest.param((1.0, -1.0, 0.0), (4, 4), [(-0.5, -0.5), (3.5, 3.5)], id="diagonal"),
        pytest.param((0.0, 1.0, 0.5), (3, 3), [(-0.5, -0.5), (-0.5, 2.5)], id="top-edge"),
        # r = 2c + 1 on 10 x 10: enters at c = -0.5 (r = 0), leaves at r = 9.5 (c = 4.25).
        pytest.param((2.0, -1.0, 1.0), (10, 10), [(0.0, -0.5), (9.5, 4.25)], id="slope-2"),
    ],
)
def test_clip_line_to_rect(coefficients, shape, expected) -> None:
    segment = clip_line_to_rect(*coefficients, *shape)

    assert endpoints(segment) == [pytest.approx(p) for p in sorted(expected)]


@pytest.mark.parametrize(
    ("coefficients", "shape"),
    [
        pytest.param((1.0, 1.0, 1.0), (4, 4), id="touches-only-the-corner"),
        pytest.param((0.0, 1.0, -7.0), (5, 4), id="below-the-image"),
        pytest.param((1.0, 0.0, 10.0), (5, 4), id="left-of-the-image"),
        pytest.param((0.0, 0.0, 3.0), (5, 4), id="degenerate"),
    ],
)
def test_clip_line_to_rect_misses(coefficients, shape) -> None:
    assert clip_line_to_rect(*coefficients, *shape) is None
