"""Plane: pixel <-> patient transforms and distances against hand-computed values.

DICOM PS3.3 C.7.6.2.1.1: P(r, c) = S + c * dc * X + r * dr * Y, with X = IOP[0:3] (the way
the column index grows), Y = IOP[3:6] (the way the row index grows), dr = PixelSpacing[0]
(between rows) and dc = PixelSpacing[1] (between columns).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spineviewer.geometry import Plane

SQRT3_2 = math.sqrt(3.0) / 2.0  # cos 30 degrees

# Non-square pixels: rows 0.5 mm apart, columns 2.0 mm apart.
NON_SQUARE = Plane.from_dicom((10.0, 20.0, 30.0), (1, 0, 0, 0, 1, 0), (0.5, 2.0), 100, 50)
# Axial plane tilted 30 degrees about the patient x axis: Y = (0, cos 30, sin 30),
# normal X x Y = (0, -sin 30, cos 30).
OBLIQUE = Plane.from_dicom((-100.0, 50.0, 20.0), (1, 0, 0, 0, SQRT3_2, 0.5), (0.5, 2.0), 200, 100)
# Sagittal: columns run anterior->posterior (+y), rows run head->feet (-z); normal -x.
SAGITTAL = Plane.from_dicom((-5.0, -100.0, 200.0), (0, 1, 0, 0, 0, -1), (1.0, 1.0), 256, 256)

CASES = [
    # plane, (row, col), patient position computed by hand
    pytest.param(NON_SQUARE, (0, 0), (10.0, 20.0, 30.0), id="non-square-origin"),
    # c * dc * X = 3 * 2.0 along x, r * dr * Y = 4 * 0.5 along y. The classic bug of using
    # PixelSpacing[0] for the columns gives (11.5, 28, 30).
    pytest.param(NON_SQUARE, (4, 3), (16.0, 22.0, 30.0), id="non-square"),
    pytest.param(NON_SQUARE, (-2, 10.5), (31.0, 19.0, 30.0), id="non-square-fractional"),
    # c = 4 -> 8 mm along x; r = 10 -> 5 mm along (0, cos 30, sin 30) = (0, 4.330127, 2.5).
    pytest.param(OBLIQUE, (10, 4), (-92.0, 50.0 + 5 * SQRT3_2, 22.5), id="oblique-30"),
    pytest.param(SAGITTAL, (50, 20), (-5.0, -80.0, 150.0), id="sagittal"),
]


@pytest.mark.parametrize(("plane", "pixel", "expected"), CASES)
def test_to_patient_hand_computed(plane: Plane, pixel, expected) -> None:
    np.testing.assert_allclose(plane.to_patient(*pixel), expected, atol=1e-12)


@pytest.mark.parametrize(("plane", "pixel", "point"), CASES)
def test_to_pixel_hand_computed(plane: Plane, pixel, point) -> None:
    row, col = plane.to_pixel(point)
    assert (float(row), float(col)) == pytest.approx(pixel, abs=1e-12)


@pytest.mark.parametrize(("plane", "pixel", "point"), CASES)
def test_to_pixel_projects_points_off_the_plane(plane: Plane, pixel, point) -> None:
    off_plane = np.asarray(point) + 7.0 * plane.normal

    row, col = plane.to_pixel(off_plane)

    assert (float(row), float(col)) == pytest.approx(pixel, abs=1e-12)
    assert float(plane.distance(off_plane)) == pytest.approx(7.0)


def test_normals_and_signed_distances() -> None:
    np.testing.assert_allclose(NON_SQUARE.normal, (0, 0, 1))
    np.testing.assert_allclose(OBLIQUE.normal, (0, -0.5, SQRT3_2))
    np.testing.assert_allclose(SAGITTAL.normal, (-1, 0, 0))
    assert float(NON_SQUARE.distance((0, 0, 37.0))) == pytest.approx(7.0)
    assert float(NON_SQUARE.distance((0, 0, 25.0))) == pytest.approx(-5.0)
    assert float(SAGITTAL.distance((-8.0, 3.0, 4.0))) == pytest.approx(3.0)
    # (0, 10, 5) from the oblique origin: 10 * -0.5 + 5 * cos 30.
    assert float(OBLIQUE.distance((-100.0, 60.0, 25.0))) == pytest.approx(-5 + 5 * SQRT3_2)


def test_transforms_are_vectorised() -> None:
    rows = np.array([[0, 4], [-2, 0]])
    cols = np.array([[0, 3], [10.5, 0]])

    points = NON_SQUARE.to_patient(rows, cols)

    assert points.shape == (2, 2, 3)
    np.testing.assert_allclose(points[0, 1], (16.0, 22.0, 30.0))
    np.testing.assert_allclose(points[1, 0], (31.0, 19.0, 30.0))
    back_rows, back_cols = NON_SQUARE.to_pixel(points)
    np.testing.assert_allclose(back_rows, rows, atol=1e-12)
    np.testing.assert_allclose(back_cols, cols, atol=1e-12)
    np.testing.assert_allclose(NON_SQUARE.distance(points), np.zeros((2, 2)), atol=1e-12)


def test_pixel_to_patient_matrix_agrees_with_to_patient() -> None:
    matrix = OBLIQUE.pixel_to_patient_matrix()

    for row, col, depth in [(10, 4, 0.0), (0, 0, 0.0), (3.5, 7.25, 2.0)]:
        homogeneous = matrix @ np.array([col, row, depth, 1.0])
        expected = OBLIQUE.to_patient(row, col) + depth * OBLIQUE.normal
        np.testing.assert_allclose(homogeneous[:3], expected, atol=1e-12)
        assert homogeneous[3] == 1.0


def test_from_dicom_keeps_shape_and_normalises_directions() -> None:
    plane = Plane.from_dicom([1, 2, 3], [2, 0, 0, 0, 0, -3], ["0.7", "0.9"], 10, 20)

    assert plane.shape == (10, 20)
    assert plane.spacing == (0.7, 0.9)
    np.testing.assert_allclose(plane.row_dir, (1, 0, 0))
    np.testing.assert_allclose(plane.col_dir, (0, 0, -1))
    np.testing.assert_allclose(plane.normal, (0, 1, 0))
    with pytest.raises(ValueError, match="read-only"):
        plane.origin[0] = 5.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"row_dir": (0, 0, 0)}, r"row direction.*non-zero", id="zero-row"),
        pytest.param({"col_dir": (0, 0, 0)}, r"column direction.*non-zero", id="zero-column"),
        pytest.param({"row_dir": (np.nan, 0, 0)}, r"non-zero", id="nan-row"),
        pytest.param(
            {"col_dir": (0.5, SQRT3_2, 0)}, r"not orthogonal.*0\.5000", id="non-orthogonal"
        ),
        pytest.param({"spacing": (0.0, 1.0)}, r"pixel spacing must be positive", id="zero-dr"),
        pytest.param({"spacing": (1.0, -2.0)}, r"pixel spacing must be positive", id="neg-dc"),
        pytest.param({"spacing": (np.nan, 1.0)}, r"pixel spacing must be positive", id="nan"),
        pytest.param({"spacing": (np.inf, 1.0)}, r"pixel spacing must be positive", id="inf"),
    ],
)
def test_invalid_plane_is_refused_with_the_problem_named(kwargs, message) -> None:
    arguments = {
        "origin": (0.0, 0.0, 0.0),
        "row_dir": (1.0, 0.0, 0.0),
        "col_dir": (0.0, 1.0, 0.0),
        "spacing": (1.0, 1.0),
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        Plane(**arguments)


def test_orientation_with_wrong_value_count_is_refused() -> None:
    with pytest.raises(ValueError, match="ImageOrientationPatient needs 6 values, got 5"):
        Plane.from_dicom((0, 0, 0), (1, 0, 0, 0, 1), (1, 1))


# -- property: to_pixel inverts to_patient for any valid plane -------------------------------

finite = st.floats(-1.0, 1.0, allow_nan=False)
vectors = st.tuples(finite, finite, finite).filter(lambda v: np.linalg.norm(v) > 0.1)


@st.composite
def planes(draw) -> Plane:
    """A random orthonormal orientation (Gram-Schmidt), origin and non-square spacing."""
    x = np.asarray(draw(vectors))
    x /= np.linalg.norm(x)
    y = np.asarray(draw(vectors))
    y -= (y @ x) * x
    if np.linalg.norm(y) < 0.1:
        y = np.cross(x, [1.0, 0.0, 0.0] if abs(x[0]) < 0.9 else [0.0, 1.0, 0.0])
    y /= np.linalg.norm(y)
    origin = draw(st.tuples(*[st.floats(-500, 500, allow_nan=False)] * 3))
    spacing = draw(st.tuples(st.floats(0.05, 10.0), st.floats(0.05, 10.0)))
    return Plane(np.asarray(origin), x, y, spacing)


pixel_coords = st.floats(-2000, 2000, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(plane=planes(), row=pixel_coords, col=pixel_coords)
def test_to_pixel_inverts_to_patient(plane: Plane, row: float, col: float) -> None:
    point = plane.to_patient(row, col)

    back_row, back_col = plane.to_pixel(point)

    assert float(back_row) == pytest.approx(row, abs=1e-6)
    assert float(back_col) == pytest.approx(col, abs=1e-6)
    assert float(plane.distance(point)) == pytest.approx(0.0, abs=1e-6)
    # Moving one pixel along a row moves dc mm; one pixel down a column moves dr mm.
    dr, dc = plane.spacing
    assert np.linalg.norm(plane.to_patient(row, col + 1) - point) == pytest.approx(dc)
    assert np.linalg.norm(plane.to_patient(row + 1, col) - point) == pytest.approx(dr)


@settings(max_examples=200, deadline=None)
@given(plane=planes(), point=st.tuples(*[st.floats(-1000, 1000, allow_nan=False)] * 3))
def test_any_point_is_its_projection_plus_distance_along_the_normal(plane: Plane, point) -> None:
    row, col = plane.to_pixel(point)

    rebuilt = plane.to_patient(row, col) + plane.distance(point) * plane.normal

    np.testing.assert_allclose(rebuilt, point, atol=1e-6)


def test_moved_to_is_the_plane_from_dicom_at_the_new_position() -> None:
    import numpy as np

    from spineviewer.geometry import Plane

    iop = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    first = Plane.from_dicom((10.0, -5.0, 30.0), iop, (0.5, 0.75), 320, 256)
    moved = first.moved_to((14.0, -5.0, 30.0))
    built = Plane.from_dicom((14.0, -5.0, 30.0), iop, (0.5, 0.75), 320, 256)
    for name in ("origin", "row_dir", "col_dir", "normal"):
        np.testing.assert_array_equal(getattr(moved, name), getattr(built, name))
    assert (moved.spacing, moved.shape) == (built.spacing, built.shape)
    assert not moved.origin.flags.writeable
    np.testing.assert_array_equal(first.origin, (10.0, -5.0, 30.0))  # the first is unchanged
    assert moved.to_pixel(built.to_patient(7, 9)) == (7.0, 9.0)
